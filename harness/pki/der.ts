/**
 * A minimal DER TLV walker that reports byte offsets.
 *
 * Hand-written because the kit's certificate definitions are byte offsets into a template (where the
 * public key, the dates, the serial sit), and the ASN.1 libraries we use (@peculiar/asn1-schema)
 * decode to objects without telling where each field lies. Only definite-length DER is accepted.
 */
import { CertificateError } from "../errors.ts";

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first value byte. */
  valueStart: number;
  /** Value length in bytes. */
  length: number;
  /** Offset just past the value. */
  end: number;
}

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Read the TLV at `offset`; `what` names the input in errors. */
export function readTlv(buf: Uint8Array, offset: number, what = "DER"): Tlv {
  if (offset + 2 > buf.length) throw new CertificateError(what, `truncated at byte ${offset}: no room for a tag and length`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new CertificateError(what, `multi-byte tag at byte ${offset} is not supported`);
  let lenByte = buf[offset + 1]!;
  let valueStart = offset + 2;
  let length = lenByte;
  if (lenByte & 0x80) {
    const n = lenByte & 0x7f;
    if (n === 0 || n > 3) throw new CertificateError(what, `unsupported length form 0x${lenByte.toString(16)} at byte ${offset + 1}`);
    if (valueStart + n > buf.length) throw new CertificateError(what, `truncated length at byte ${offset + 1}`);
    length = 0;
    for (let i = 0; i < n; i++) length = (length << 8) | buf[valueStart + i]!;
    valueStart += n;
  }
  const end = valueStart + length;
  if (end > buf.length) throw new CertificateError(what, `element at byte ${offset} (tag 0x${tag.toString(16)}) claims ${length} bytes but only ${buf.length - valueStart} remain`);
  return { tag, start: offset, valueStart, length, end };
}

/** The TLVs directly inside a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv, what = "DER"): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.valueStart; at < parent.end; ) {
    const child = readTlv(buf, at, what);
    out.push(child);
    at = child.end;
  }
  return out;
}

export function isConstructed(tlv: Tlv): boolean {
  return (tlv.tag & 0x20) !== 0;
}

/** Encode a DER length. */
export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  if (length < 0x10000) return Buffer.from([0x82, length >> 8, length & 0xff]);
  return Buffer.from([0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
}

export function encodeTlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}
