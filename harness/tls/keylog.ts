/**
 * NSS key log files (the SSLKEYLOGFILE format Wireshark reads): `CLIENT_RANDOM <client random hex>
 * <master secret hex>` lines give the TLS 1.2 master secret of a session. Other labels (TLS 1.3
 * traffic secrets) and comments are ignored; a malformed CLIENT_RANDOM line is reported with its number.
 */
import { readFileSync } from "node:fs";
import { ZtError } from "../errors.ts";

export class KeyLogError extends ZtError {}

export type KeyLog = Map<string, Buffer>;

export function parseKeyLog(lines: Iterable<string>, where = "key log"): KeyLog {
  const out: KeyLog = new Map();
  let n = 0;
  for (const raw of lines) {
    n++;
    const line = raw.trim();
    if (!line || line.startsWith("#") || !line.startsWith("CLIENT_RANDOM ")) continue;
    const m = /^CLIENT_RANDOM ([0-9a-fA-F]{64}) ([0-9a-fA-F]{96})$/.exec(line);
    if (!m) throw new KeyLogError(`${where}:${n}`, "malformed CLIENT_RANDOM line (expected 64 hex digits of client random and 96 of master secret)");
    out.set(m[1]!.toLowerCase(), Buffer.from(m[2]!, "hex"));
  }
  return out;
}

export function readKeyLog(file: string): KeyLog {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new KeyLogError(file, `cannot read key log: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseKeyLog(text.split(/\r?\n/), file);
}

export function keyLogLine(clientRandom: Uint8Array, master: Uint8Array): string {
  return `CLIENT_RANDOM ${Buffer.from(clientRandom).toString("hex")} ${Buffer.from(master).toString("hex")}`;
}
