/**
 * Secrets out of everything a report shows: a Wi-Fi passphrase the firmware prints in clear on every
 * connect attempt and inside the hex dumps of the setWifi request (its JSON, and the same JSON as the
 * hex text of the kit-protocol line). Each secret is masked as text, as hex text (either case), and
 * inside a run of hex-dump lines — where a dump line may split it — by masking the dumped bytes and
 * printing the dump again in the firmware's own format.
 */
import { dumpLineBytes, hexDump } from "./hex-dump.ts";

const MASK = "*";

function escapeRe(t: string): string {
  return t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The forms a secret takes in text: itself, and its hex in either case. */
function forms(secret: string): string[] {
  const hex = Buffer.from(secret, "latin1").toString("hex");
  return [secret, hex, hex.toUpperCase()];
}

function maskText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) for (const f of forms(s)) out = out.replace(new RegExp(escapeRe(f), "g"), MASK.repeat(f.length));
  return out;
}

function maskBytes(bytes: Buffer, secrets: string[]): Buffer {
  const text = maskText(bytes.toString("latin1"), secrets);
  return Buffer.from(text, "latin1");
}

/** Mask `secrets` (none shorter than 4 characters is masked: too many false hits) in console lines. */
export function maskSecrets(lines: string[], secrets: (string | null | undefined)[]): string[] {
  const list = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  if (!list.length) return lines;
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    if (dumpLineBytes(lines[i]!) === null) {
      out.push(maskText(lines[i]!, list));
      i++;
      continue;
    }
    const start = i;
    const bytes: number[] = [];
    for (; i < lines.length; i++) {
      const b = dumpLineBytes(lines[i]!);
      if (b === null) break;
      bytes.push(...b);
    }
    const block = Buffer.from(bytes);
    const masked = maskBytes(block, list);
    if (masked.equals(block)) out.push(...lines.slice(start, i).map((l) => maskText(l, list)));
    else out.push(...hexDump(masked).split("\r\n").filter((l, k, all) => k < all.length - 1 || l !== ""));
  }
  return out;
}
