/**
 * The 72-byte compressed certificate stored in slots 10 (device) and 12 (signer), and the signer's
 * slot-14 record holding what the compressed form cannot: the stored serial and the exact dates.
 *
 * Compressed layout: 0–63 signature R‖S, 64–66 encoded dates, 67–68 signer id (big-endian),
 * 69 template id (high nibble) | chain id (low), 70 serial source (high) | format version (low, 0), 71 zero.
 *
 * Slot 14 layout: serial at 4–19, issue date (13 ASCII bytes of a UTCTime) at 22–34, expire date at
 * 37–49, as the firmware's signer definition reads them. The bytes in front of each field (02 10,
 * 17 0D, 17 0D) are the DER tag and length of that field (inferred from the gaps); the rest is zero.
 */
import { CertificateError } from "../../errors.ts";
import { decodeDates, type CompressedDates } from "./dates.ts";

export const COMPRESSED_SIZE = 72;
export const SLOT_SIZE_72 = 72;

export interface CompressedCert {
  signature: Buffer;
  dates: CompressedDates;
  encodedDates: Buffer;
  signerId: number;
  templateId: number;
  chainId: number;
  serialSource: number;
  formatVersion: number;
}

export function encodeCompressed(c: Omit<CompressedCert, "dates">): Buffer {
  const out = Buffer.alloc(COMPRESSED_SIZE);
  c.signature.copy(out, 0);
  c.encodedDates.copy(out, 64);
  out.writeUInt16BE(c.signerId, 67);
  out[69] = ((c.templateId & 0x0f) << 4) | (c.chainId & 0x0f);
  out[70] = ((c.serialSource & 0x0f) << 4) | (c.formatVersion & 0x0f);
  return out;
}

export function decodeCompressed(bytes: Uint8Array, where = "compressed certificate"): CompressedCert {
  if (bytes.length !== COMPRESSED_SIZE) throw new CertificateError(where, `expected ${COMPRESSED_SIZE} bytes, got ${bytes.length}`);
  const b = Buffer.from(bytes);
  const formatVersion = b[70]! & 0x0f;
  if (formatVersion !== 0) throw new CertificateError(where, `format version ${formatVersion} is not supported (expected 0)`);
  const encodedDates = b.subarray(64, 67);
  return {
    signature: b.subarray(0, 64),
    encodedDates,
    dates: decodeDates(encodedDates),
    signerId: b.readUInt16BE(67),
    templateId: b[69]! >> 4,
    chainId: b[69]! & 0x0f,
    serialSource: b[70]! >> 4,
    formatVersion,
  };
}

/** What slot 14 holds for the signer certificate. */
export interface SignerRecord {
  serial: Buffer;
  /** ASCII value of the certificate's notBefore UTCTime (13 characters). */
  issueDate: string;
  /** ASCII value of the certificate's notAfter UTCTime (13 characters). */
  expireDate: string;
}

const SERIAL_AT = 4;
const ISSUE_AT = 22;
const EXPIRE_AT = 37;

export function encodeSignerRecord(r: SignerRecord): Buffer {
  if (r.serial.length !== 16) throw new CertificateError("signer record", `serial must be 16 bytes, got ${r.serial.length}`);
  for (const [name, v] of [["issue date", r.issueDate], ["expire date", r.expireDate]] as const) {
    if (!/^\d{12}Z$/.test(v)) throw new CertificateError("signer record", `${name} must be a 13-character UTCTime, got "${v}"`);
  }
  const out = Buffer.alloc(SLOT_SIZE_72);
  out.set([0x02, 0x10], SERIAL_AT - 2);
  r.serial.copy(out, SERIAL_AT);
  out.set([0x17, 0x0d], ISSUE_AT - 2);
  out.write(r.issueDate, ISSUE_AT, "ascii");
  out.set([0x17, 0x0d], EXPIRE_AT - 2);
  out.write(r.expireDate, EXPIRE_AT, "ascii");
  return out;
}

export function decodeSignerRecord(bytes: Uint8Array, where = "slot 14"): SignerRecord {
  if (bytes.length < EXPIRE_AT + 13) throw new CertificateError(where, `expected at least ${EXPIRE_AT + 13} bytes, got ${bytes.length}`);
  const b = Buffer.from(bytes);
  const rec = {
    serial: Buffer.from(b.subarray(SERIAL_AT, SERIAL_AT + 16)),
    issueDate: b.toString("ascii", ISSUE_AT, ISSUE_AT + 13),
    expireDate: b.toString("ascii", EXPIRE_AT, EXPIRE_AT + 13),
  };
  if (!/^\d{12}Z$/.test(rec.issueDate) || !/^\d{12}Z$/.test(rec.expireDate)) {
    throw new CertificateError(where, "does not hold signer dates (expected UTCTime text at bytes 22 and 37)");
  }
  return rec;
}
