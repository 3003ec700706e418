/**
 * Bounds-checked readers and writers for TLS's length-prefixed wire structures (RFC 5246 §4).
 * Hand-written: Node's tls module does not expose handshake messages, and the kit's TLS must be
 * parsed, built and checked byte by byte (KIT-FACTS §7). Every read past the end is a TlsDecodeError
 * naming the structure and the offset.
 */
import { ZtError } from "../errors.ts";

export class TlsDecodeError extends ZtError {}

export class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, field: string): void {
    if (this.pos + n > this.end) throw new TlsDecodeError(this.what, `truncated ${field}: needs ${n} byte(s) at offset ${this.pos}, ${this.remaining} left`);
  }

  u8(field = "u8"): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  u16(field = "u16"): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(field = "u24"): number {
    this.need(3, field);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  bytes(n: number, field = "bytes"): Buffer {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  vec8(field: string): Buffer {
    return this.bytes(this.u8(`${field} length`), field);
  }

  vec16(field: string): Buffer {
    return this.bytes(this.u16(`${field} length`), field);
  }

  vec24(field: string): Buffer {
    return this.bytes(this.u24(`${field} length`), field);
  }

  /** A sub-reader over the next `n` bytes. */
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, `${this.what} ${what}`, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  expectEnd(): void {
    if (this.pos !== this.end) throw new TlsDecodeError(this.what, `${this.remaining} unexpected trailing byte(s) at offset ${this.pos}`);
  }
}

export class Writer {
  private parts: Buffer[] = [];

  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }

  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }

  u24(v: number): this {
    const b = Buffer.alloc(3);
    b.writeUIntBE(v, 0, 3);
    this.parts.push(b);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }

  vec8(b: Uint8Array): this {
    return this.u8(b.length).bytes(b);
  }

  vec16(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }

  vec24(b: Uint8Array): this {
    return this.u24(b.length).bytes(b);
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A list of u16 values as a u16-length-prefixed vector. */
export function u16List(values: readonly number[]): Buffer {
  const w = new Writer();
  for (const v of values) w.u16(v);
  return new Writer().vec16(w.finish()).finish();
}

export function readU16List(b: Buffer, what: string): number[] {
  if (b.length % 2) throw new TlsDecodeError(what, `odd length ${b.length} for a list of 16-bit values`);
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 2) out.push(b.readUInt16BE(i));
  return out;
}
