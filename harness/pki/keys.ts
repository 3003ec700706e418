/**
 * P-256 keys as the kit sees them (64-byte X‖Y public keys, as the ATECC508A returns) and as files
 * (PEM, private keys written with mode 0600 and refused when readable by others, as ssh does).
 * Nothing here prints or logs key material.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createECDH, createHash, createPrivateKey, createPublicKey, webcrypto, type KeyObject } from "node:crypto";
import { CertificateError } from "../errors.ts";

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * A new P-256 key pair. Generated with ECDH and imported, not with generateKeyPairSync: on Node 20 a key
 * job's garbage collection can deadlock against an export of its key (seen here, a worker stuck for good:
 * KeyObjectHandle::ExportJWK holding the key's mutex while GC ran ~KeyGenJob, which takes the same one).
 */
export function generateP256(): KeyPair {
  const ecdh = createECDH("prime256v1");
  const point = ecdh.generateKeys();
  const d = Buffer.alloc(32);
  const secret = ecdh.getPrivateKey();
  secret.copy(d, 32 - secret.length); // big-endian, leading zero bytes dropped
  const b64 = (b: Buffer) => b.toString("base64url");
  const privateKey = createPrivateKey({ key: { kty: "EC", crv: "P-256", x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)), d: b64(d) }, format: "jwk" });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The DER SubjectPublicKeyInfo of an uncompressed P-256 key, up to its 65-byte point. */
const P256_SPKI_PREFIX = Buffer.from("3059301306072a8648ce3d020106082a8648ce3d030107034200", "hex");

/** 64-byte X‖Y of a P-256 public (or private) key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const der = pub.export({ type: "spki", format: "der" });
  if (der.length !== P256_SPKI_PREFIX.length + 65 || !der.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX)) {
    throw new CertificateError("public key", `expected an EC P-256 key, got ${pub.asymmetricKeyType}/${pub.asymmetricKeyDetails?.namedCurve ?? "?"}`);
  }
  return Buffer.from(der.subarray(P256_SPKI_PREFIX.length + 1));
}

/** A P-256 public key from 64-byte X‖Y; a point not on the curve is a CertificateError. */
export function publicKeyFromRaw(raw: Uint8Array, what = "public key"): KeyObject {
  if (raw.length !== 64) throw new CertificateError(what, `expected 64 bytes (X‖Y), got ${raw.length}`);
  try {
    return createPublicKey({
      key: { kty: "EC", crv: "P-256", x: Buffer.from(raw.subarray(0, 32)).toString("base64url"), y: Buffer.from(raw.subarray(32)).toString("base64url") },
      format: "jwk",
    });
  } catch {
    throw new CertificateError(what, "the point is not on the P-256 curve");
  }
}

/** Subject key identifier as the kit computes it: SHA-1 over 04‖X‖Y. */
export function keyIdentifier(rawXY: Uint8Array): Buffer {
  return createHash("sha1").update(Buffer.from([0x04])).update(rawXY).digest();
}

export async function toCryptoKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const alg = { name: "ECDSA", namedCurve: "P-256" };
  return key.type === "private"
    ? webcrypto.subtle.importKey("pkcs8", key.export({ format: "der", type: "pkcs8" }), alg, true, ["sign"])
    : webcrypto.subtle.importKey("spki", key.export({ format: "der", type: "spki" }), alg, true, ["verify"]);
}

/** Write a private key as PKCS#8 PEM with mode 0600 (also tightening an existing file). */
export function writePrivateKey(file: string, key: KeyObject): void {
  writeFileSync(file, key.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Read a PEM private key; refuses files that group or others can read. */
export function readPrivateKey(file: string): KeyObject {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    throw new CertificateError(file, `cannot read private key: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (mode & 0o077) throw new CertificateError(file, `private key is accessible by others (mode ${mode.toString(8)}); chmod 600 it`);
  try {
    return createPrivateKey(readFileSync(file));
  } catch {
    throw new CertificateError(file, "not a PEM private key");
  }
}
