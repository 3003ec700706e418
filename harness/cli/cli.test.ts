import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { needTools, run, runStatus } from "../testing/tools.ts";

const BIN = join(process.cwd(), "bin/zt-hil.js");
const zt = (...args: string[]) => runStatus(process.execPath, [BIN, ...args]);

function expectOneLineError(r: ReturnType<typeof zt>, pattern: RegExp): void {
  expect(r.status).not.toBe(0);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

test("pki init, sign-csr, verification-cert and cert compress/decompress work end to end", async () => {
  needTools("openssl");
  const dir = test.info().outputPath("pki");
  const init = zt("pki", "init", "--dir", dir, "--signer-id", "beef");
  expect(init.stderr).toBe("");
  expect(init.stdout).toContain("signer: O=Example Inc, CN=Example Signer BEEF");

  const work = test.info().outputPath();
  const key = join(work, "device.key");
  run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  const csr = join(work, "device.csr");
  run("openssl", ["req", "-new", "-key", key, "-subj", "/O=Example Inc/CN=Example Device", "-utf8", "-out", csr]);
  const device = join(work, "device.crt");
  const signed = zt("pki", "sign-csr", "--dir", dir, "--csr", csr, "--out", device);
  expect(signed.status).toBe(0);
  expect(signed.stdout).toMatch(/certificate id [0-9a-f]{64}/);
  expect(run("openssl", ["verify", "-CAfile", join(dir, "root-ca.crt"), "-untrusted", join(dir, "signer-ca.crt"), device])).toContain(": OK");

  const verification = join(work, "verification.crt");
  expect(zt("pki", "verification-cert", "--dir", dir, "--code", "abc123", "--out", verification).status).toBe(0);
  expect(run("openssl", ["x509", "-in", verification, "-noout", "-subject"]).trim()).toBe("subject=CN = abc123");

  const compressed = zt("cert", "compress", "--kind", "device", "--cert", device, "--issuer-cert", join(dir, "signer-ca.crt"));
  expect(compressed.status).toBe(0);
  const hex = compressed.stdout.trim();
  expect(hex).toMatch(/^[0-9a-f]{144}$/);
  expect(hex.slice(134)).toBe("beef20a000");

  // The public key as the kit reports it: X‖Y from the key pair.
  const xy = run("sh", ["-c", `openssl ec -in ${key} -pubout -outform DER 2>/dev/null | tail -c 64 | od -An -tx1 | tr -d ' \\n'`]);
  expect(xy).toMatch(/^[0-9a-f]{128}$/);
  const rebuilt = join(work, "rebuilt.crt");
  const dec = zt("cert", "decompress", "--kind", "device", "--compressed", hex, "--public-key", xy, "--signer-cert", join(dir, "signer-ca.crt"), "--out", rebuilt);
  expect(dec.stderr).toBe("");
  expect(readFileSync(rebuilt, "utf8")).toBe(readFileSync(device, "utf8"));

  // Signer: compressed form plus the slot-14 record, rebuilt with the root.
  const signerOut = zt("cert", "compress", "--kind", "signer", "--cert", join(dir, "signer-ca.crt")).stdout.trim().split("\n");
  expect(signerOut).toHaveLength(2);
  const signerXy = run("sh", ["-c", `openssl x509 -in ${join(dir, "signer-ca.crt")} -noout -pubkey | openssl ec -pubin -outform DER 2>/dev/null | tail -c 64 | od -An -tx1 | tr -d ' \\n'`]);
  const rebuiltSigner = join(work, "rebuilt-signer.crt");
  const sdec = zt("cert", "decompress", "--kind", "signer", "--compressed", signerOut[0]!, "--public-key", signerXy, "--root-cert", join(dir, "root-ca.crt"), "--slot14", signerOut[1]!, "--out", rebuiltSigner);
  expect(sdec.stderr).toBe("");
  expect(readFileSync(rebuiltSigner, "utf8")).toBe(readFileSync(join(dir, "signer-ca.crt"), "utf8"));
});

test("bad inputs give one clear line and a non-zero exit", () => {
  const work = test.info().outputPath();
  expectOneLineError(zt("cert", "compress", "--kind", "device", "--cert", join(work, "missing.pem")), /missing\.pem: cannot read certificate: ENOENT/);
  const garbage = join(work, "garbage.pem");
  writeFileSync(garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  expectOneLineError(zt("cert", "compress", "--kind", "device", "--cert", garbage), /garbage\.pem: not a valid X\.509 certificate/);
  const key = join(work, "k.pem");
  writeFileSync(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  expectOneLineError(zt("cert", "compress", "--kind", "device", "--cert", key), /k\.pem: expected a PEM CERTIFICATE, found PRIVATE KEY/);
  expectOneLineError(zt("cert", "compress", "--kind", "thing", "--cert", garbage), /--kind: unknown certificate kind "thing"/);
  expectOneLineError(zt("pki", "sign-csr", "--dir", join(work, "nopki"), "--csr", garbage, "--out", join(work, "x")), /holds no PKI/);
  expectOneLineError(zt("cert", "decompress", "--kind", "device", "--compressed", "00", "--public-key", "00", "--out", "x"), /--signer-cert: is required/);
  expectOneLineError(zt("pki", "init"), /required option '--dir <dir>'/);
  // Exit codes: usage errors are 2 (1 means a verdict failed); --version and help are 0.
  for (const usage of [zt("pki", "init"), zt("analyze", "--nope", "x"), zt("nosuch")]) expect(usage.status).toBe(2);
  const version = zt("--version");
  expect(version.status).toBe(0);
  expect(version.stdout.trim()).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
});

test("a certificate that does not fit the template names the field", async () => {
  needTools("openssl");
  const work = test.info().outputPath();
  const key = join(work, "k.pem");
  run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  const cert = join(work, "other.crt");
  run("openssl", ["req", "-x509", "-new", "-key", key, "-subj", "/O=Example Inc/CN=Example Signer 1234", "-days", "30", "-out", cert]);
  const r = zt("cert", "compress", "--kind", "signer", "--cert", cert);
  expectOneLineError(r, /other\.crt: signer certificate: does not fit the kit's signer template \(template 1\): tbsCertificate\.serialNumber is 20 bytes, the template stores 16/);
});
