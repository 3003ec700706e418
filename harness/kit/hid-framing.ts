/**
 * The kit protocol's USB HID framing (KIT-FACTS §2): 64-byte reports carrying ASCII lines that end in
 * `\n`. The host pads its last report with 0x04 (and prefixes a report id 0x00 when writing through
 * node-hid); the device pads with 0x00. Readers skip padding and leading non-printables, as Microchip's
 * host scripts do, and give back whole lines.
 */
export const REPORT_SIZE = 64;

/** Split a line into 64-byte reports padded with `pad` (0x04 host → device, 0x00 device → host). */
export function toReports(line: string | Buffer, pad: 0x04 | 0x00): Buffer[] {
  const data = Buffer.isBuffer(line) ? line : Buffer.from(line, "ascii");
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += REPORT_SIZE) {
    const chunk = data.subarray(i, i + REPORT_SIZE);
    out.push(Buffer.concat([chunk, Buffer.alloc(REPORT_SIZE - chunk.length, pad)]));
  }
  return out;
}

/**
 * Collects report payloads into lines, as Microchip's host code reads the kit: padding (0x00, 0x04) and
 * non-printables before a line starts are dropped, and a report's bytes after the `\n` that ends a line
 * are discarded (firmware v2.2.5 answers NOT_SUPPORTED with `04()\n` followed by the rest of the
 * request's bytes). A line longer than `limit` (a bound on what a misbehaving device can make the host
 * hold) comes back as null.
 */
export class LineAssembler {
  private buf: number[] = [];
  private overflowed = false;

  constructor(private readonly limit: number) {}

  /** Feed one report (or any bytes); returns the complete lines (without the newline). */
  push(bytes: Uint8Array): (string | null)[] {
    const lines: (string | null)[] = [];
    for (const b of bytes) {
      if (b === 0x0a) {
        lines.push(this.overflowed ? null : Buffer.from(this.buf).toString("latin1"));
        this.buf = [];
        this.overflowed = false;
        break;
      } else if (b === 0x00 || b === 0x04 || (this.buf.length === 0 && b <= 0x20)) {
        continue;
      } else if (this.buf.length >= this.limit) {
        this.overflowed = true;
      } else {
        this.buf.push(b);
      }
    }
    return lines;
  }
}

/** A kit protocol reply line: `XX(DATA)`. */
export const REPLY = /^([0-9a-zA-Z]{2})\(([^)]*)\)/;
