/**
 * The EDBG console (115200 8N1, log only): bindings for a serial port (serialport, by path or by the
 * USB serial number of the EDBG), a TCP port (ser2net, or the virtual kit). The console keeps the whole
 * log with arrival times, and `expect(pattern)` waits for a line, naming the pattern, the port and the
 * last lines seen when it times out. Bytes that are not text (line noise) are shown escaped, never dropped.
 */
import { connect, type Socket } from "node:net";
import { ZtError } from "../errors.ts";
import type { Rig } from "../config/lab-schema.ts";
import { maskSecrets } from "./mask.ts";

export class ConsoleError extends ZtError {}

export interface ConsoleLine {
  time: number;
  text: string;
}

type Source = { write?: never; close(): Promise<void>; onData(cb: (d: Buffer) => void): void; onClose(cb: (reason: string) => void): void };

function printable(raw: string): string {
  return raw.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export class KitConsole {
  readonly lines: ConsoleLine[] = [];
  private partial = "";
  private secrets: string[] = [];
  private waiters: (() => void)[] = [];
  private closedReason: string | null = null;
  private followers: ((line: ConsoleLine) => void)[] = [];

  private constructor(
    readonly description: string,
    private readonly source: Source,
  ) {
    source.onData((d) => {
      this.partial += d.toString("latin1");
      const parts = this.partial.split(/\r?\n/);
      this.partial = parts.pop()!;
      const fresh = parts.map((p) => ({ time: Date.now(), text: printable(p) }));
      this.lines.push(...fresh);
      if (this.followers.length) for (const l of this.masked(fresh)) this.followers.forEach((f) => f(l));
      this.waiters.splice(0).forEach((w) => w());
    });
    source.onClose((reason) => {
      this.closedReason = reason;
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static async tcp(host: string, port: number): Promise<KitConsole> {
    const where = `console tcp:${host}:${port}`;
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = connect(port, host);
      s.once("connect", () => resolve(s));
      s.once("error", (err) => reject(new ConsoleError(where, `cannot connect: ${err.message}`)));
    });
    return new KitConsole(where, {
      close: async () => void socket.destroy(),
      onData: (cb) => socket.on("data", cb),
      onClose: (cb) => socket.on("close", () => cb("connection closed")),
    });
  }

  static async serial(sel: { path?: string; usbSerial?: string; baudRate: number }): Promise<KitConsole> {
    const { SerialPort } = await import("serialport");
    let path = sel.path;
    if (!path) {
      const found = (await SerialPort.list()).find((p) => p.serialNumber === sel.usbSerial);
      if (!found) throw new ConsoleError(`console usb serial ${sel.usbSerial}`, "no serial port with that USB serial number is attached");
      path = found.path;
    }
    const where = `console ${path}`;
    const port = new SerialPort({ path, baudRate: sel.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new ConsoleError(where, `cannot open: ${err.message}`)) : resolve())));
    return new KitConsole(where, {
      close: () => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())),
      onData: (cb) => port.on("data", cb),
      onClose: (cb) => port.on("close", () => cb("port closed")),
    });
  }

  /** Open the console a rig description names; `virtualPort` is the virtual kit's console port. */
  static open(rig: Rig, virtualPort?: number): Promise<KitConsole> {
    const c = rig.kit.console;
    if (c.kind === "virtual") {
      if (virtualPort === undefined) throw new ConsoleError(rig.name, "a virtual console needs a virtual kit");
      return KitConsole.tcp("127.0.0.1", virtualPort);
    }
    if (c.kind === "tcp") return KitConsole.tcp(c.host, c.port);
    return KitConsole.serial({ ...(c.path ? { path: c.path } : {}), ...(c.usbSerial ? { usbSerial: c.usbSerial } : {}), baudRate: c.baudRate });
  }

  /**
   * Secrets (a Wi-Fi passphrase) that text() and error messages mask wherever the firmware prints them;
   * lines, since() and expect() keep the raw text for the harness's own checks.
   */
  hideSecrets(secrets: (string | null | undefined)[]): void {
    this.secrets = secrets.filter((s): s is string => typeof s === "string");
  }

  private masked(lines: ConsoleLine[]): ConsoleLine[] {
    const texts = maskSecrets(
      lines.map((l) => l.text),
      this.secrets,
    );
    return texts.length === lines.length ? lines.map((l, i) => ({ time: l.time, text: texts[i]! })) : lines.map((l) => ({ time: l.time, text: maskSecrets([l.text], this.secrets)[0]! }));
  }

  /** Call `cb` with every line that arrives from now on, secrets masked (a person watching the console). */
  follow(cb: (line: ConsoleLine) => void): void {
    this.followers.push(cb);
  }

  /** Why the console closed (port closed, connection closed), or null while it is open. */
  get closed(): string | null {
    return this.closedReason;
  }

  /** A position in the log; expect() and since() look at lines from there. */
  mark(): number {
    return this.lines.length;
  }

  since(mark: number): ConsoleLine[] {
    return this.lines.slice(mark);
  }

  /** Wait for a line matching `pattern` at or after `from` (default: the start of the log). */
  async expect(pattern: RegExp, opts: { timeoutMs?: number; from?: number } = {}): Promise<ConsoleLine> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.slice(opts.from ?? 0).find((l) => pattern.test(l.text));
      if (hit) return hit;
      if (this.closedReason) throw new ConsoleError(this.description, `closed (${this.closedReason}) before a line matching ${pattern}`);
      if (Date.now() > deadline) {
        const tail = this.masked(this.lines.slice(-6)).map((l) => `  | ${l.text}`).join("\n");
        throw new ConsoleError(this.description, `no line matching ${pattern} within ${timeoutMs} ms; last lines:\n${tail}`);
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, Math.min(250, Math.max(1, deadline - Date.now())));
      });
    }
  }

  /** The log from `from`, one timestamped line each, secrets masked: what reports show. */
  text(from = 0): string {
    return this.masked(this.lines.slice(from))
      .map((l) => `${new Date(l.time).toISOString()} ${l.text}`)
      .join("\n");
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
