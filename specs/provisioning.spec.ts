/**
 * Provisioning: the signer registered with the cloud by verification certificate, a CSR from the kit's
 * slot-0 key, a device certificate following the kit's template, the slot writes; the console confirms,
 * and slots 10 and 12 read back and rebuild to the very certificates issued.
 */
import { createHash, X509Certificate } from "node:crypto";
import { DescribeCACertificateCommand } from "@aws-sdk/client-iot";
import { expect, test } from "../harness/fixtures.ts";
import { DEVICE_DEFINITION, SIGNER_DEFINITION } from "../harness/pki/atcacert/cert-def.ts";
import { decodeSignerRecord } from "../harness/pki/atcacert/compressed.ts";
import { rebuildCertificate } from "../harness/pki/atcacert/rebuild.ts";
import { publicKeyHashSerial } from "../harness/pki/atcacert/rebuild.ts";
import { encodeDates } from "../harness/pki/atcacert/dates.ts";
import { dataAddress, encodeCommand, OPCODE, ZONE } from "../harness/kit/atecc-packet.ts";
import { rawPublicKey } from "../harness/pki/keys.ts";
import { provision, waitSubscribed } from "../harness/rig/flows.ts";

const unpad = (b: Buffer) => Buffer.concat([b.subarray(4, 36), b.subarray(40, 72)]);

test("a power-cycled kit is provisioned from its slot-0 key and stores the certificates the kit's way", async ({ rig, cloud, pki, jitr }) => {
  await test.step("the signer CA is registered ACTIVE with auto-registration", async () => {
    const d = await cloud.iot.send(new DescribeCACertificateCommand({ certificateId: jitr.caCertificateId }));
    expect(d.certificateDescription).toMatchObject({ status: "ACTIVE", autoRegistrationStatus: "ENABLE" });
    expect(jitr.caCertificateId).toBe(createHash("sha256").update(Buffer.from(pki.signer.cert.rawData)).digest("hex"));
  });

  const p = await provision(rig, pki, { newKey: true });
  await test.info().attach("device certificate", { body: p.deviceCert.toString("pem"), contentType: "application/x-pem-file" });
  await test.info().attach("signer certificate", { body: pki.signer.cert.toString("pem"), contentType: "application/x-pem-file" });

  await test.step("the device certificate follows the kit's template", async () => {
    const cert = new X509Certificate(Buffer.from(p.deviceCert.rawData));
    expect(cert.checkIssued(new X509Certificate(Buffer.from(pki.signer.cert.rawData)))).toBe(true);
    expect(cert.verify(new X509Certificate(Buffer.from(pki.signer.cert.rawData)).publicKey)).toBe(true);
    expect(p.deviceCert.subject).toBe("O=Example Inc, CN=Example Device");
    expect(p.deviceCert.notAfter.toISOString()).toBe("3000-12-31T23:59:59.000Z");
    expect(p.deviceCert.notBefore.getUTCMinutes() + p.deviceCert.notBefore.getUTCSeconds()).toBe(0);
    expect(p.deviceCert.serialNumber).toBe(publicKeyHashSerial(p.publicKey, encodeDates(p.deviceCert.notBefore, 0)).toString("hex"));
  });

  // Read back once the kit is connected: while it connects, the firmware uses the chip itself and a host
  // wake…command sequence would be interleaved (as on the real kit).
  await waitSubscribed(rig, p.thing, p.consoleFrom);

  await test.step("slots 10, 11, 12, 14 and 15 rebuild to the issued certificates", async () => {
    const signerXY = unpad(await rig.atecc.readSlot(11, 72));
    const rootXY = unpad(await rig.atecc.readSlot(15, 72));
    expect(rootXY.equals(rawPublicKey(pki.root.key))).toBe(true);
    const signer = rebuildCertificate(SIGNER_DEFINITION, { compressed: await rig.atecc.readSlot(12, 72), publicKey: signerXY, issuerPublicKey: rootXY, signerRecord: decodeSignerRecord(await rig.atecc.readSlot(14, 72)) });
    expect(signer.toString("hex")).toBe(Buffer.from(pki.signer.cert.rawData).toString("hex"));
    const device = rebuildCertificate(DEVICE_DEFINITION, { compressed: await rig.atecc.readSlot(10, 72), publicKey: p.publicKey, issuerPublicKey: signerXY });
    expect(device.toString("hex")).toBe(Buffer.from(p.deviceCert.rawData).toString("hex"));
  });

  await test.step("slot 0's private key cannot be read", async () => {
    await rig.kit.ok("d:w()");
    const r = await rig.kit.ok(`d:t(${encodeCommand({ opcode: OPCODE.read, param1: ZONE.data | ZONE.size32, param2: dataAddress(0, 0), data: Buffer.alloc(0) }).toString("hex")})`);
    await rig.kit.ok("d:i()");
    expect(r.toString("hex").slice(0, 4)).toBe("040f");
  });

  await test.step("getStatus reports the provisioned state", async () => {
    const status = await rig.kit.app<{ state_id: number }>("getStatus");
    expect(status.state_id).toBeGreaterThanOrEqual(5);
  });
});
