/**
 * Provisioning: the signer registered with the cloud by verification certificate, a CSR from the kit's
 * slot-0 key, a device certificate following the kit's template, the slot writes. What a v2.2.5 kit
 * can be asked about its slots is what it does with them: on the next connect it rebuilds the chain
 * from slots 10/11/12/14/15 (and slot 0's public key) and presents it in the TLS handshake — so the
 * capture must show the very certificates issued, byte for byte, and a CertificateVerify made with the
 * slot-0 key. Its getStatus answers the same constant on every v2.2.5 kit.
 */
import { createHash, X509Certificate } from "node:crypto";
import { DescribeCACertificateCommand } from "@aws-sdk/client-iot";
import { analyzeFile } from "../harness/analysis/analyze-capture.ts";
import { expect, test } from "../harness/fixtures.ts";
import { getStatus } from "../harness/kit/kit-status.ts";
import { publicKeyHashSerial } from "../harness/pki/atcacert/rebuild.ts";
import { encodeDates } from "../harness/pki/atcacert/dates.ts";
import { provision, waitSubscribed } from "../harness/rig/flows.ts";

const sha256 = (der: ArrayBuffer) => createHash("sha256").update(Buffer.from(der)).digest("hex");

test("a power-cycled kit is provisioned from its slot-0 key and presents the issued chain rebuilt from its slots", async ({ rig, cloud, pki, jitr, capture }) => {
  await test.step("the signer CA is registered ACTIVE with auto-registration", async () => {
    const d = await cloud.iot.send(new DescribeCACertificateCommand({ certificateId: jitr.caCertificateId }));
    expect(d.certificateDescription).toMatchObject({ status: "ACTIVE", autoRegistrationStatus: "ENABLE" });
    expect(jitr.caCertificateId).toBe(sha256(pki.signer.cert.rawData));
  });

  const bootFrom = rig.console.mark();
  const p = await provision(rig, pki, { newKey: true });
  await test.info().attach("device certificate", { body: p.deviceCert.toString("pem"), contentType: "application/x-pem-file" });
  await test.info().attach("signer certificate", { body: pki.signer.cert.toString("pem"), contentType: "application/x-pem-file" });

  await test.step("the boot the firmware prints: banner, WINC version, the not-provisioned warning", async () => {
    const boot = rig.console.since(bootFrom).map((l) => l.text);
    expect(boot).toContain("VERSION:  AWS IoT Zero Touch Demo v2.2.5");
    expect(boot.some((l) => /^  WINC1500: Firmware Version: \d+\.\d+\.\d+$/.test(l))).toBe(true);
    expect(boot).toContain("WARNING:  The ATECCx08A device has not been provisioned. Waiting ...");
  });

  await test.step("the device certificate follows the kit's template", async () => {
    const cert = new X509Certificate(Buffer.from(p.deviceCert.rawData));
    expect(cert.checkIssued(new X509Certificate(Buffer.from(pki.signer.cert.rawData)))).toBe(true);
    expect(cert.verify(new X509Certificate(Buffer.from(pki.signer.cert.rawData)).publicKey)).toBe(true);
    expect(p.deviceCert.subject).toBe("O=Example Inc, CN=Example Device");
    expect(p.deviceCert.notAfter.toISOString()).toBe("3000-12-31T23:59:59.000Z");
    expect(p.deviceCert.notBefore.getUTCMinutes() + p.deviceCert.notBefore.getUTCSeconds()).toBe(0);
    expect(p.deviceCert.serialNumber).toBe(publicKeyHashSerial(p.publicKey, encodeDates(p.deviceCert.notBefore, 0)).toString("hex"));
  });

  await waitSubscribed(rig, p.thing, p.consoleFrom);
  await capture.stop();

  await test.step("the kit presents the issued device and signer certificates, rebuilt from its slots, and signs with slot 0", async () => {
    const report = await analyzeFile(capture.file);
    const last = report.connections.filter((c) => c.handshakeComplete).at(-1);
    expect(last, "a completed handshake in the capture").toBeDefined();
    expect(last!.clientAuth.clientChain.map((c) => c.sha256)).toEqual([sha256(p.deviceCert.rawData), sha256(pki.signer.cert.rawData)]);
    expect(last!).toAuthenticateClient();
  });

  await test.step("kit getStatus: what every v2.2.5 kit answers (it reads the status after overwriting it)", async () => {
    const status = await getStatus(rig.kit);
    expect(status).toMatchObject({ state: "atecc-configure", status: "success", message: expect.stringMatching(/^The AWS IoT Demo successfully returned the current status inform/) });
  });
});
