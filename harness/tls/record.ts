/**
 * TLS record layer framing (RFC 5246 §6.2): a stream of bytes in, whole records out, and back.
 * A byte stream that is not TLS is a TlsDecodeError naming the offset, which is how the analyzer finds
 * TLS by content rather than by port.
 */
import { TlsDecodeError } from "./bytes.ts";

export interface TlsRecord {
  type: number;
  version: number;
  fragment: Buffer;
  /** Offset of the record header in its stream. */
  offset: number;
}

/** Largest record: 2^14 plaintext plus the expansion TLS 1.2 allows for protected records. */
export const MAX_RECORD = (1 << 14) + 2048;

export function encodeRecord(type: number, version: number, fragment: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + fragment.length);
  out[0] = type;
  out.writeUInt16BE(version, 1);
  out.writeUInt16BE(fragment.length, 3);
  out.set(fragment, 5);
  return out;
}

/** True if the 5 bytes at `at` look like a TLS record header. */
export function looksLikeRecordHeader(buf: Uint8Array, at = 0): boolean {
  if (buf.length - at < 5) return false;
  const type = buf[at]!;
  const major = buf[at + 1]!;
  const len = (buf[at + 3]! << 8) | buf[at + 4]!;
  return type >= 20 && type <= 24 && major === 3 && buf[at + 2]! <= 4 && len <= MAX_RECORD;
}

/** Incremental record reader over one direction of a connection. */
export class RecordReader {
  private buf = Buffer.alloc(0);
  private consumed = 0;

  constructor(private readonly what: string) {}

  push(data: Uint8Array): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : Buffer.from(data);
  }

  /** The next complete record, or null until more bytes arrive. */
  next(): TlsRecord | null {
    if (this.buf.length < 5) return null;
    if (!looksLikeRecordHeader(this.buf)) {
      throw new TlsDecodeError(this.what, `bytes at stream offset ${this.consumed} are not a TLS record header (${this.buf.subarray(0, 5).toString("hex")})`);
    }
    const length = this.buf.readUInt16BE(3);
    if (this.buf.length < 5 + length) return null;
    const rec = { type: this.buf[0]!, version: this.buf.readUInt16BE(1), fragment: this.buf.subarray(5, 5 + length), offset: this.consumed };
    this.buf = this.buf.subarray(5 + length);
    this.consumed += 5 + length;
    return rec;
  }

  /** Bytes received but not yet a whole record. */
  get pending(): number {
    return this.buf.length;
  }
}
