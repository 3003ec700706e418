import { statSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { expect, test } from "@playwright/test";
import { needTools, run } from "../testing/tools.ts";
import { DEVICE_DEFINITION, SIGNER_DEFINITION } from "./atcacert/cert-def.ts";
import { compressCertificate, rebuildCertificate } from "./atcacert/rebuild.ts";
import { encodeDates } from "./atcacert/dates.ts";
import { createVerificationCert, rawPublicKeyOfSpki, signDeviceCsr } from "./ca.ts";
import { parseCsr, derOf } from "./cert-io.ts";
import { certificateId, thingName } from "./identity.ts";
import { rawPublicKey, readPrivateKey, keyIdentifier } from "./keys.ts";
import { initPki, loadPki, PKI_FILES } from "./pki-dir.ts";
import { publicKeyHashSerial } from "./atcacert/rebuild.ts";

/** A device CSR made by openssl from a fresh P-256 key, subject as the kit's CSR template. */
function opensslCsr(dir: string): { csrPem: string; keyFile: string } {
  const keyFile = join(dir, "device.key");
  run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
  const csrPem = run("openssl", ["req", "-new", "-key", keyFile, "-subj", "/O=Example Inc/CN=Example Device", "-utf8"]);
  return { csrPem, keyFile };
}

test("openssl verifies the chain root → signer → device, and the device certificate follows the template", async () => {
  needTools("openssl");
  const dir = test.info().outputPath("pki");
  const pki = await initPki(dir, { signerId: "C0DE" });
  const { csrPem } = opensslCsr(test.info().outputPath());
  const now = new Date(Date.now() - 3600_000);
  now.setUTCMinutes(47, 55);
  const device = await signDeviceCsr(parseCsr(Buffer.from(csrPem), "device.csr"), pki.signer, now);
  const deviceFile = join(dir, "device.crt");
  writeFileSync(deviceFile, device.toString("pem"));
  const out = run("openssl", ["verify", "-CAfile", join(dir, PKI_FILES.rootCert), "-untrusted", join(dir, PKI_FILES.signerCert), deviceFile]);
  expect(out.trim()).toBe(`${deviceFile}: OK`);

  expect(device.issuer).toBe("O=Example Inc, CN=Example Signer C0DE");
  expect(device.subject).toBe("O=Example Inc, CN=Example Device");
  expect(device.notBefore.toISOString()).toBe(new Date(Math.floor(now.getTime() / 3600_000) * 3600_000).toISOString());
  expect(device.notAfter.toISOString()).toBe("3000-12-31T23:59:59.000Z");
  const xy = rawPublicKeyOfSpki(device.publicKey.rawData);
  expect(device.serialNumber).toBe(publicKeyHashSerial(xy, encodeDates(device.notBefore, 0)).toString("hex"));
  const text = run("openssl", ["x509", "-in", deviceFile, "-noout", "-text"]);
  expect(text).toContain(`X509v3 Subject Key Identifier: \n                ${keyIdentifier(xy).toString("hex").toUpperCase().match(/../g)!.join(":")}`);
  expect(text).toContain("Not After : Dec 31 23:59:59 3000 GMT");

  // Both certificates can be stored compressed by the kit and rebuilt byte for byte.
  const devDer = derOf(device);
  const dc = compressCertificate(DEVICE_DEFINITION, devDer, rawPublicKey(pki.signer.key));
  expect(rebuildCertificate(DEVICE_DEFINITION, { compressed: dc.compressed, publicKey: xy, issuerPublicKey: rawPublicKey(pki.signer.key) }).equals(devDer)).toBe(true);
  const signerDer = derOf(pki.signer.cert);
  const sc = compressCertificate(SIGNER_DEFINITION, signerDer, rawPublicKey(pki.root.key));
  expect(sc.compressed.readUInt16BE(67)).toBe(0xc0de);
  expect(
    rebuildCertificate(SIGNER_DEFINITION, { compressed: sc.compressed, publicKey: rawPublicKey(pki.signer.key), issuerPublicKey: rawPublicKey(pki.root.key), signerRecord: sc.signerRecord! }).equals(signerDer),
  ).toBe(true);
});

test("root and signer CAs carry the kit scripts' extensions", async () => {
  needTools("openssl");
  const dir = test.info().outputPath("pki");
  await initPki(dir, { signerId: "00AF" });
  const root = run("openssl", ["x509", "-in", join(dir, PKI_FILES.rootCert), "-noout", "-text"]);
  expect(root).toMatch(/Basic Constraints: critical\s+CA:TRUE\n/);
  expect(root).toContain("Subject: O = Example Inc, CN = Example Root CA");
  const signer = run("openssl", ["x509", "-in", join(dir, PKI_FILES.signerCert), "-noout", "-text"]);
  expect(signer).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  expect(signer).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
  expect(signer).toContain("Subject: O = Example Inc, CN = Example Signer 00AF");
  const years = (t: string) => t.match(/Not (Before|After) *: \w+ +\d+ [\d:]+ (\d+) GMT/g)!.map((l) => Number(l.match(/(\d{4}) GMT/)![1]));
  const [rb, ra] = years(root);
  expect(ra! - rb!).toBe(25);
  const [sb, sa] = years(signer);
  expect(sa! - sb!).toBe(10);
  run("openssl", ["verify", "-CAfile", join(dir, PKI_FILES.rootCert), join(dir, PKI_FILES.signerCert)]);
});

test("private keys are 0600 files, loose ones are refused, and the PKI reloads", async () => {
  const dir = test.info().outputPath("pki");
  const made = await initPki(dir);
  for (const f of [PKI_FILES.rootKey, PKI_FILES.signerKey]) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  const again = loadPki(dir);
  expect(again.signer.cert.equal(made.signer.cert)).toBe(true);
  expect(rawPublicKey(again.signer.key).equals(rawPublicKey(made.signer.key))).toBe(true);
  await expect(initPki(dir)).rejects.toThrow(/already holds a root and signer CA/);
  chmodSync(join(dir, PKI_FILES.signerKey), 0o644);
  expect(() => readPrivateKey(join(dir, PKI_FILES.signerKey))).toThrow(/accessible by others \(mode 644\)/);
});

test("the verification certificate carries the registration code and verifies with the signer", async () => {
  needTools("openssl");
  const dir = test.info().outputPath("pki");
  const pki = await initPki(dir);
  const code = "8d2a1c4e5f6b7a8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c";
  const cert = await createVerificationCert(pki.signer, code);
  expect(cert.subject).toBe(`CN=${code}`);
  expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(24 * 3600 * 1000);
  const file = join(dir, "verification.crt");
  writeFileSync(file, cert.toString("pem"));
  // Partial chain: the signer is the anchor being registered.
  run("openssl", ["verify", "-partial_chain", "-CAfile", join(dir, PKI_FILES.signerCert), file]);
  await expect(createVerificationCert(pki.signer, "not a code!")).rejects.toThrow(/not an AWS registration code/);
});

test("a CSR whose signature does not verify is refused", async () => {
  const pki = await initPki(test.info().outputPath("pki"));
  needTools("openssl");
  const { csrPem } = opensslCsr(test.info().outputPath());
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  der[der.length - 5]! ^= 0x01; // inside the signature
  await expect(signDeviceCsr(parseCsr(der, "tampered.csr"), pki.signer)).rejects.toThrow(/device CSR: its signature does not verify/);
});

test("thing name is the SKI hex and certificate id the SHA-256 of the DER, as AWS computes them", async () => {
  needTools("openssl");
  const pki = await initPki(test.info().outputPath("pki"));
  const der = derOf(pki.signer.cert);
  const fp = run("openssl", ["x509", "-inform", "DER", "-noout", "-fingerprint", "-sha256"], { input: der });
  expect(certificateId(der)).toBe(fp.split("=")[1]!.replace(/:/g, "").trim().toLowerCase());
  const xy = rawPublicKey(pki.signer.key);
  expect(thingName(xy)).toBe(createHash("sha1").update(Buffer.concat([Buffer.from([4]), xy])).digest("hex"));
  expect(thingName(xy)).toMatch(/^[0-9a-f]{40}$/);
  const ski = run("openssl", ["x509", "-inform", "DER", "-noout", "-ext", "subjectKeyIdentifier"], { input: der });
  expect(ski.replace(/[^0-9A-F:]/g, "").replace(/:/g, "").toLowerCase()).toContain(thingName(xy));
});
