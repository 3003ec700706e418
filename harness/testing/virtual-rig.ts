/**
 * A virtual kit on loopback ports for tests, reached only through those ports: the kit protocol over
 * the HID port (KitClient, or raw reports for byte-exact checks), the console port (lines collected),
 * the control port (JSON requests). `labCloud` puts an emulator behind a DNS name on port 8883, as a
 * v2.2.5 kit needs it.
 */
import { X509Certificate } from "node:crypto";
import { connect } from "node:net";
import { Recorder } from "../capture/recorder.ts";
import { KitClient } from "../kit/kit-client.ts";
import { jsonLineClient } from "../transport/json-lines.ts";
import { TcpReportLink } from "../transport/report-link.ts";
import { VirtualKit, type VirtualKitOptions } from "../../rigs/virtual-kit/virtual-kit.ts";
import { servePorts, type ServedPorts } from "../../rigs/virtual-kit/ports.ts";

export interface VirtualRig {
  kit: KitClient;
  /** The twin itself, for what a bench reaches physically (a logic analyzer's probe on the ATECC bus). */
  twin: VirtualKit;
  /**
   * Send raw reports (the bytes given, cut in 64-byte reports padded with `pad`) on a connection of its
   * own and return the kit's reply bytes up to and including the first `\n` plus the rest of that
   * report, or null when nothing comes within `timeoutMs`.
   */
  raw(bytes: Buffer | string, opts?: { pad?: number; timeoutMs?: number }): Promise<Buffer | null>;
  ports: ServedPorts;
  console: string[];
  control(req: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Resolve when a console line matches (lines already seen count). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startVirtualRig(opts: Omit<VirtualKitOptions, "trust"> & { trustPem?: string }): Promise<VirtualRig> {
  const twin = new VirtualKit({ ...opts, trust: opts.trustPem ? [new X509Certificate(opts.trustPem).raw] : [] });
  const ports = await servePorts(twin, { hid: 0, console: { kind: "tcp", port: 0 }, control: 0 });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const consoleSocket = connect(ports.console.kind === "tcp" ? ports.console.port : ports.console.tcpPort, "127.0.0.1");
  await new Promise((r) => consoleSocket.once("connect", r));
  let partial = "";
  consoleSocket.on("data", (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split("\r\n");
    partial = parts.pop()!;
    lines.push(...parts);
    waiters.splice(0).forEach((w) => w());
  });
  const controlClient = await jsonLineClient(ports.control);
  const control = controlClient.send;
  await control({ cmd: "power", state: "on" });
  const kit = new KitClient(await TcpReportLink.open("127.0.0.1", ports.hid));
  const raw = async (bytes: Buffer | string, o: { pad?: number; timeoutMs?: number } = {}): Promise<Buffer | null> => {
    const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, "latin1");
    const sock = connect(ports.hid, "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    let got = Buffer.alloc(0);
    const done = new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), o.timeoutMs ?? 5000);
      sock.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        for (let at = 0; at + 64 <= got.length; at += 64) {
          if (got.subarray(at, at + 64).includes(0x0a)) {
            clearTimeout(timer);
            return resolve(got.subarray(0, at + 64));
          }
        }
      });
    });
    for (let at = 0; at < data.length; at += 64) {
      const chunk = data.subarray(at, at + 64);
      sock.write(Buffer.concat([chunk, Buffer.alloc(64 - chunk.length, o.pad ?? 0x04)]));
    }
    const reply = await done;
    sock.destroy();
    if (!reply) return null;
    const nl = reply.indexOf(0x0a);
    // The reply is the bytes up to the first newline and what follows it in that report, padding trimmed.
    let end = reply.length;
    while (end > nl + 1 && reply[end - 1] === 0) end--;
    return reply.subarray(0, end);
  };
  return {
    kit,
    twin,
    raw,
    ports,
    console: lines,
    control,
    waitForLine: async (pattern, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find((l) => pattern.test(l));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) throw new Error(`no console line matching ${pattern} within ${timeoutMs} ms; last lines:\n${lines.slice(-8).join("\n")}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    stop: async () => {
      await control({ cmd: "power", state: "off" });
      await kit.close();
      consoleSocket.destroy();
      controlClient.close();
      await ports.close();
    },
  };
}

/** The ATS endpoint name the twins are provisioned with in tests. */
export const LAB_ENDPOINT = "ats.iot.zt-hil.test";

/**
 * The cloud as a v2.2.5 kit reaches it: port 8883 of a loopback address of its own (a recorder that
 * forwards to `target` and can write a pcap), and the lab DNS entry that names it.
 */
export async function labCloud(target: { host: string; port: number }, file?: string): Promise<{ recorder: Recorder; hosts: Record<string, string>; stop(): Promise<void> }> {
  const recorder = new Recorder({ target, listenHost: "free-loopback", listenPort: 8883, ...(file ? { file } : {}) });
  await recorder.start();
  return { recorder, hosts: { [LAB_ENDPOINT]: recorder.address.host }, stop: () => recorder.stop() };
}
