/**
 * Provisioning a kit the way Microchip's kit_provision.py does, over the kit protocol: init (serial and
 * slot-0 public key), genCsr (CSR signed by slot 0), a device certificate from the signer CA,
 * saveCredentials (host name, device and signer certificates, the ROOT CA public key), setWifi.
 * Each step checks what the kit answered, so a wrong reply fails where it happened.
 */
import { rawPublicKeyOfSpki, signDeviceCsr } from "../pki/ca.ts";
import { parseCsr } from "../pki/cert-io.ts";
import { rawPublicKey } from "../pki/keys.ts";
import type { Pki } from "../pki/pki-dir.ts";
import { x509 } from "../pki/x509.ts";
import { step, waitStep } from "../steps.ts";
import type { KitClient } from "./kit-client.ts";
import { KitProtocolError } from "./kit-client.ts";

export interface ProvisionOptions {
  hostName: string;
  ssid: string;
  psk: string | null;
}

export interface Provisioned {
  serialNumber: string;
  publicKey: Buffer;
  csr: Buffer;
  deviceCert: x509.X509Certificate;
}

export async function readIdentity(kit: KitClient): Promise<{ serialNumber: string; publicKey: Buffer }> {
  const init = await kit.app<{ deviceSn?: string; devicePublicKey?: string }>("init", { version: "2.0.0" });
  if (!init.deviceSn || !/^[0-9a-fA-F]{18}$/.test(init.deviceSn)) throw new KitProtocolError("kit app init", `deviceSn "${init.deviceSn}" is not 9 bytes of hex`);
  if (!init.devicePublicKey || !/^[0-9a-fA-F]{128}$/.test(init.devicePublicKey)) throw new KitProtocolError("kit app init", "devicePublicKey is not 64 bytes of hex");
  return { serialNumber: init.deviceSn.toLowerCase(), publicKey: Buffer.from(init.devicePublicKey, "hex") };
}

export async function requestCsr(kit: KitClient, expectedKey: Buffer): Promise<Buffer> {
  const { csr } = await kit.app<{ csr?: string }>("genCsr");
  if (!csr || !/^([0-9a-fA-F]{2})+$/.test(csr)) throw new KitProtocolError("kit app genCsr", "csr is missing or not hex");
  const der = Buffer.from(csr, "hex");
  const req = parseCsr(der, "the kit's CSR");
  if (!rawPublicKeyOfSpki(req.publicKey.rawData).equals(expectedKey)) throw new KitProtocolError("kit app genCsr", "the CSR's key is not the slot-0 key init reported");
  if (!(await req.verify())) throw new KitProtocolError("kit app genCsr", "the CSR's signature does not verify");
  return der;
}

export async function provisionKit(kit: KitClient, pki: Pki, opts: ProvisionOptions): Promise<Provisioned> {
  const id = await waitStep("kit init: serial number and slot-0 public key", () => readIdentity(kit));
  const csr = await waitStep("kit genCsr: CSR signed by slot 0", () => requestCsr(kit, id.publicKey));
  const deviceCert = await step(`device certificate from the CSR, signed by "${pki.signer.cert.subject}"`, () => signDeviceCsr(parseCsr(csr, "the kit's CSR"), pki.signer));
  await waitStep(`kit saveCredentials: host ${opts.hostName}, device and signer certificates, root CA key`, () =>
    kit.app("saveCredentials", {
      hostName: opts.hostName,
      deviceCert: Buffer.from(deviceCert.rawData).toString("hex"),
      signerCert: Buffer.from(pki.signer.cert.rawData).toString("hex"),
      signerCaPublicKey: rawPublicKey(pki.root.key).toString("hex"),
    }),
  );
  await waitStep(`kit setWifi: ${opts.ssid}`, () => kit.app("setWifi", { ssid: opts.ssid, psk: opts.psk }));
  return { ...id, csr, deviceCert };
}
