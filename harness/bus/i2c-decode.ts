/**
 * I2C transfers from a logic-analyzer trace, decoded by sigrok: `sigrok-cli` reads the file (a VCD or a
 * sigrok session file), its own i2c protocol decoder turns SDA/SCL into start/address/data/ack/stop
 * annotations with sample numbers, and this module only groups those annotations into transfers. No
 * I2C bit decoding is done here. Errors name the file and what sigrok said.
 */
import { execFile } from "node:child_process";
import { ZtError } from "../errors.ts";

export class BusDecodeError extends ZtError {}

export interface I2cTransfer {
  /** Sample numbers of the START and of the STOP (or of the next START). */
  startSample: number;
  endSample: number;
  /** 7-bit address; null when the address byte never completed. */
  address: number | null;
  read: boolean;
  /** The address byte was acknowledged. */
  acked: boolean;
  bytes: number[];
}

export interface I2cTrace {
  file: string;
  samplerate: number;
  transfers: I2cTransfer[];
  /** What sigrok's decoder warned about, with sample numbers. */
  warnings: string[];
}

export interface ChannelNames {
  scl: string;
  sda: string;
}

function sigrok(args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("sigrok-cli", args, { maxBuffer: 1 << 30, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new BusDecodeError(what, code === "ENOENT" ? "sigrok-cli is not installed (Debian: apt-get install sigrok-cli)" : `sigrok-cli failed: ${(stderr || err.message).trim().split("\n").slice(-2).join(" ")}`));
      } else resolve(stdout);
    });
  });
}

/** The input format option for sigrok-cli: VCD by name, anything else left to sigrok (srzip session files). */
function inputArgs(file: string): string[] {
  return /\.vcd$/i.test(file) ? ["-i", file, "-I", "vcd"] : ["-i", file];
}

export async function decodeI2c(file: string, channels: ChannelNames = { scl: "scl", sda: "sda" }): Promise<I2cTrace> {
  const show = await sigrok([...inputArgs(file), "--show"], file);
  const rate = /Samplerate:\s*(\d+)/.exec(show);
  if (!rate) throw new BusDecodeError(file, "sigrok reports no samplerate for this trace");
  const names = [...show.matchAll(/^- (\S+): logic$/gm)].map((m) => m[1]!);
  for (const ch of [channels.scl, channels.sda]) if (!names.includes(ch)) throw new BusDecodeError(file, `no channel "${ch}" in the trace (it has ${names.join(", ") || "none"})`);
  const out = await sigrok([...inputArgs(file), "-P", `i2c:scl=${channels.scl}:sda=${channels.sda}`, "-A", "i2c=addr-data:warnings", "--protocol-decoder-samplenum"], file);
  return { file, samplerate: Number(rate[1]), ...groupTransfers(out) };
}

/** Annotation lines (`START-END i2c-1: TEXT`) into transfers; malformed ones are kept as they are. */
export function groupTransfers(text: string): { transfers: I2cTransfer[]; warnings: string[] } {
  const transfers: I2cTransfer[] = [];
  const warnings: string[] = [];
  let cur: I2cTransfer | null = null;
  let expectAck: "address" | "data" | null = null;
  const close = (at: number) => {
    if (cur) {
      cur.endSample = at;
      transfers.push(cur);
    }
    cur = null;
    expectAck = null;
  };
  for (const line of text.split("\n")) {
    const m = /^(\d+)-(\d+) i2c-\d+: (.*)$/.exec(line.trim());
    if (!m) continue;
    const start = Number(m[1]);
    const end = Number(m[2]);
    const what = m[3]!;
    let a: RegExpExecArray | null;
    if (what === "Start" || what === "Start repeat") {
      close(start);
      cur = { startSample: start, endSample: start, address: null, read: false, acked: false, bytes: [] };
    } else if (what === "Stop") close(end);
    else if ((a = /^Address (read|write): ([0-9A-Fa-f]{2})$/.exec(what))) {
      if (!cur) cur = { startSample: start, endSample: start, address: null, read: false, acked: false, bytes: [] };
      cur.address = parseInt(a[2]!, 16);
      cur.read = a[1] === "read";
      expectAck = "address";
    } else if ((a = /^Data (read|write): ([0-9A-Fa-f]{2})$/.exec(what))) {
      if (cur) cur.bytes.push(parseInt(a[2]!, 16));
      expectAck = "data";
    } else if (what === "ACK" || what === "NACK") {
      if (cur && expectAck === "address") cur.acked = what === "ACK";
      expectAck = null;
    } else if (what !== "Read" && what !== "Write") warnings.push(`sample ${start}: ${what}`); // Read/Write: the R/W bit
  }
  if (cur) close((cur as I2cTransfer).endSample);
  return { transfers, warnings };
}
