/**
 * A virtual kit on loopback ports for tests, reached only through those ports: the kit protocol over
 * the HID port (KitClient), the console port (lines collected), the control port (JSON requests).
 */
import { X509Certificate } from "node:crypto";
import { connect } from "node:net";
import { KitClient } from "../kit/kit-client.ts";
import { jsonLineClient } from "../transport/json-lines.ts";
import { TcpReportLink } from "../transport/report-link.ts";
import { VirtualKit, type VirtualKitOptions } from "../../rigs/virtual-kit/virtual-kit.ts";
import { servePorts, type ServedPorts } from "../../rigs/virtual-kit/ports.ts";

export interface VirtualRig {
  kit: KitClient;
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
  return {
    kit,
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
