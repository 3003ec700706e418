/**
 * A device identity for tests that play the kit's part with ordinary tools (mosquitto, openssl,
 * mqtt.js): an openssl-generated P-256 key, a CSR with the kit's subject, a device certificate from
 * the PKI, and the thing name AWS and the kit derive from it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signDeviceCsr } from "../pki/ca.ts";
import { parseCsr } from "../pki/cert-io.ts";
import { certificateId } from "../pki/identity.ts";
import type { Pki } from "../pki/pki-dir.ts";
import { run } from "./tools.ts";
import { subjectKeyIdHex } from "../cloud/jitr-lambda.ts";

export interface TestDevice {
  keyFile: string;
  certFile: string;
  /** Device certificate followed by the signer certificate, as the kit presents them. */
  chainFile: string;
  certPem: string;
  certId: string;
  thingName: string;
}

export async function makeDevice(pki: Pki, dir: string, name = "device"): Promise<TestDevice> {
  const keyFile = join(dir, `${name}.key`);
  run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
  const csr = run("openssl", ["req", "-new", "-key", keyFile, "-subj", "/O=Example Inc/CN=Example Device", "-utf8"]);
  const cert = await signDeviceCsr(parseCsr(Buffer.from(csr), `${name}.csr`), pki.signer);
  const certPem = cert.toString("pem") + "\n";
  const certFile = join(dir, `${name}.crt`);
  const chainFile = join(dir, `${name}-chain.pem`);
  writeFileSync(certFile, certPem);
  writeFileSync(chainFile, certPem + pki.signer.cert.toString("pem") + "\n");
  return { keyFile, certFile, chainFile, certPem, certId: certificateId(Buffer.from(cert.rawData)), thingName: subjectKeyIdHex(readFileSync(certFile, "utf8")) };
}
