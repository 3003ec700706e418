/**
 * Compressing a certificate into the kit's 72-byte form and rebuilding the full DER from it, exactly as
 * the firmware does (atcacert_cert_build): copy the template, patch the variable elements, append the
 * signature. A certificate is "storable" only if that rebuild gives back its own bytes; otherwise the
 * kit would silently present a different certificate, so compress() reports the field that differs.
 */
import { createHash } from "node:crypto";
import { CertificateError } from "../../errors.ts";
import { children, encodeTlv, readTlv, TAG, type Tlv } from "../der.ts";
import { derToRaw, rawToDer } from "../ecdsa-signature.ts";
import { keyIdentifier } from "../keys.ts";
import { SERIAL_SOURCE, type CertDefinition, type Element } from "./cert-def.ts";
import { decodeCompressed, encodeCompressed, type SignerRecord } from "./compressed.ts";
import { encodeDates, expiryOf, formatTime, parseTime } from "./dates.ts";
import { firstDifference } from "./field-diff.ts";

export interface RebuildInput {
  /** The 72-byte compressed certificate (slot 10 or 12). */
  compressed: Uint8Array;
  /** The certificate's own public key, X‖Y (slot 0 for the device, slot 11 for the signer). */
  publicKey: Uint8Array;
  /** The issuer's public key, X‖Y: its key identifier becomes the authority key id. */
  issuerPublicKey?: Uint8Array;
  /** Or the authority key id itself (20 bytes), when the issuer key is not at hand. */
  authorityKeyId?: Uint8Array;
  /** Slot-14 record, for a signer certificate (stored serial and exact dates). */
  signerRecord?: SignerRecord;
}

function put(out: Buffer, el: Element, value: Uint8Array, what: string): void {
  if (value.length !== el.count) throw new CertificateError(what, `expected ${el.count} bytes, got ${value.length}`);
  out.set(value, el.offset);
}

/** Serial number from the public key hash (SNSRC_PUB_KEY_HASH): SHA-256(X‖Y‖dates)[0:n], top bits 01. */
export function publicKeyHashSerial(publicKey: Uint8Array, encodedDates: Uint8Array, size = 16): Buffer {
  const sn = createHash("sha256").update(publicKey).update(encodedDates).digest().subarray(0, size);
  sn[0] = (sn[0]! & 0x7f) | 0x40;
  return Buffer.from(sn);
}

/** Rebuild the full certificate DER from its compressed form. */
export function rebuildCertificate(def: CertDefinition, input: RebuildInput): Buffer {
  const what = `${def.kind} certificate`;
  const comp = decodeCompressed(input.compressed, `compressed ${def.kind} certificate`);
  if (comp.templateId !== def.templateId) throw new CertificateError(`compressed ${def.kind} certificate`, `template id ${comp.templateId} does not match the ${def.kind} definition (template ${def.templateId})`);
  if (input.publicKey.length !== 64) throw new CertificateError("public key", `expected 64 bytes (X‖Y), got ${input.publicKey.length}`);
  const aki = input.authorityKeyId ?? (input.issuerPublicKey ? keyIdentifier(input.issuerPublicKey) : undefined);
  if (!aki) throw new CertificateError(what, "rebuilding needs the issuer's public key or the authority key id");

  const tbsEnd = def.tbs.offset + def.tbs.count;
  const out = Buffer.from(def.template.subarray(0, def.signature.offset));
  put(out, def.publicKey, input.publicKey, "public key");
  put(out, def.signerId, Buffer.from(comp.signerId.toString(16).toUpperCase().padStart(4, "0"), "ascii"), "signer id");
  put(out, def.issueDate, Buffer.from(formatTime(comp.dates.issue, def.issueDate.format), "ascii"), "issue date");
  if (def.expireDate) put(out, def.expireDate, Buffer.from(formatTime(expiryOf(comp.dates), def.expireDate.format), "ascii"), "expire date");
  put(out, def.subjKeyId, keyIdentifier(input.publicKey), "subject key id");
  put(out, def.authKeyId, aki, "authority key id");

  if (comp.serialSource === SERIAL_SOURCE.pubKeyHash) {
    put(out, def.serial, publicKeyHashSerial(input.publicKey, comp.encodedDates, def.serial.count), "serial number");
  } else if (comp.serialSource === SERIAL_SOURCE.stored) {
    if (!input.signerRecord) throw new CertificateError(what, "its serial number is stored on the device: the slot-14 record is needed");
    put(out, def.serial, input.signerRecord.serial, "serial number");
  } else {
    throw new CertificateError(`compressed ${def.kind} certificate`, `serial source 0x${comp.serialSource.toString(16)} is not one the kit uses`);
  }
  // Stored exact dates override the hour-precision compressed ones (the signer's slot-14 elements).
  if (input.signerRecord && def.serialSource === "stored") {
    put(out, def.issueDate, Buffer.from(input.signerRecord.issueDate, "ascii"), "issue date");
    if (def.expireDate) put(out, def.expireDate, Buffer.from(input.signerRecord.expireDate, "ascii"), "expire date");
  }

  const signature = encodeTlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), rawToDer(comp.signature)]));
  const body = Buffer.concat([out.subarray(def.tbs.offset, def.signature.offset), signature]);
  if (tbsEnd > def.signature.offset) throw new CertificateError("certificate template", "TBS overlaps the signature");
  return encodeTlv(TAG.SEQUENCE, body);
}

export interface Compressed {
  compressed: Buffer;
  publicKey: Buffer;
  /** For a signer certificate: the slot-14 record. */
  signerRecord?: SignerRecord;
}

/** The error for a certificate the kit could not store faithfully, naming the field. */
function misfit(def: CertDefinition, field: string, detail: string): CertificateError {
  return new CertificateError(`${def.kind} certificate`, `does not fit the kit's ${def.kind} template (template ${def.templateId}): ${field} ${detail}`);
}

/**
 * Compress a certificate for the kit. Throws a CertificateError naming the first differing field when
 * the rebuild would not give back the same certificate. `issuerPublicKey` (X‖Y) lets the authority key
 * id be checked too; without it the certificate's own AKI is taken. `checkFit: false` only extracts the
 * fields, as the firmware's atcacert_write_cert does (a misfit then shows when the rebuilt certificate
 * fails to verify).
 */
export function compressCertificate(def: CertDefinition, der: Buffer, issuerPublicKey?: Uint8Array, checkFit = true): Compressed {
  const where = `${def.kind} certificate`;
  const cert = readTlv(der, 0, where);
  const parts = children(der, cert, where);
  if (cert.tag !== TAG.SEQUENCE || parts.length !== 3) throw new CertificateError(where, "not an X.509 certificate");
  const tbs = children(der, parts[0]!, where);
  const off = tbs[0]?.tag === 0xa0 ? 0 : -1;
  const field = (i: number) => {
    const f = tbs[i + off];
    if (!f) throw new CertificateError(where, "truncated TBSCertificate");
    return f;
  };
  const validity = children(der, field(4), where);
  const spkiBits = children(der, field(6), where)[1];
  if (!spkiBits || spkiBits.length !== 66 || der[spkiBits.valueStart + 1] !== 0x04) throw misfit(def, "tbsCertificate.subjectPublicKeyInfo", "is not an uncompressed P-256 point");
  const publicKey = Buffer.from(der.subarray(spkiBits.valueStart + 2, spkiBits.end));

  const sigBits = parts[2]!;
  const signature = derToRaw(der.subarray(sigBits.valueStart + 1, sigBits.end));
  const notBefore = validity[0]!;
  const notAfter = validity[1]!;
  const issueText = der.toString("latin1", notBefore.valueStart, notBefore.end);
  const issue = parseTime(issueText, `${where} notBefore`);
  const encodedDates = encodeDates(issue, def.expireYears);

  const nameTlv = field(def.signerId.in === "issuer" ? 3 : 5);
  const rdns = children(der, nameTlv, where);
  const lastAtv = rdns.length ? children(der, children(der, rdns.at(-1)!, where)[0]!, where)[1] : undefined;
  const cn = lastAtv ? der.toString("utf8", lastAtv.valueStart, lastAtv.end) : "";
  const idMatch = /([0-9A-Fa-f]{4})$/.exec(cn);
  if (!idMatch) throw misfit(def, `tbsCertificate.${def.signerId.in}`, `CN "${cn}" does not end in a 4-hex-digit signer id`);
  const signerId = parseInt(idMatch[1]!, 16);

  const compressed = encodeCompressed({
    signature,
    encodedDates,
    signerId,
    templateId: def.templateId,
    chainId: def.chainId,
    serialSource: SERIAL_SOURCE[def.serialSource],
    formatVersion: 0,
  });

  let signerRecord: SignerRecord | undefined;
  if (def.serialSource === "stored") {
    const serial = field(1);
    signerRecord = {
      serial: Buffer.from(der.subarray(serial.valueStart, serial.end)),
      issueDate: issueText,
      expireDate: der.toString("latin1", notAfter.valueStart, notAfter.end),
    };
    if (signerRecord.serial.length !== def.serial.count) throw misfit(def, "tbsCertificate.serialNumber", `is ${signerRecord.serial.length} bytes, the template stores ${def.serial.count}`);
  }

  if (!checkFit) return { compressed, publicKey, ...(signerRecord ? { signerRecord } : {}) };
  let authorityKeyId: Buffer | undefined;
  if (!issuerPublicKey) authorityKeyId = findAuthorityKeyId(der, tbs[7 + off], def);
  const rebuilt = rebuildCertificate(def, { compressed, publicKey, signerRecord, ...(issuerPublicKey ? { issuerPublicKey } : { authorityKeyId }) });
  const diff = firstDifference(der, rebuilt);
  if (diff) throw misfit(def, diff.field, `differs — the certificate has ${diff.actual}, the kit would rebuild ${diff.expected}`);
  return { compressed, publicKey, ...(signerRecord ? { signerRecord } : {}) };
}

function findAuthorityKeyId(der: Buffer, extsWrap: Tlv | undefined, def: CertDefinition): Buffer {
  const where = `${def.kind} certificate`;
  if (extsWrap?.tag === 0xa3) {
    for (const ext of children(der, readTlv(der, extsWrap.valueStart, where), where)) {
      const p = children(der, ext, where);
      if (der.toString("hex", p[0]!.valueStart, p[0]!.end) !== "551d23") continue;
      const keyId = children(der, readTlv(der, p.at(-1)!.valueStart, where), where)[0];
      if (keyId?.tag === 0x80) return Buffer.from(der.subarray(keyId.valueStart, keyId.end));
    }
  }
  throw misfit(def, "extension authorityKeyIdentifier", "is missing (or pass the issuer certificate)");
}
