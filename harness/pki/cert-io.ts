/**
 * Reading and writing certificates and CSRs as files (PEM or DER), with errors that name the file and
 * what is wrong with it rather than an ASN.1 parser's stack trace.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { CertificateError } from "../errors.ts";
import { x509 } from "./x509.ts";

function readBytes(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CertificateError(file, `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** PEM body of the given label, or the bytes themselves when they look like DER. */
function decode(bytes: Buffer, label: string, where: string): Buffer {
  const text = bytes.toString("latin1");
  if (text.includes("-----BEGIN")) {
    const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
    if (!m) {
      const found = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? "something else";
      throw new CertificateError(where, `expected a PEM ${label}, found ${found}`);
    }
    return Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  }
  if (bytes[0] !== 0x30) throw new CertificateError(where, `neither PEM nor DER (${label})`);
  return bytes;
}

export function parseCertificate(bytes: Uint8Array, where: string): x509.X509Certificate {
  const der = decode(Buffer.from(bytes), "CERTIFICATE", where);
  try {
    return new x509.X509Certificate(der);
  } catch (err) {
    throw new CertificateError(where, `not a valid X.509 certificate (${(err as Error).message})`);
  }
}

export function readCertificate(file: string): x509.X509Certificate {
  return parseCertificate(readBytes(file, "certificate"), file);
}

export function parseCsr(bytes: Uint8Array, where: string): x509.Pkcs10CertificateRequest {
  const der = decode(Buffer.from(bytes), "CERTIFICATE REQUEST", where);
  try {
    return new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    throw new CertificateError(where, `not a valid PKCS#10 CSR (${(err as Error).message})`);
  }
}

export function readCsr(file: string): x509.Pkcs10CertificateRequest {
  return parseCsr(readBytes(file, "CSR"), file);
}

/** Every certificate of a PEM bundle, as DER; text with none, or one that does not parse, is a CertificateError. */
export function pemBundle(text: string, where: string): Buffer[] {
  const pems = text.split(/(?=-----BEGIN CERTIFICATE-----)/).filter((p) => p.includes("-----BEGIN CERTIFICATE-----"));
  if (!pems.length) throw new CertificateError(where, "holds no PEM certificate");
  return pems.map((p) => {
    try {
      return new X509Certificate(p).raw;
    } catch {
      throw new CertificateError(where, "holds a certificate that cannot be parsed");
    }
  });
}

export function derOf(cert: x509.X509Certificate | x509.Pkcs10CertificateRequest): Buffer {
  return Buffer.from(cert.rawData);
}

export function writeCertificate(file: string, cert: x509.X509Certificate): void {
  writeFileSync(file, cert.toString("pem") + "\n");
}
