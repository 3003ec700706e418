/**
 * The HID seam (after node-serialport's bindings interface): a link that carries the kit's 64-byte
 * reports. Two bindings: node-hid for a kit on USB (TARGET USB, 04D8:0F32), and TCP for the virtual
 * kit, whose HID port carries raw 64-byte reports both ways.
 *
 * Contract:
 * - write() sends exactly one 64-byte report (no report id; node-hid's binding adds 0x00 itself) and
 *   resolves once it is handed to the OS.
 * - onReport() delivers each 64-byte report from the device, in order.
 * - A device that goes away (unplugged, powered off, socket closed) shows as one "close" with the reason;
 *   later writes reject. close() is idempotent.
 */
import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import { ZtError } from "../errors.ts";
import { REPORT_SIZE } from "../kit/hid-framing.ts";

export class LinkError extends ZtError {}

export interface ReportLink extends EventEmitter {
  readonly description: string;
  write(report: Buffer): Promise<void>;
  close(): Promise<void>;
  on(event: "report", cb: (report: Buffer) => void): this;
  on(event: "close", cb: (reason: string) => void): this;
}

/** The virtual kit's HID port: 64-byte reports over TCP. */
export class TcpReportLink extends EventEmitter implements ReportLink {
  private pending = Buffer.alloc(0);
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly description: string,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => {
      this.pending = Buffer.concat([this.pending, d]);
      while (this.pending.length >= REPORT_SIZE) {
        this.emit("report", Buffer.from(this.pending.subarray(0, REPORT_SIZE)));
        this.pending = this.pending.subarray(REPORT_SIZE);
      }
    });
    socket.on("close", () => this.finish("connection closed"));
    socket.on("error", (err) => this.finish(err.message));
  }

  static open(host: string, port: number): Promise<TcpReportLink> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host);
      s.once("connect", () => resolve(new TcpReportLink(s, `hid tcp:${host}:${port}`)));
      s.once("error", (err) => reject(new LinkError(`hid tcp:${host}:${port}`, `cannot connect: ${err.message}`)));
    });
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close", reason);
  }

  write(report: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new LinkError(this.description, "link is closed"));
    if (report.length !== REPORT_SIZE) return Promise.reject(new LinkError(this.description, `a report is ${REPORT_SIZE} bytes, got ${report.length}`));
    return new Promise((resolve, reject) => this.socket.write(report, (err) => (err ? reject(new LinkError(this.description, err.message)) : resolve())));
  }

  async close(): Promise<void> {
    this.socket.destroy();
    this.finish("closed by host");
  }
}

/** A kit on USB through node-hid (hidraw on Linux). */
export class NodeHidReportLink extends EventEmitter implements ReportLink {
  private closed = false;

  private constructor(
    private readonly device: import("node-hid").HIDAsync,
    readonly description: string,
  ) {
    super();
    device.on("data", (d: Buffer) => this.emit("report", Buffer.concat([d, Buffer.alloc(Math.max(0, REPORT_SIZE - d.length))]).subarray(0, REPORT_SIZE)));
    device.on("error", (err: Error) => this.finish(err.message));
  }

  /** Open by path, or by vid/pid (and serial number when several kits are attached). */
  static async open(sel: { path?: string; vid?: number; pid?: number; serial?: string }): Promise<NodeHidReportLink> {
    const HID = await import("node-hid");
    const where = sel.path ?? `${(sel.vid ?? 0).toString(16)}:${(sel.pid ?? 0).toString(16)}${sel.serial ? ` serial ${sel.serial}` : ""}`;
    try {
      const path = sel.path ?? (await HID.devicesAsync(sel.vid ?? 0x04d8, sel.pid ?? 0x0f32)).find((d) => !sel.serial || d.serialNumber === sel.serial)?.path;
      if (!path) throw new Error("no such HID device attached");
      return new NodeHidReportLink(await HID.HIDAsync.open(path), `hid ${where}`);
    } catch (err) {
      throw new LinkError(`hid ${where}`, `cannot open: ${(err as Error).message}`);
    }
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close", reason);
  }

  async write(report: Buffer): Promise<void> {
    if (this.closed) throw new LinkError(this.description, "link is closed");
    await this.device.write(Buffer.concat([Buffer.from([0x00]), report]));
  }

  async close(): Promise<void> {
    if (!this.closed) await this.device.close();
    this.finish("closed by host");
  }
}
