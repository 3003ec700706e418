/**
 * ECDSA signatures in the two forms the kit's world uses: the ATECC508A returns raw R‖S (64 bytes for
 * P-256), while X.509 and TLS carry DER ECDSA-Sig-Value. Node's crypto converts for its own sign and
 * verify calls (dsaEncoding), but a compressed certificate must be turned back into the exact DER bytes
 * of a certificate, so the conversion lives here.
 */
import { createHash } from "node:crypto";
import { CertificateError } from "../errors.ts";
import { children, encodeTlv, readTlv, TAG } from "./der.ts";

function derInteger(raw: Uint8Array): Buffer {
  let i = 0;
  while (i < raw.length - 1 && raw[i] === 0) i++;
  let body = Buffer.from(raw.subarray(i));
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return encodeTlv(TAG.INTEGER, body);
}

/** Raw R‖S (2 × size bytes) → DER ECDSA-Sig-Value. */
export function rawToDer(raw: Uint8Array): Buffer {
  if (raw.length % 2 !== 0 || raw.length === 0) throw new CertificateError("ECDSA signature", `raw signature must be R‖S of even length, got ${raw.length} bytes`);
  const half = raw.length / 2;
  return encodeTlv(TAG.SEQUENCE, Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]));
}

/** DER ECDSA-Sig-Value → raw R‖S, each integer left-padded to `size` bytes (32 for P-256). */
export function derToRaw(der: Uint8Array, size = 32): Buffer {
  const what = "ECDSA signature";
  const seq = readTlv(der, 0, what);
  if (seq.tag !== TAG.SEQUENCE || seq.end !== der.length) throw new CertificateError(what, "not a DER SEQUENCE of two INTEGERs");
  const ints = children(der, seq, what);
  if (ints.length !== 2 || ints.some((t) => t.tag !== TAG.INTEGER)) throw new CertificateError(what, "not a DER SEQUENCE of two INTEGERs");
  const out = Buffer.alloc(size * 2);
  ints.forEach((t, k) => {
    let v = Buffer.from(der.subarray(t.valueStart, t.end));
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new CertificateError(what, `integer ${k === 0 ? "r" : "s"} is longer than ${size} bytes`);
    v.copy(out, k * size + (size - v.length));
  });
  return out;
}

/**
 * What a certificate's signature covers and the signature itself: SHA-256 of the TBSCertificate and the
 * raw R‖S, as a chip's Verify takes them. null when the certificate has no TBS or signature element.
 */
export function certificateSignedParts(der: Buffer, what: string): { digest: Buffer; signature: Buffer } | null {
  const [tbs, , sig] = children(der, readTlv(der, 0, what), what);
  if (!tbs || !sig) return null;
  return { digest: createHash("sha256").update(der.subarray(tbs.start, tbs.end)).digest(), signature: derToRaw(der.subarray(sig.valueStart + 1, sig.end)) };
}
