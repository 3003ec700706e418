/**
 * The emulator's TLS identity: an ECDSA P-256 CA and a server certificate for localhost/127.0.0.1/::1
 * (AWS IoT's ATS endpoints serve ECDSA chains too). Generated on first start and kept in the data
 * directory (server-ca.pem for clients to trust, server-chain.pem, server.key mode 0600).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPrivateKey } from "node:crypto";
import { exampleName, randomSerial } from "../../pki/ca.ts";
import { pemBundle } from "../../pki/cert-io.ts";
import { generateP256, toCryptoKey, writePrivateKey } from "../../pki/keys.ts";
import { x509 } from "../../pki/x509.ts";
import type { ServerIdentity } from "./data-plane.ts";

const ECDSA = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

async function generate(): Promise<{ caPem: string; chainPem: string; keyPem: string }> {
  const caKeys = generateP256();
  const leafKeys = generateP256();
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
  const years = (n: number) => new Date(now.getTime() + n * 365 * 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: exampleName("zt-hil IoT Core emulator CA"),
    issuer: exampleName("zt-hil IoT Core emulator CA"),
    notBefore: now,
    notAfter: years(20),
    signingAlgorithm: ECDSA,
    publicKey: await toCryptoKey(caKeys.publicKey),
    signingKey: await toCryptoKey(caKeys.privateKey),
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(await toCryptoKey(caKeys.publicKey))],
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=localhost",
    issuer: ca.subjectName,
    notBefore: now,
    notAfter: years(10),
    signingAlgorithm: ECDSA,
    publicKey: await toCryptoKey(leafKeys.publicKey),
    signingKey: await toCryptoKey(caKeys.privateKey),
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "localhost" }, { type: "ip", value: "127.0.0.1" }, { type: "ip", value: "::1" }]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return {
    caPem: ca.toString("pem") + "\n",
    chainPem: leaf.toString("pem") + "\n" + ca.toString("pem") + "\n",
    keyPem: leafKeys.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

function identity(chainPem: string, keyPem: string): ServerIdentity {
  return { chain: pemBundle(chainPem, "emulator server chain"), chainPem, keyPem, key: createPrivateKey(keyPem) };
}

/** Load the identity from `dataDir`, creating it on first use; in memory when `dataDir` is null. */
export async function serverIdentity(dataDir: string | null): Promise<ServerIdentity & { caPem: string }> {
  if (dataDir) {
    const f = (n: string) => join(dataDir, n);
    if (existsSync(f("server-chain.pem")) && existsSync(f("server.key")) && existsSync(f("server-ca.pem"))) {
      return { ...identity(readFileSync(f("server-chain.pem"), "utf8"), readFileSync(f("server.key"), "utf8")), caPem: readFileSync(f("server-ca.pem"), "utf8") };
    }
    const g = await generate();
    writeFileSync(f("server-ca.pem"), g.caPem);
    writeFileSync(f("server-chain.pem"), g.chainPem);
    writePrivateKey(f("server.key"), createPrivateKey(g.keyPem));
    return { ...identity(g.chainPem, g.keyPem), caPem: g.caPem };
  }
  const g = await generate();
  return { ...identity(g.chainPem, g.keyPem), caPem: g.caPem };
}
