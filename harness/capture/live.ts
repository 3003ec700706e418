/**
 * Live capture with tcpdump or dumpcap (the CaptureSession contract in capture-session.ts). start()
 * waits for the tool's own "listening"/"Capturing on" line; stop() sends SIGINT, which makes both
 * tools close the file.
 *
 * Measured on dumpcap 4.0 (libpcap TPACKET_V3, no immediate mode): it prints "Capturing on" ~100–200 ms
 * before packets are really taken, and on SIGINT it drops packets still in the current ring block
 * (retired every 250 ms). So for dumpcap start() waits a settle time after the line and stop() lingers
 * before the signal. tcpdump runs with --immediate-mode and needs neither.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { ZtError } from "../errors.ts";
import type { CaptureSession } from "./capture-session.ts";

export class CaptureToolError extends ZtError {}

export interface ToolCaptureOptions {
  tool: "tcpdump" | "dumpcap";
  iface: string;
  file: string;
  filter?: string;
  /** dumpcap writes pcapng unless asked for pcap; tcpdump writes pcap only. */
  format?: "pcap" | "pcapng";
  startTimeoutMs?: number;
}

const SETTLE_MS = { tcpdump: 0, dumpcap: 400 };
const LINGER_MS = { tcpdump: 50, dumpcap: 400 };

export class ToolCapture implements CaptureSession {
  readonly file: string;
  readonly format: "pcap" | "pcapng";
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;
  private stderr = "";

  constructor(private readonly opts: ToolCaptureOptions) {
    this.file = opts.file;
    this.format = opts.tool === "tcpdump" ? "pcap" : (opts.format ?? "pcapng");
    if (opts.tool === "tcpdump" && opts.format === "pcapng") throw new CaptureToolError("tcpdump", "writes pcap only; use dumpcap for pcapng");
  }

  private args(): string[] {
    const { tool, iface, file, filter } = this.opts;
    if (tool === "tcpdump") return ["-i", iface, "-w", file, "-U", "-n", "-s", "0", "-B", "8192", "--immediate-mode", "-Z", "root", ...(filter ? [filter] : [])];
    return ["-i", iface, "-w", file, "-B", "8", ...(this.format === "pcap" ? ["-P"] : []), ...(filter ? ["-f", filter] : [])];
  }

  start(): Promise<void> {
    if (this.child) return Promise.resolve();
    const { tool } = this.opts;
    const child = spawn(tool, this.args(), { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const ready = tool === "tcpdump" ? /listening on/ : /Capturing on/;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new CaptureToolError(tool, `did not start capturing within ${this.opts.startTimeoutMs ?? 10000} ms: ${this.stderr.trim()}`));
      }, this.opts.startTimeoutMs ?? 10000);
      child.stderr!.on("data", (d: Buffer) => {
        this.stderr += d.toString();
        if (ready.test(this.stderr)) {
          clearTimeout(timer);
          setTimeout(resolve, SETTLE_MS[tool]);
        }
      });
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(new CaptureToolError(tool, `cannot run: ${err.message}`));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new CaptureToolError(tool, `exited with ${code} before capturing: ${this.stderr.trim().split("\n").at(-1) ?? ""}`));
      });
    });
  }

  async stop(): Promise<void> {
    if (!this.child || !this.exited) return;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise((r) => setTimeout(r, LINGER_MS[this.opts.tool]));
      this.child.kill("SIGINT");
    }
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
