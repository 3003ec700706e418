/**
 * P-256 keys as the kit sees them (64-byte X‖Y public keys, as the ATECC508A returns) and as files
 * (PEM, private keys written with mode 0600 and refused when readable by others, as ssh does).
 * Nothing here prints or logs key material.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, type KeyObject } from "node:crypto";
import { CertificateError } from "../errors.ts";

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateP256(): KeyPair {
  return generateKeyPairSync("ec", { namedCurve: "P-256" });
}

/** 64-byte X‖Y of a P-256 public (or private) key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const jwk = pub.export({ format: "jwk" });
  if (jwk.crv !== "P-256" || !jwk.x || !jwk.y) throw new CertificateError("public key", `expected an EC P-256 key, got ${jwk.kty}/${jwk.crv ?? "?"}`);
  return Buffer.concat([Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
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
