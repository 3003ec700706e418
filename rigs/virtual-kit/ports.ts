/**
 * The virtual kit's ports on loopback, each what the real one is on the bench:
 * - HID over TCP: raw 64-byte reports both ways (no report id byte), the kit protocol inside; every
 *   report goes to the firmware's USB callback as it is, and the firmware's reports to the client that
 *   wrote last;
 * - console over TCP (as ser2net exports a COM port), or a pty made by socat that host code opens with
 *   serialport exactly like the EDBG's virtual COM port;
 * - control over TCP: newline-delimited JSON, one reply line per request, for what a person does at
 *   the bench: {"cmd":"power","state":"on"|"off"|"cycle"}, {"cmd":"press","button":1..3},
 *   {"cmd":"leds"}, {"cmd":"status"}, {"cmd":"fault",...}; every reply carries "ok": true|false.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { ZtError } from "../../harness/errors.ts";
import { REPORT_SIZE } from "../../harness/kit/hid-framing.ts";
import type { TimingProfile } from "./atecc508a/timing.ts";
import type { VirtualKit } from "./virtual-kit.ts";

export type ConsoleSpec = { kind: "tcp"; port: number } | { kind: "pty"; path: string };

export interface ServedPorts {
  hid: number;
  console: { kind: "tcp"; port: number } | { kind: "pty"; path: string; tcpPort: number };
  control: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

/**
 * The kit's TARGET USB cable. Pulled (a person, a hub reset, a broken cable), the kit's HID device is
 * gone: the host's open link closes and new opens are refused until it is plugged back. The kit keeps
 * running on its own power (the EDBG USB), as a real kit does.
 */
interface UsbCable {
  plugged: boolean;
  readonly hosts: Set<Socket>;
}

/** The kit's IN reports go to the host that wrote last (one USB host has the device open at a time). */
function hidServer(kit: VirtualKit, cable: UsbCable): Server {
  let host: Socket | null = null;
  kit.on("hid", (report: Buffer) => {
    if (host && !host.destroyed) host.write(report);
  });
  return createServer((socket) => {
    if (!cable.plugged) return void socket.destroy();
    cable.hosts.add(socket);
    socket.on("close", () => cable.hosts.delete(socket));
    socket.setNoDelay(true);
    let pending = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => {
      host = socket;
      pending = Buffer.concat([pending, d]);
      while (pending.length >= REPORT_SIZE) {
        kit.hidReport(Buffer.from(pending.subarray(0, REPORT_SIZE)));
        pending = pending.subarray(REPORT_SIZE);
      }
    });
    socket.on("error", () => {});
  });
}

function consoleServer(kit: VirtualKit): Server {
  const clients = new Set<Socket>();
  kit.on("console-bytes", (text: string) => {
    for (const c of clients) c.write(text, "latin1");
  });
  return createServer((socket) => {
    clients.add(socket);
    socket.on("close", () => clients.delete(socket));
    socket.on("error", () => {});
    socket.on("data", () => {}); // the EDBG console ignores input
  });
}

type ControlRequest = { cmd?: unknown; state?: unknown; button?: unknown; slowFactor?: unknown; crcErrors?: unknown; wakeFailures?: unknown; timing?: unknown };

async function control(kit: VirtualKit, cable: UsbCable, req: ControlRequest): Promise<Record<string, unknown>> {
  switch (req.cmd) {
    case "usb":
      if (req.state !== "plugged" && req.state !== "unplugged") return { ok: false, error: 'usb needs "state": "plugged" | "unplugged"' };
      cable.plugged = req.state === "plugged";
      if (!cable.plugged) for (const h of cable.hosts) h.destroy();
      return { ok: true, usb: req.state };
    case "power":
      if (req.state !== "on" && req.state !== "off" && req.state !== "cycle") return { ok: false, error: 'power needs "state": "on" | "off" | "cycle"' };
      kit.power(req.state);
      return { ok: true, powered: kit.powered };
    case "press":
      if (req.button !== 1 && req.button !== 2 && req.button !== 3) return { ok: false, error: "press needs button 1, 2 or 3" };
      if (!kit.powered) return { ok: false, error: "the kit is powered off" };
      kit.press(req.button);
      return { ok: true };
    case "leds":
      return { ok: true, leds: kit.leds };
    case "status":
      return {
        ok: true,
        powered: kit.powered,
        provisioningState: kit.firmware.provisioningState,
        wifiState: kit.firmware.wifiState,
        buttons: kit.firmware.buttons,
        deltaHandlers: kit.firmware.deltaHandlers,
        attempts: kit.firmware.attempts.map((a) => ({ number: a.number, outcome: a.outcome })),
      };
    case "fault": {
      const f = kit.chip.faults;
      for (const k of ["slowFactor", "crcErrors", "wakeFailures"] as const) {
        const v = req[k];
        if (v === undefined) continue;
        if (typeof v !== "number" || v < 0 || !Number.isFinite(v)) return { ok: false, error: `fault ${k} must be a non-negative number` };
        f[k] = v;
      }
      if (req.timing !== undefined) {
        if (!["datasheet", "typical", "instant"].includes(req.timing as string)) return { ok: false, error: "timing must be datasheet, typical or instant" };
        kit.chip.timing = req.timing as TimingProfile;
      }
      return { ok: true, faults: { ...f, timing: kit.chip.timing } };
    }
    default:
      return { ok: false, error: `unknown cmd ${JSON.stringify(req.cmd)} (power, press, leds, status, fault, usb)` };
  }
}

function controlServer(kit: VirtualKit, cable: UsbCable): Server {
  return createServer((socket) => {
    let buf = "";
    let queue = Promise.resolve();
    socket.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const text = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!text) continue;
        queue = queue.then(async () => {
          let reply: Record<string, unknown>;
          try {
            reply = await control(kit, cable, JSON.parse(text) as ControlRequest);
          } catch (err) {
            reply = { ok: false, error: err instanceof SyntaxError ? `not JSON: ${text.slice(0, 80)}` : String(err) };
          }
          if (!socket.destroyed) socket.write(JSON.stringify(reply) + "\n");
        });
      }
    });
    socket.on("error", () => {});
  });
}

/** A pty at `path` bridged by socat to the console's TCP port. Resolves once the pty exists. */
async function ptyBridge(path: string, tcpPort: number): Promise<ChildProcess> {
  const child = spawn("socat", [`PTY,link=${path},raw,echo=0`, `TCP:127.0.0.1:${tcpPort}`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 100 && !existsSync(path); i++) {
    if (child.exitCode !== null) throw new ZtError(`--console pty:${path}`, `socat exited: ${stderr.trim()}`, { exitCode: 3 });
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!existsSync(path)) {
    child.kill();
    throw new ZtError(`--console pty:${path}`, `socat did not create the pty: ${stderr.trim() || "timed out"}`, { exitCode: 3 });
  }
  return child;
}

/** Every connection a server accepted, so closing the port closes its clients too. */
function tracked(server: Server): Server {
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("close", () => sockets.forEach((s) => s.destroy()));
  (server as Server & { destroyClients?: () => void }).destroyClients = () => sockets.forEach((s) => s.destroy());
  return server;
}

const closeServer = (s: Server) =>
  new Promise<void>((r) => {
    (s as Server & { destroyClients?: () => void }).destroyClients?.();
    s.close(() => r());
  });

export async function servePorts(kit: VirtualKit, spec: { hid: number; console: ConsoleSpec; control: number; host?: string }): Promise<ServedPorts> {
  const host = spec.host ?? "127.0.0.1";
  const cable: UsbCable = { plugged: true, hosts: new Set() };
  const servers = [tracked(hidServer(kit, cable)), tracked(consoleServer(kit)), tracked(controlServer(kit, cable))];
  const ports: number[] = [];
  const wanted = [["HID", spec.hid], ["console", spec.console.kind === "tcp" ? spec.console.port : 0], ["control", spec.control]] as const;
  let socat: ChildProcess | null = null;
  try {
    for (const [i, [what, port]] of wanted.entries()) {
      try {
        ports.push(await listen(servers[i]!, port, host));
      } catch (err) {
        throw new ZtError(`${what} port ${host}:${port}`, `cannot listen: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { exitCode: 3 });
      }
    }
    socat = spec.console.kind === "pty" ? await ptyBridge(spec.console.path, ports[1]!) : null;
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }
  const [hid, consoleTcp, ctl] = ports as [number, number, number];
  return {
    hid,
    console: spec.console.kind === "pty" ? { kind: "pty", path: spec.console.path, tcpPort: consoleTcp } : { kind: "tcp", port: consoleTcp },
    control: ctl,
    close: async () => {
      socat?.kill();
      await Promise.all(servers.map(closeServer));
    },
  };
}
