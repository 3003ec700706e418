import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { DescribeCertificateCommand, ListCertificatesCommand } from "@aws-sdk/client-iot";
import { GetThingShadowCommand, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { analyzeFile } from "../../harness/analysis/analyze-capture.ts";
import { Recorder } from "../../harness/capture/recorder.ts";
import { AteccClient } from "../../harness/kit/atecc-client.ts";
import { dataAddress, encodeCommand, OPCODE, ZONE } from "../../harness/kit/atecc-packet.ts";
import { REPLY, toReports, LineAssembler } from "../../harness/kit/hid-framing.ts";
import { KitAppError } from "../../harness/kit/kit-client.ts";
import { provisionKit } from "../../harness/kit/provisioning.ts";
import { DEVICE_DEFINITION, SIGNER_DEFINITION } from "../../harness/pki/atcacert/cert-def.ts";
import { decodeSignerRecord } from "../../harness/pki/atcacert/compressed.ts";
import { rebuildCertificate } from "../../harness/pki/atcacert/rebuild.ts";
import { rawPublicKey } from "../../harness/pki/keys.ts";
import { thingName } from "../../harness/pki/identity.ts";
import { expect, test } from "../../harness/testing/emulator-fixtures.ts";
import { makePeerCerts, startServer } from "../../harness/testing/openssl-peers.ts";
import { needTools, run } from "../../harness/testing/tools.ts";
import { startVirtualRig, type VirtualRig } from "../../harness/testing/virtual-rig.ts";
import { initPki } from "../../harness/pki/pki-dir.ts";

const rigs: VirtualRig[] = [];
test.afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop();
});
async function rig(opts: Parameters<typeof startVirtualRig>[0]): Promise<VirtualRig> {
  const r = await startVirtualRig(opts);
  rigs.push(r);
  return r;
}

test("a client framing requests as Microchip's host scripts do is served", async ({}, info) => {
  const r = await rig({ stateDir: info.outputPath("kit"), timing: "instant" });
  // Raw reports, as mchp_aws_zt_kit.py writes them: lowercase hex, json.dumps spacing, 0x04 padding.
  const link = connect(r.ports.hid, "127.0.0.1");
  await new Promise((res) => link.once("connect", res));
  const replies: string[] = [];
  const lines = new LineAssembler();
  link.on("data", (d: Buffer) => replies.push(...(lines.push(d) as string[])));
  const send = async (line: string) => {
    const before = replies.length;
    for (const report of toReports(`${line}\n`, 0x04)) link.write(report);
    while (replies.length === before) await new Promise((res) => setTimeout(res, 10));
    return replies[before]!;
  };
  const json = JSON.stringify({ method: "init", params: { version: "2.0.0" }, id: 0 }).replace(/":/g, '": ').replace(/,"/g, ', "');
  const reply = await send(`board:app(${Buffer.from(json).toString("hex")})`);
  const m = /^([0-9a-zA-Z]{2})\(([^)]*)\)/.exec(reply)!;
  expect(m[1]).toBe("00");
  expect(m[2]).toMatch(/^[0-9A-F]+$/);
  const app = JSON.parse(Buffer.from(m[2]!, "hex").toString());
  expect(Object.keys(app)).toEqual(["result", "error", "id"]);
  expect(app).toMatchObject({ error: null, id: 0, result: { deviceSn: expect.stringMatching(/^0123[0-9A-F]{12}EE$/), devicePublicKey: expect.stringMatching(/^[0-9A-F]{128}$/) } });
  expect(await send("d:w()")).toBe("00(04113343)");
  expect(await send("BOARD:VERSION()")).toBe("00(020205)");
  expect(await send("x:nonsense()")).toBe("03()");
  expect(await send("d:t(zz)")).toBe("E2()");
  expect(await send(`b:a(${"41".repeat(3100)})`)).toBe("E4()");
  expect(REPLY.test(await send(`b:a(${Buffer.from('{"method":"fly","params":{},"id":7}').toString("hex")})`))).toBe(true);
  link.destroy();
  await expect(r.kit.app("fly")).rejects.toThrow(KitAppError);
  await expect(r.kit.app("fly")).rejects.toThrow(/error 2: Unknown AWS IoT Zero Touch command message\./);
});

test("OpenSSL checks the twin: its CSR verifies and d:t signatures verify; slot 0 never reads", async ({}, info) => {
  needTools("openssl");
  const r = await rig({ stateDir: info.outputPath("kit"), timing: "instant" });
  const { csr } = await r.kit.app<{ csr: string }>("genCsr");
  const csrFile = info.outputPath("kit.csr");
  writeFileSync(csrFile, Buffer.from(csr, "hex"));
  expect(run("sh", ["-c", `openssl req -inform DER -in ${csrFile} -verify -noout 2>&1`])).toMatch(/verify OK|Certificate request self-signature verify OK/);
  expect(run("openssl", ["req", "-inform", "DER", "-in", csrFile, "-noout", "-subject"]).trim()).toBe("subject=O = Example Inc, CN = Example Device");
  const atecc = new AteccClient(r.kit.ateccPort());
  const pub = await atecc.genKey(0);
  const digest = createHash("sha256").update(randomBytes(64)).digest();
  const sig = await atecc.sign(0, digest);
  const { rawToDer } = await import("../../harness/pki/ecdsa-signature.ts");
  const files = { pub: info.outputPath("pub.pem"), sig: info.outputPath("sig.der"), dgst: info.outputPath("digest.bin") };
  const { publicKeyFromRaw } = await import("../../harness/pki/keys.ts");
  writeFileSync(files.pub, publicKeyFromRaw(pub).export({ format: "pem", type: "spki" }));
  writeFileSync(files.sig, rawToDer(sig));
  writeFileSync(files.dgst, digest);
  expect(run("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", files.pub, "-in", files.dgst, "-sigfile", files.sig])).toContain("Signature Verified Successfully");
  await r.kit.ok("d:w()");
  const read0 = await r.kit.ok(`d:t(${encodeCommand({ opcode: OPCODE.read, param1: ZONE.data | ZONE.size32, param2: dataAddress(0, 0), data: Buffer.alloc(0) }).toString("hex")})`);
  expect(read0.subarray(0, 2).toString("hex")).toBe("040f");
  // Asleep after the watchdog: no answer from the chip.
  await r.kit.ok("d:s()");
  expect((await r.kit.request(`d:t(${encodeCommand({ opcode: OPCODE.info, param1: 0, param2: 0, data: Buffer.alloc(0) }).toString("hex")})`)).line).toBe("F0()");
});

test("provisioned through the kit protocol, the 19.4.4 twin does the JITR two-attempt connect against the emulator", async ({ emu, iot, pki, jitr }, info) => {
  const r = await rig({ stateDir: info.outputPath("kit"), timing: "instant", winc: "19.4.4", trustPem: emu.serverCaPem });
  await r.waitForLine(/has not been provisioned/);
  const p = await provisionKit(r.kit, pki, { hostName: `127.0.0.1:${emu.mqttPort}`, ssid: "zt-lab", psk: "zt-lab-psk" });
  await r.waitForLine(/successfully provisioned/);
  const thing = thingName(p.publicKey);
  await r.waitForLine(new RegExp(`^SUCCESS:  \\$aws/things/${thing}/shadow/update/delta$`));
  const attempts = (await r.control({ cmd: "status" })).attempts as { outcome: string }[];
  expect(attempts.map((a) => a.outcome)).toEqual(["mqtt-refused", "subscribed"]);
  expect(r.console.filter((l) => l === "ERROR:    The AWS IoT Demo failed to connect with the MQTT connect message.")).toHaveLength(1);
  expect(r.console).toContain("SUCCESS:  AWS Zero Touch Demo: Connected to AWS IoT.");
  const certId = createHash("sha256").update(Buffer.from(p.deviceCert.rawData)).digest("hex");
  expect((await iot.send(new DescribeCertificateCommand({ certificateId: certId }))).certificateDescription?.status).toBe("ACTIVE");

  // The slots hold what was issued: rebuild both certificates from slots 10/11/12/14/15.
  const atecc = new AteccClient(r.kit.ateccPort());
  const unpad = (b: Buffer) => Buffer.concat([b.subarray(4, 36), b.subarray(40, 72)]);
  const signerXY = unpad(await atecc.readSlot(11, 72));
  expect(unpad(await atecc.readSlot(15, 72)).equals(rawPublicKey(pki.root.key))).toBe(true);
  const signer = rebuildCertificate(SIGNER_DEFINITION, { compressed: await atecc.readSlot(12, 72), publicKey: signerXY, issuerPublicKey: unpad(await atecc.readSlot(15, 72)), signerRecord: decodeSignerRecord(await atecc.readSlot(14, 72)) });
  expect(signer.equals(Buffer.from(pki.signer.cert.rawData))).toBe(true);
  const device = rebuildCertificate(DEVICE_DEFINITION, { compressed: await atecc.readSlot(10, 72), publicKey: p.publicKey, issuerPublicKey: signerXY });
  expect(device.equals(Buffer.from(p.deviceCert.rawData))).toBe(true);

  // Shadow: desired LED → delta → the kit's LED; a button press → reported.
  const data = emu.iotDataClient();
  await data.send(new UpdateThingShadowCommand({ thingName: thing, payload: Buffer.from('{"state":{"desired":{"led2":"on"}}}') }));
  await expect.poll(async () => ((await r.control({ cmd: "leds" })).leds as Record<string, string>).led2).toBe("on");
  await r.control({ cmd: "press", button: 3 });
  await expect
    .poll(async () => JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: thing }))).payload!).toString()).state.reported)
    .toMatchObject({ led2: "on", button3: "up" });
  expect(emu.events.filter((e) => e.type === "published" && e.detail.topic === `$aws/things/${thing}/shadow/update`).length).toBeGreaterThanOrEqual(3);

  // Power cycles keep the identity; the kit reconnects without a new registration.
  const certsBefore = (await iot.send(new ListCertificatesCommand({}))).certificates!.length;
  await r.control({ cmd: "power", state: "cycle" });
  await expect.poll(async () => ((await r.control({ cmd: "status" })).attempts as { outcome: string }[]).at(-1)?.outcome, { timeout: 15000 }).toBe("subscribed");
  expect((await iot.send(new ListCertificatesCommand({}))).certificates!.length).toBe(certsBefore);
  expect((await new AteccClient(r.kit.ateccPort()).genKey(0)).equals(p.publicKey)).toBe(true);
});

test("the seed ClientHello fails on the strict stack with handshake_failure; the capture shows it byte for byte", async ({ emu, pki, jitr }, info) => {
  emu.setFaults({ tlsStack: "openssl" });
  const file = info.outputPath("kit.pcap");
  const rec = new Recorder({ file, target: { host: "127.0.0.1", port: emu.mqttPort } });
  await rec.start();
  const r = await rig({ stateDir: info.outputPath("kit"), timing: "instant", winc: "19.4.4", trustPem: emu.serverCaPem });
  await provisionKit(r.kit, pki, { hostName: `127.0.0.1:${rec.address.port}`, ssid: "zt-lab", psk: "zt-lab-psk" });
  await r.waitForLine(/SOCKET_MSG_CONNECT error SOCK_ERR_CONN_ABORTED\(-12\)/);
  await r.control({ cmd: "power", state: "off" });
  await rec.stop();
  const c = (await analyzeFile(file)).connections[0]!;
  expect(c.offeredSuites).toEqual([0xc02b]);
  expect(c.extensions).toEqual([{ type: 13, name: "signature_algorithms" }]);
  expect(c.sigalgs).toEqual([0x0403]);
  expect(c.clientHello!.length / 2 - 4).toBe(51);
  expect(c.alerts[0]).toMatchObject({ from: "server", level: "fatal", description: "handshake_failure" });
  expect(emu.events.some((e) => e.type === "tls-error" && e.detail.stack === "openssl")).toBe(true);
});

test("the 19.6 twin completes client-authenticated TLS with openssl s_server -Verify and sends MQTT through it", async ({}, info) => {
  needTools("openssl");
  const dir = info.outputPath();
  const peers = makePeerCerts(dir);
  const pki = await initPki(info.outputPath("pki"));
  writeFileSync(`${dir}/kit-ca.pem`, pki.root.cert.toString("pem") + "\n");
  const srv = await startServer(["-cert", peers.serverCert, "-key", peers.serverKey, "-Verify", "2", "-CAfile", `${dir}/kit-ca.pem`, "-naccept", "1", "-tls1_2"]);
  const r = await rig({ stateDir: info.outputPath("kit"), timing: "instant", winc: "19.6", trustPem: new X509Certificate((await import("node:fs")).readFileSync(peers.caCert)).toString() });
  const p = await provisionKit(r.kit, pki, { hostName: `localhost:${srv.port}`, ssid: "zt-lab", psk: "zt-lab-psk" });
  await expect.poll(() => srv.output(), { timeout: 15000 }).toContain(thingName(p.publicKey));
  const out = srv.output();
  expect(out).toMatch(/verify return:1/);
  expect(out).toContain("CIPHER is ECDHE-ECDSA-AES128-GCM-SHA256");
  expect(out).toContain("MQTT");
  await srv.stop();
});

test("a certificate that does not fit the template gets a clear JSON error and nothing is stored", async ({}, info) => {
  needTools("openssl");
  const r = await rig({ stateDir: info.outputPath("kit"), timing: "instant" });
  const pki = await initPki(info.outputPath("pki"));
  await r.kit.app("init", {});
  const other = makePeerCerts(info.outputPath());
  const foreign = new X509Certificate((await import("node:fs")).readFileSync(other.clientCert)).raw;
  const err = await r.kit
    .app("saveCredentials", { hostName: "localhost", deviceCert: foreign.toString("hex"), signerCert: Buffer.from(pki.signer.cert.rawData).toString("hex"), signerCaPublicKey: rawPublicKey(pki.root.key).toString("hex") })
    .then(() => null, (e: KitAppError) => e.appError);
  expect(err).toMatchObject({ error_code: 256, error_msg: expect.stringMatching(/device certificate/) });
  expect((await r.kit.app<{ state_id: number }>("getStatus")).state_id).toBe(4);
  const atecc = new AteccClient(r.kit.ateccPort());
  expect((await atecc.readSlot(10, 72)).equals(Buffer.alloc(72))).toBe(true);
});
