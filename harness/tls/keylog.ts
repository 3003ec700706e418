/**
 * NSS key log files (the SSLKEYLOGFILE format Wireshark reads): `CLIENT_RANDOM <client random hex>
 * <master secret hex>` lines give the TLS 1.2 master secret of a session. Other NSS labels (TLS 1.3
 * traffic secrets) and comments are skipped; a malformed CLIENT_RANDOM line, a line that is no key log
 * line at all, or a file (`readKeyLog`) with no key in it is reported with its number: a wrong file
 * given as a key log must not pass for "nothing to decrypt".
 */
import { readFileSync } from "node:fs";
import { ZtError } from "../errors.ts";

export class KeyLogError extends ZtError {}

export type KeyLog = Map<string, Buffer>;

/** The labels of the NSS key log format (TLS 1.2 and 1.3). */
const NSS_LABELS = /^(CLIENT_RANDOM|CLIENT_EARLY_TRAFFIC_SECRET|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EARLY_EXPORTER_SECRET|EXPORTER_SECRET|RSA) [0-9a-fA-F]+ [0-9a-fA-F]+$/;

export function parseKeyLog(lines: Iterable<string>, where = "key log"): KeyLog {
  const out: KeyLog = new Map();
  let n = 0;
  for (const raw of lines) {
    n++;
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (!line.startsWith("CLIENT_RANDOM ")) {
      if (!NSS_LABELS.test(line)) throw new KeyLogError(`${where}:${n}`, "not an NSS key log line (LABEL <client random hex> <secret hex>)");
      continue;
    }
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
  const keys = parseKeyLog(text.split(/\r?\n/), file);
  if (!keys.size) throw new KeyLogError(file, "holds no CLIENT_RANDOM line: no TLS 1.2 session can be decrypted with it");
  return keys;
}

export function keyLogLine(clientRandom: Uint8Array, master: Uint8Array): string {
  return `CLIENT_RANDOM ${Buffer.from(clientRandom).toString("hex")} ${Buffer.from(master).toString("hex")}`;
}
