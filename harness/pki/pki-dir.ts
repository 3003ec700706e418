/**
 * A PKI directory: the root and signer CAs as PEM files (keys mode 0600). The suite and the CLI share
 * it, so CAs registered with a cloud once are reused rather than regenerated each run.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { CertificateError } from "../errors.ts";
import { createRootCa, createSignerCa, type Issued } from "./ca.ts";
import { readCertificate, writeCertificate } from "./cert-io.ts";
import { fileError } from "../errors.ts";
import { readPrivateKey, writePrivateKey } from "./keys.ts";

export const PKI_FILES = {
  rootKey: "root-ca.key",
  rootCert: "root-ca.crt",
  signerKey: "signer-ca.key",
  signerCert: "signer-ca.crt",
  signerCsr: "signer-ca.csr",
} as const;

export interface Pki {
  dir: string;
  root: Issued;
  signer: Issued;
}

export function randomSignerId(): string {
  return randomBytes(2).toString("hex").toUpperCase();
}

export function pkiExists(dir: string): boolean {
  return existsSync(join(dir, PKI_FILES.rootCert)) && existsSync(join(dir, PKI_FILES.signerCert));
}

/** Create the root and signer CAs in `dir`. Refuses to replace existing CAs unless `force`. */
export async function initPki(dir: string, opts: { signerId?: string; force?: boolean; now?: Date } = {}): Promise<Pki> {
  if (pkiExists(dir) && !opts.force) throw new CertificateError(dir, "already holds a root and signer CA (pass --force to replace them)");
  const signerId = (opts.signerId ?? randomSignerId()).toUpperCase();
  const root = await createRootCa(opts.now);
  const signer = await createSignerCa(root, signerId, opts.now);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writePrivateKey(join(dir, PKI_FILES.rootKey), root.key);
    writeCertificate(join(dir, PKI_FILES.rootCert), root.cert);
    writePrivateKey(join(dir, PKI_FILES.signerKey), signer.key);
    writeCertificate(join(dir, PKI_FILES.signerCert), signer.cert);
    writeFileSync(join(dir, PKI_FILES.signerCsr), signer.csr.toString("pem") + "\n");
  } catch (err) {
    throw fileError(dir, "create the PKI there", err);
  }
  return { dir, root, signer: { cert: signer.cert, key: signer.key } };
}

export function loadPki(dir: string): Pki {
  if (!pkiExists(dir)) throw new CertificateError(dir, "holds no PKI (run `zt-hil pki init --dir " + dir + "` first)");
  return {
    dir,
    root: { cert: readCertificate(join(dir, PKI_FILES.rootCert)), key: readPrivateKey(join(dir, PKI_FILES.rootKey)) },
    signer: { cert: readCertificate(join(dir, PKI_FILES.signerCert)), key: readPrivateKey(join(dir, PKI_FILES.signerKey)) },
  };
}

/** Load the PKI in `dir`, creating it on first use. */
export async function loadOrInitPki(dir: string, signerId?: string): Promise<Pki> {
  return pkiExists(dir) ? loadPki(dir) : initPki(dir, signerId ? { signerId } : {});
}
