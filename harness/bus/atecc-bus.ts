/**
 * ATECC508A transactions from the I2C transfers of a bus trace, as cryptoauthlib drives the chip:
 * a wake token (a write to address 0x00) and the 4-byte wake status; a command (a write whose word
 * address is 0x03: count, opcode, param1, param2, data, CRC-16), the reads polled while it executes
 * (NACKed), then the response read (count … CRC-16); idle (0x02) and sleep (0x01). The execution time of a
 * command is the time from the end of its write to the first acknowledged read — bounded below by the
 * host's polling interval (cryptoauthlib 20190903: 1 ms, then every 2 ms). CRCs are checked; a transfer
 * that fits no pattern is reported with its sample number and the rest goes on.
 */
import { crc16, OPCODE } from "../kit/atecc-packet.ts";
import { summarize, type Summary } from "../latency/stats.ts";
import type { I2cTrace } from "./i2c-decode.ts";

export interface AteccTransaction {
  /** Seconds from the start of the trace to the command write's START. */
  start: number;
  sample: number;
  kind: "command" | "wake" | "idle" | "sleep" | "empty-command";
  opcode?: string;
  opcodeValue?: number;
  param1?: number;
  param2?: number;
  /** Command write end → first ACKed read, ms. */
  execMs?: number;
  polls?: number;
  /** "ok", the chip's status name, or what was wrong with the bytes on the bus. */
  status: string;
}

export interface AteccBusReport {
  file: string;
  samplerate: number;
  /** The device address the commands went to (7-bit). */
  address: number | null;
  transactions: AteccTransaction[];
  stats: Record<string, Summary>;
  problems: string[];
}

/** The datasheet's command names. */
const OPCODE_NAMES: Record<number, string> = {
  [OPCODE.read]: "Read",
  [OPCODE.write]: "Write",
  [OPCODE.nonce]: "Nonce",
  [OPCODE.lock]: "Lock",
  [OPCODE.random]: "Random",
  [OPCODE.info]: "Info",
  [OPCODE.genKey]: "GenKey",
  [OPCODE.sign]: "Sign",
  [OPCODE.ecdh]: "ECDH",
  [OPCODE.verify]: "Verify",
  [OPCODE.sha]: "SHA",
};

const STATUS_NAMES: Record<number, string> = { 0x00: "ok", 0x01: "verify miscompare", 0x03: "parse error", 0x05: "ECC fault", 0x07: "self-test error", 0x08: "health test error", 0x0f: "execution error", 0x11: "after wake", 0xee: "watchdog about to expire", 0xff: "CRC error" };

function crcOk(b: number[]): boolean {
  if (b.length < 3) return false;
  const c = crc16(Buffer.from(b.slice(0, -2)));
  return c[0] === b.at(-2) && c[1] === b.at(-1);
}

function responseStatus(bytes: number[]): string {
  if (bytes.length < 4 || bytes[0] !== bytes.length) return `malformed response (count ${bytes[0] ?? "none"}, ${bytes.length} bytes read)`;
  if (!crcOk(bytes)) return "response CRC mismatch";
  if (bytes[0] === 4) return STATUS_NAMES[bytes[1]!] ?? `status 0x${bytes[1]!.toString(16).padStart(2, "0")}`;
  return "ok";
}

export function ateccTransactions(trace: I2cTrace): AteccBusReport {
  const sec = (sample: number) => sample / trace.samplerate;
  const ms = (samples: number) => Math.round((samples / trace.samplerate) * 1e6) / 1e3;
  const out: AteccTransaction[] = [];
  const problems: string[] = [...trace.warnings];
  const t = trace.transfers;
  let address: number | null = null;
  for (let i = 0; i < t.length; i++) {
    const x = t[i]!;
    const at = { start: sec(x.startSample), sample: x.startSample };
    if (x.address === null) {
      problems.push(`sample ${x.startSample}: a transfer without a complete address byte`);
      continue;
    }
    if (x.address === 0x00 && !x.read) {
      const reply = t[i + 1];
      if (reply && reply.read && reply.acked && reply.address !== 0) {
        i++;
        const ok = reply.bytes.length === 4 && crcOk(reply.bytes);
        out.push({ ...at, kind: "wake", status: !ok ? "malformed wake status" : (STATUS_NAMES[reply.bytes[1]!] ?? `status 0x${reply.bytes[1]!.toString(16)}`) });
      } else out.push({ ...at, kind: "wake", status: "no answer" });
      continue;
    }
    if (x.read) {
      problems.push(`sample ${x.startSample}: a read from 0x${x.address.toString(16)} with no command before it`);
      continue;
    }
    address ??= x.address;
    const word = x.bytes[0];
    if (!x.acked) {
      out.push({ ...at, kind: word === 0x02 ? "idle" : word === 0x01 ? "sleep" : "command", status: "not acknowledged" });
      continue;
    }
    if (word === 0x02 || word === 0x01) {
      out.push({ ...at, kind: word === 0x02 ? "idle" : "sleep", status: "ok" });
      continue;
    }
    if (word !== 0x03) {
      problems.push(`sample ${x.startSample}: a write with word address ${word === undefined ? "(none)" : `0x${word.toString(16)}`}`);
      continue;
    }
    // The reads that follow: NACKed polls, then the response.
    let polls = 0;
    let j = i + 1;
    while (j < t.length && t[j]!.read && !t[j]!.acked) (polls++, j++);
    const resp = t[j]?.read && t[j]!.acked ? t[j]! : null;
    i = resp ? j : j - 1;
    const packet = x.bytes.slice(1);
    if (packet.length === 0) {
      out.push({ ...at, kind: "empty-command", polls, status: resp ? `read ${Buffer.from(resp.bytes).toString("hex")} without a command` : "no response" });
      continue;
    }
    const tx: AteccTransaction = { ...at, kind: "command", polls, status: "ok" };
    if (packet.length >= 7 && packet[0] === packet.length) {
      tx.opcodeValue = packet[1]!;
      tx.opcode = OPCODE_NAMES[packet[1]!] ?? `0x${packet[1]!.toString(16).padStart(2, "0")}`;
      tx.param1 = packet[2]!;
      tx.param2 = packet[3]! | (packet[4]! << 8);
    }
    if (packet[0] !== packet.length) tx.status = `malformed command (count ${packet[0]}, ${packet.length} bytes written)`;
    else if (!crcOk(packet)) tx.status = "command CRC mismatch";
    else if (!resp) tx.status = "no response";
    else {
      tx.execMs = ms(resp.startSample - x.endSample);
      tx.status = responseStatus(resp.bytes);
    }
    if (tx.status !== "ok" && !STATUS_NAMES_VALUES.has(tx.status)) problems.push(`sample ${x.startSample}: ${tx.opcode ?? "command"}: ${tx.status}`);
    out.push(tx);
  }
  const byOp = new Map<string, number[]>();
  for (const tx of out) if (tx.kind === "command" && tx.opcode && tx.execMs !== undefined) byOp.set(tx.opcode, [...(byOp.get(tx.opcode) ?? []), tx.execMs]);
  const stats = Object.fromEntries([...byOp].map(([op, v]) => [op, summarize(op, v)]));
  return { file: trace.file, samplerate: trace.samplerate, address, transactions: out, stats, problems };
}

/** Chip statuses are answers, not bus problems. */
const STATUS_NAMES_VALUES = new Set(Object.values(STATUS_NAMES));

/** A readable listing: one line per transaction, then the statistics per command. */
export function formatBusReport(r: AteccBusReport): string {
  const lines = [`${r.file}: ${r.transactions.length} ATECC transactions at I2C address 0x${(r.address ?? 0).toString(16)} (${r.samplerate / 1e6} MHz samples)`];
  for (const t of r.transactions) {
    const what = t.kind === "command" ? `${t.opcode ?? "?"} p1=0x${(t.param1 ?? 0).toString(16)} p2=0x${(t.param2 ?? 0).toString(16)}${t.execMs !== undefined ? ` ${t.execMs} ms (${t.polls} polls)` : ""}` : t.kind;
    lines.push(`${t.start.toFixed(6).padStart(12)} s  ${what}  ${t.status}`);
  }
  lines.push("", "command      n      p50      p95      max   (ms, end of command write → first ACKed read)");
  for (const s of Object.values(r.stats)) lines.push(`${s.name.padEnd(8)} ${String(s.n).padStart(5)} ${String(s.p50).padStart(8)} ${String(s.p95 ?? "–").padStart(8)} ${String(s.max).padStart(8)}`);
  for (const p of r.problems) lines.push(`problem: ${p}`);
  return lines.join("\n");
}
