/**
 * The bus-capture seam (beside CaptureSession, after node-serialport's bindings interface): a trace of
 * the SAM G55 ↔ ATECC508A I2C bus (SDA/SCL at the ATECC header) for one test. Two bindings:
 * - SigrokCapture (here): sigrok-cli with a logic analyzer from the lab file (e.g. fx2lafw, the
 *   Saleae-compatible FX2 boards), writing a sigrok session file (.sr);
 * - the virtual kit's own trace (rig.ts): the twin records its ATECC traffic and writes a VCD.
 *
 * Contract:
 * - start() resolves once the bus is being recorded; it rejects with the tool's own words otherwise.
 * - stop() resolves once `file` is complete and sigrok-cli reads it; calling it twice is harmless.
 * - startedAt is the wall-clock time (epoch ms) of the trace's first sample, to align it with a
 *   network capture (to the analyzer's start latency, a few ms, on real rigs).
 * - A capture never deletes its file: it is evidence for the report.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { ZtError } from "../errors.ts";

export interface BusCapture {
  readonly file: string;
  readonly format: "vcd" | "sr";
  /** The channel names of SCL and SDA in the file. */
  readonly channels: { scl: string; sda: string };
  readonly startedAt: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class BusCaptureError extends ZtError {}

export interface SigrokCaptureOptions {
  /** sigrok driver (fx2lafw, saleae-logic16, demo, ...), with its conn= if the lab names one. */
  driver: string;
  conn?: string;
  /** The analyzer's channels wired to SCL and SDA (e.g. D0, D1). */
  channels: { scl: string; sda: string };
  samplerate: number;
  file: string;
}

/**
 * sigrok-cli --continuous until stopped. sigrok-cli stops an acquisition on a key press on its
 * standard input (EOF included), so stop() writes a newline: SIGINT leaves no file (sigrok-cli 0.7.2).
 */
export class SigrokCapture implements BusCapture {
  readonly format = "sr" as const;
  readonly channels = { scl: "scl", sda: "sda" };
  startedAt = 0;
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;
  private output = "";

  constructor(private readonly opts: SigrokCaptureOptions) {}

  get file(): string {
    return this.opts.file;
  }

  start(): Promise<void> {
    if (this.child) return Promise.resolve();
    const { driver, conn, channels, samplerate, file } = this.opts;
    if (!existsSync(dirname(file))) return Promise.reject(new BusCaptureError(file, `cannot write the bus trace: ${dirname(file)} does not exist`));
    // Log level 3 makes sigrok-cli say when it acquires ("Press any key to stop acquisition.").
    const args = ["-l", "3", "-d", conn ? `${driver}:conn=${conn}` : driver, "--channels", `${channels.scl}=scl,${channels.sda}=sda`, "--config", `samplerate=${samplerate}`, "--continuous", "-o", file];
    const child = spawn("sigrok-cli", args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.exited = new Promise((r) => child.once("exit", (code) => r(code)));
    return new Promise((resolve, reject) => {
      const onData = (d: Buffer) => {
        this.output = (this.output + d.toString()).slice(-4000); // level 3 logs every packet: keep the tail
        if (/Press any key to stop acquisition/.test(this.output)) {
          this.startedAt = Date.now();
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("error", (err) => reject(new BusCaptureError("sigrok-cli", (err as NodeJS.ErrnoException).code === "ENOENT" ? "not installed (Debian: apt-get install sigrok-cli)" : err.message)));
      void this.exited!.then((code) => reject(new BusCaptureError(`sigrok-cli -d ${driver}`, `exited (${code}) before acquiring: ${this.output.trim().split("\n").slice(-2).join(" ")}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.stdin!.end("\n");
    const code = await this.exited;
    if (code !== 0 || !existsSync(this.opts.file)) throw new BusCaptureError(`sigrok-cli -d ${this.opts.driver}`, `${code !== 0 ? `exited ${code}` : "wrote no file"} while stopping: ${this.output.trim().split("\n").slice(-2).join(" ")}`);
  }
}
