/**
 * The kit's TLS on the wire: TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 negotiated, a ClientHello
 * as the rig's WINC firmware sends it for v2.2.5 (which asks for SSL_ECC_ONLY_CIPHERS — 0xC02B and
 * 0xC023 — and never sets SNI), and client authentication whose CertificateVerify really verifies.
 */
import { analyzeFile } from "../harness/analysis/analyze-capture.ts";
import { expect, test } from "../harness/fixtures.ts";
import { parseKeyLog } from "../harness/tls/keylog.ts";
import { connectedKit } from "../harness/rig/flows.ts";

test("the kit negotiates 0xC02B with client authentication, as its WINC profile says", async ({ rig, cloud, pki, capture }) => {
  const kit = await connectedKit(rig, pki);
  await capture.stop();
  const keys = await cloud.keyLog();
  const report = await test.step("analyze the capture", () => analyzeFile(capture.file, keys ? parseKeyLog(keys) : undefined));
  expect(report.problems).toEqual([]);
  expect(report.connections.length).toBeGreaterThanOrEqual(1);
  for (const c of report.connections) {
    await test.step(`connection ${c.index} ${c.client} → ${c.server}`, async () => {
      expect(c).toNegotiate(0xc02b, "TLS1.2");
      // The seed's WINC 19.4.4 offered 0xC02B alone; 19.5.2 and later offer v2.2.5's 0xC023 too.
      expect(c).toOfferOnly(rig.rig.kit.winc === "19.4.4" ? [0xc02b] : [0xc02b, 0xc023]);
      expect(c.sni).toBeNull();
      expect(c).toAuthenticateClient();
      expect(c).toCompleteHandshake();
      expect(c.serverKeyExchange).toMatchObject({ curve: "secp256r1", signature: "valid" });
      expect(c.clientAuth.clientChain.map((s) => s.subject)).toEqual(["O=Example Inc, CN=Example Device", pki.signer.cert.subject]);
      expect(c.sigalgs).toEqual([0x0403]);
      if (rig.rig.kit.winc === "19.6") {
        expect(c.groups).toEqual([23]);
        expect(c.extensions.map((e) => e.name)).toContain("supported_groups");
      } else {
        expect(c.extensions).toEqual([{ type: 13, name: "signature_algorithms" }]);
        if (rig.rig.kit.winc === "19.4.4") expect(c.clientHello!.length / 2 - 4).toBe(51);
      }
    });
  }
  const last = report.connections.at(-1)!;
  if (last.decrypted) {
    await test.step("MQTT inside the last connection (decrypted with the emulator's key log)", async () => {
      expect(last.mqtt.find((m) => m.cmd === "connect")?.detail).toMatchObject({ clientId: kit.thing, keepalive: 900, clean: true });
      expect(last.mqtt.some((m) => m.cmd === "connack" && m.detail.returnCode === 0)).toBe(true);
    });
  }
  await test.info().attach("handshake verdicts (JSON)", { body: JSON.stringify(report.connections, null, 2), contentType: "application/json" });
});
