/**
 * The kit's CSR (firmware v2.2.5 cert def 3): the template CSR with the device's public key patched in
 * and the CertificationRequestInfo signed by slot 0. Used by the virtual kit's genCsr, and by tests to
 * check a real kit's CSR has exactly the template's shape.
 */
import { readFileSync } from "node:fs";
import { children, encodeTlv, readTlv, TAG } from "../der.ts";
import { rawToDer } from "../ecdsa-signature.ts";

const TEMPLATE = readFileSync(new URL("./templates/csr_tmpl.der", import.meta.url));
const outer = readTlv(TEMPLATE, 0, "CSR template");
const [info, sigAlg] = children(TEMPLATE, outer, "CSR template");
const spki = children(TEMPLATE, info!, "CSR template")[2]!;
const keyBits = children(TEMPLATE, spki, "CSR template")[1]!;
/** Offset of X‖Y inside the CertificationRequestInfo. */
const KEY_AT = keyBits.valueStart + 2 - info!.start;

/** The CertificationRequestInfo for `publicKey` (X‖Y): what the kit signs. */
export function csrInfo(publicKey: Uint8Array): Buffer {
  const b = Buffer.from(TEMPLATE.subarray(info!.start, info!.end));
  b.set(publicKey, KEY_AT);
  return b;
}

/** The whole CSR DER from the info and the raw R‖S signature of SHA-256(info). */
export function assembleCsr(infoDer: Buffer, rawSignature: Uint8Array): Buffer {
  const alg = TEMPLATE.subarray(sigAlg!.start, sigAlg!.end);
  const sig = encodeTlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), rawToDer(rawSignature)]));
  return encodeTlv(TAG.SEQUENCE, Buffer.concat([infoDer, alg, sig]));
}
