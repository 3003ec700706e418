/**
 * The certificate authority side of the kit's provisioning, shaped exactly as the kit's scripts shape
 * it, because the firmware rebuilds the signer and device certificates from templates and a
 * certificate that differs in any fixed byte cannot be stored (KIT-FACTS §4):
 * - root CA "O=Example Inc, CN=Example Root CA", 25 years, BasicConstraints CA;
 * - signer CA "O=Example Inc, CN=Example Signer XXXX" from a CSR, signed by the root, 10 years;
 * - verification certificate (CN = AWS registration code) signed by the signer key;
 * - device certificate from the kit's CSR, on the hour, expiring 3000-12-31 23:59:59.
 */
import { randomBytes, type KeyObject } from "node:crypto";
import { CertificateError } from "../errors.ts";
import { encodeDates } from "./atcacert/dates.ts";
import { publicKeyHashSerial } from "./atcacert/rebuild.ts";
import { keyIdentifier, rawPublicKey, toCryptoKey, generateP256, publicKeyFromRaw, type KeyPair } from "./keys.ts";
import { x509 } from "./x509.ts";

const ECDSA = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
export const DEVICE_NOT_AFTER = new Date(Date.UTC(3000, 11, 31, 23, 59, 59));

export interface Issued {
  cert: x509.X509Certificate;
  key: KeyObject;
}

/** "O=Example Inc, CN=<cn>" with UTF8String values, as the kit's templates encode names. */
export function exampleName(cn: string): x509.JsonName {
  return [{ O: [{ utf8String: "Example Inc" }] }, { CN: [{ utf8String: cn }] }] as unknown as x509.JsonName;
}

/** 16 random bytes with the top bits 01: positive, and never shortened by DER. */
export function randomSerial(): string {
  const sn = randomBytes(16);
  sn[0] = (sn[0]! & 0x7f) | 0x40;
  return sn.toString("hex");
}

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function addYears(d: Date, years: number): Date {
  const out = new Date(d);
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

function skiExt(pub: KeyObject): x509.Extension {
  return new x509.SubjectKeyIdentifierExtension(keyIdentifier(rawPublicKey(pub)).toString("hex"));
}

function akiExt(issuer: x509.X509Certificate): x509.Extension {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new CertificateError(`issuer "${issuer.subject}"`, "has no subject key identifier");
  return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
}

export async function createRootCa(now = new Date()): Promise<Issued> {
  const keys = generateP256();
  const notBefore = wholeSeconds(now);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: exampleName("Example Root CA"),
    issuer: exampleName("Example Root CA"),
    notBefore,
    notAfter: addYears(notBefore, 25),
    signingAlgorithm: ECDSA,
    publicKey: await toCryptoKey(keys.publicKey),
    signingKey: await toCryptoKey(keys.privateKey),
    extensions: [skiExt(keys.publicKey), new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { cert, key: keys.privateKey };
}

function signerExtensions(pub: KeyObject): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    skiExt(pub),
  ];
}

/** The signer's CSR, as ca_create_signer_csr does it. */
export async function createSignerCsr(keys: KeyPair, signerId: string): Promise<x509.Pkcs10CertificateRequest> {
  if (!/^[0-9A-F]{4}$/.test(signerId)) throw new CertificateError("signer id", `must be 4 uppercase hex digits, got "${signerId}"`);
  return x509.Pkcs10CertificateRequestGenerator.create({
    name: exampleName(`Example Signer ${signerId}`),
    keys: { publicKey: await toCryptoKey(keys.publicKey), privateKey: await toCryptoKey(keys.privateKey) },
    signingAlgorithm: ECDSA,
    extensions: signerExtensions(keys.publicKey),
  });
}

/** Sign the signer CSR with the root: 10 years from now (29 February moves to the 28th). */
export async function signSignerCsr(csr: x509.Pkcs10CertificateRequest, root: Issued, now = new Date()): Promise<x509.X509Certificate> {
  if (!(await csr.verify())) throw new CertificateError("signer CSR", "its signature does not verify");
  const notBefore = wholeSeconds(now);
  if (notBefore.getUTCMonth() === 1 && notBefore.getUTCDate() === 29) notBefore.setUTCDate(28);
  const pub = publicKeyFromRaw(rawPublicKeyOfSpki(csr.publicKey.rawData), "signer CSR public key");
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name(csr.subjectName.toArrayBuffer()),
    issuer: new x509.Name(root.cert.subjectName.toArrayBuffer()),
    notBefore,
    notAfter: addYears(notBefore, 10),
    signingAlgorithm: ECDSA,
    publicKey: await toCryptoKey(pub),
    signingKey: await toCryptoKey(root.key),
    extensions: [...signerExtensions(pub), akiExt(root.cert)],
  });
}

export async function createSignerCa(root: Issued, signerId: string, now = new Date()): Promise<Issued & { csr: x509.Pkcs10CertificateRequest }> {
  const keys = generateP256();
  const csr = await createSignerCsr(keys, signerId);
  return { cert: await signSignerCsr(csr, root, now), key: keys.privateKey, csr };
}

/** AWS's proof of possession: a certificate whose CN is the registration code, signed by the CA key. */
export async function createVerificationCert(signer: Issued, registrationCode: string, now = new Date()): Promise<x509.X509Certificate> {
  if (!/^[0-9a-zA-Z]{1,64}$/.test(registrationCode)) throw new CertificateError("registration code", `"${registrationCode}" is not an AWS registration code`);
  const keys = generateP256();
  const notBefore = wholeSeconds(now);
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [{ utf8String: registrationCode }] }] as unknown as x509.JsonName,
    issuer: new x509.Name(signer.cert.subjectName.toArrayBuffer()),
    notBefore,
    notAfter: new Date(notBefore.getTime() + 24 * 3600 * 1000),
    signingAlgorithm: ECDSA,
    publicKey: await toCryptoKey(keys.publicKey),
    signingKey: await toCryptoKey(signer.key),
  });
}

/** X‖Y of an EC P-256 SubjectPublicKeyInfo (DER). */
export function rawPublicKeyOfSpki(spki: ArrayBuffer | Uint8Array): Buffer {
  const der = Buffer.from(spki instanceof Uint8Array ? spki : new Uint8Array(spki));
  // The uncompressed point is the last 65 bytes of a P-256 SPKI: 04‖X‖Y.
  if (der.length !== 91 || der[der.length - 65] !== 0x04) throw new CertificateError("public key", "not an uncompressed EC P-256 key");
  return Buffer.from(der.subarray(der.length - 64));
}

/** Device certificate from the kit's CSR, following the device template (template 2). */
export async function signDeviceCsr(csr: x509.Pkcs10CertificateRequest, signer: Issued, now = new Date()): Promise<x509.X509Certificate> {
  if (csr.publicKey.algorithm.name !== "ECDSA" || (csr.publicKey.algorithm as { namedCurve?: string }).namedCurve !== "P-256") {
    throw new CertificateError("device CSR", "its key is not EC P-256");
  }
  if (!(await csr.verify())) throw new CertificateError("device CSR", "its signature does not verify (was it signed by the key it carries?)");
  const xy = rawPublicKeyOfSpki(csr.publicKey.rawData);
  const notBefore = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours()));
  const serial = publicKeyHashSerial(xy, encodeDates(notBefore, 0));
  const pub = publicKeyFromRaw(xy, "device CSR public key");
  return x509.X509CertificateGenerator.create({
    serialNumber: serial.toString("hex"),
    subject: new x509.Name(csr.subjectName.toArrayBuffer()),
    issuer: new x509.Name(signer.cert.subjectName.toArrayBuffer()),
    notBefore,
    notAfter: DEVICE_NOT_AFTER,
    signingAlgorithm: ECDSA,
    publicKey: await toCryptoKey(pub),
    signingKey: await toCryptoKey(signer.key),
    extensions: [skiExt(pub), akiExt(signer.cert)],
  });
}
