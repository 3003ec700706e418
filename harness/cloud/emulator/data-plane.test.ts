import { connect as netConnect } from "node:net";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AttachPolicyCommand,
  AttachPrincipalPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  GetPolicyCommand,
  ListCertificatesCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCACertificateCommand,
  UpdateCertificateCommand,
  type IoTClient,
} from "@aws-sdk/client-iot";
import mqtt from "mqtt";
import { analyzeFile } from "../../analysis/analyze-capture.ts";
import { Recorder } from "../../capture/recorder.ts";
import { randomSerial } from "../../pki/ca.ts";
import { generateP256, toCryptoKey, writePrivateKey } from "../../pki/keys.ts";
import { initPki, PKI_FILES, type Pki } from "../../pki/pki-dir.ts";
import { x509 } from "../../pki/x509.ts";
import { makeDevice, type TestDevice } from "../../testing/device.ts";
import { expect, runAsync, test } from "../../testing/emulator-fixtures.ts";
import { needTools, spawnUntilFirstLine } from "../../testing/tools.ts";
import { ExtensionType, TLS12 } from "../../tls/constants.ts";
import { encodeClientHello, HandshakeReassembler, u16ListExtension, decodeCertificateRequest, decodeServerHello, decodeServerKeyExchange } from "../../tls/handshake.ts";
import { encodeRecord, RecordReader } from "../../tls/record.ts";
import { parseKeyLog } from "../../tls/keylog.ts";
import { ztPolicy } from "../jitr-lambda.ts";
import type { IotCoreEmulator } from "./emulator.ts";

const certCount = async (iot: IoTClient) => (await iot.send(new ListCertificatesCommand({}))).certificates!.length;

function mosquittoPub(emu: IotCoreEmulator, caFile: string, dev: Pick<TestDevice, "chainFile" | "keyFile" | "thingName">, topic = `${dev.thingName}/hello`) {
  return runAsync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(emu.mqttPort), "--cafile", caFile, "--insecure", "--cert", dev.chainFile, "--key", dev.keyFile, "-i", dev.thingName, "-t", topic, "-m", "hi", "-q", "1", "-d"]);
}

/** Register a device ACTIVE (without its CA) with the kit's policy and thing, not going through JITR. */
async function activeDevice(iot: IoTClient, pki: Pki, dir: string, name = "device"): Promise<TestDevice> {
  const dev = await makeDevice(pki, dir, name);
  const r = await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: dev.certPem, status: "ACTIVE" }));
  await iot.send(new CreatePolicyCommand({ policyName: `p-${name}`, policyDocument: ztPolicy("us-east-1", "123456789012", dev.thingName) }));
  await iot.send(new AttachPrincipalPolicyCommand({ policyName: `p-${name}`, principal: r.certificateArn }));
  await iot.send(new CreateThingCommand({ thingName: dev.thingName }));
  await iot.send(new AttachThingPrincipalCommand({ thingName: dev.thingName, principal: r.certificateArn }));
  return dev;
}

function mqttClient(emu: IotCoreEmulator, dev: TestDevice, extra: Partial<mqtt.IClientOptions> = {}) {
  return mqtt.connect({ protocol: "mqtts", host: "127.0.0.1", port: emu.mqttPort, ca: emu.serverCaPem, cert: readFileSync(dev.chainFile), key: readFileSync(dev.keyFile), clientId: dev.thingName, reconnectPeriod: 0, connectTimeout: 3000, ...extra });
}

test.beforeEach(() => needTools("openssl", "mosquitto_pub"));

test("JITR with mosquitto as the device: first attempt dropped and registered, Lambda activates, second attempt connects", async ({ emu, iot, pki, jitr, serverCaFile }) => {
  const dev = await makeDevice(pki, test.info().outputPath());
  const seen: string[] = [];
  emu.data.broker.subscribe(`$aws/events/certificates/registered/${jitr.caId}`, (packet, cb) => (seen.push(packet.payload.toString()), cb()), () => {});
  const first = await mosquittoPub(emu, serverCaFile, dev);
  expect(first.code).not.toBe(0);
  expect(first.output).not.toContain("received CONNACK");
  expect((await emu.waitForEvent((e) => e.type === "refused")).detail.reason).toBe("certificate registered PENDING_ACTIVATION (JITR)");
  await emu.waitForEvent((e) => e.type === "lambda-succeeded");
  expect(seen).toHaveLength(1);
  expect(JSON.parse(seen[0]!)).toMatchObject({ certificateId: dev.certId, caCertificateId: jitr.caId, certificateStatus: "PENDING_ACTIVATION", awsAccountId: "123456789012", timestamp: expect.any(Number) });
  expect((await iot.send(new DescribeCertificateCommand({ certificateId: dev.certId }))).certificateDescription?.status).toBe("ACTIVE");
  expect((await iot.send(new DescribeThingCommand({ thingName: dev.thingName }))).thingTypeName).toBe("microchip-zero-touch-kit");
  expect((await iot.send(new GetPolicyCommand({ policyName: `ZTPolicy_${dev.certId}` }))).policyDocument).toContain(`client/${dev.thingName}`);
  const second = await mosquittoPub(emu, serverCaFile, dev);
  expect(second.output).toContain("received CONNACK (0)");
  expect(second.output).toContain("received PUBACK");
  expect(second.code).toBe(0);
});

test("mosquitto_sub receives a shadow delta published through the emulator", async ({ emu, iot, pki, serverCaFile }) => {
  needTools("mosquitto_sub");
  const dev = await activeDevice(iot, pki, test.info().outputPath());
  const sub = runAsync("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(emu.mqttPort), "--cafile", serverCaFile, "--insecure", "--cert", dev.chainFile, "--key", dev.keyFile, "-i", dev.thingName, "-t", `$aws/things/${dev.thingName}/shadow/update/delta`, "-C", "1", "-W", "10"]);
  await emu.waitForEvent((e) => e.type === "subscribed");
  const data = emu.iotDataClient();
  const { UpdateThingShadowCommand } = await import("@aws-sdk/client-iot-data-plane");
  await data.send(new UpdateThingShadowCommand({ thingName: dev.thingName, payload: Buffer.from('{"state":{"desired":{"led1":"on"}}}') }));
  const out = await sub;
  expect(out.code).toBe(0);
  expect(JSON.parse(out.output)).toMatchObject({ state: { led1: "on" }, version: 1 });
});

async function issueWith(dir: string, name: string, o: { subject?: string; issuer: string; signingKey: Awaited<ReturnType<typeof toCryptoKey>>; notBefore?: Date; notAfter?: Date }) {
  const keys = generateP256();
  const keyFile = `${dir}/${name}.key`;
  writePrivateKey(keyFile, keys.privateKey);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: o.subject ?? "O=Example Inc, CN=Example Device",
    issuer: o.issuer,
    notBefore: o.notBefore ?? new Date(Date.now() - 3600e3),
    notAfter: o.notAfter ?? new Date(Date.now() + 86400e3),
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    publicKey: await toCryptoKey(keys.publicKey),
    signingKey: o.signingKey,
  });
  const chainFile = `${dir}/${name}-chain.pem`;
  writeFileSync(chainFile, cert.toString("pem") + "\n");
  return { keyFile, chainFile, thingName: name };
}

/** A device whose certificate is ACTIVE with the given policy document (or none). */
async function deviceWithPolicy(iot: IoTClient, pki: Pki, dir: string, name: string, policy: string | null): Promise<TestDevice> {
  const dev = await makeDevice(pki, dir, name);
  const r = await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: dev.certPem, status: "ACTIVE" }));
  if (policy) {
    await iot.send(new CreatePolicyCommand({ policyName: `p-${name}`, policyDocument: policy }));
    await iot.send(new AttachPrincipalPolicyCommand({ policyName: `p-${name}`, principal: r.certificateArn }));
  }
  return dev;
}

test("the bad-authentication matrix: every case is refused for its own reason, without CONNACK, and registers nothing", async ({ emu, iot, pki, jitr, serverCaFile }) => {
  test.setTimeout(120_000);
  const dir = test.info().outputPath();
  const signerKey = await toCryptoKey(pki.signer.key);
  const other = await initPki(`${dir}/other-pki`);
  const otherKey = await toCryptoKey(other.signer.key);
  const allowConnect = (clientId: string, effect = "Allow") => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: effect, Action: "iot:Connect", Resource: `arn:aws:iot:us-east-1:123456789012:client/${clientId}` }] });
  const ca = (status: "ACTIVE" | "INACTIVE", auto: "ENABLE" | "DISABLE") => iot.send(new UpdateCACertificateCommand({ certificateId: jitr.caId, newStatus: status, newAutoRegistrationStatus: auto }));
  type Dev = Pick<TestDevice, "chainFile" | "keyFile" | "thingName">;
  const rows: { name: string; device: () => Promise<Dev>; before?: () => Promise<unknown>; after?: () => Promise<unknown>; reason: RegExp }[] = [
    { name: "a certificate from an unregistered CA", device: () => makeDevice(other, dir, "stranger"), reason: /^unknown CA$/ },
    { name: "an expired certificate", device: () => issueWith(dir, "expired", { issuer: pki.signer.cert.subject, signingKey: signerKey, notBefore: new Date(Date.now() - 3 * 86400e3), notAfter: new Date(Date.now() - 86400e3) }), reason: /^certificate expired$/ },
    { name: "a certificate not yet valid", device: () => issueWith(dir, "future", { issuer: pki.signer.cert.subject, signingKey: signerKey, notBefore: new Date(Date.now() + 86400e3), notAfter: new Date(Date.now() + 2 * 86400e3) }), reason: /^certificate not yet valid$/ },
    { name: "the signer's name, another key's signature (forged)", device: () => issueWith(dir, "forged", { issuer: pki.signer.cert.subject, signingKey: otherKey }), reason: /^unknown CA$/ },
    { name: "a self-signed device certificate", device: async () => { const keys = generateP256(); const keyFile = `${dir}/self.key`; writePrivateKey(keyFile, keys.privateKey); const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: randomSerial(), name: "CN=self", notBefore: new Date(Date.now() - 3600e3), notAfter: new Date(Date.now() + 86400e3), signingAlgorithm: { name: "ECDSA", hash: "SHA-256" }, keys: { publicKey: await toCryptoKey(keys.publicKey), privateKey: await toCryptoKey(keys.privateKey) } }); writeFileSync(`${dir}/self-chain.pem`, cert.toString("pem") + "\n"); return { keyFile, chainFile: `${dir}/self-chain.pem`, thingName: "self" }; }, reason: /^unknown CA$/ },
    { name: "the signer CA's own certificate as a client certificate", device: async () => { writeFileSync(`${dir}/signer-as-client.pem`, pki.signer.cert.toString("pem") + "\n"); return { keyFile: join(pki.dir, PKI_FILES.signerKey), chainFile: `${dir}/signer-as-client.pem`, thingName: "signer" }; }, reason: /^unknown CA$/ },
    { name: "the root CA's certificate as a client certificate", device: async () => { writeFileSync(`${dir}/root-as-client.pem`, pki.root.cert.toString("pem") + "\n"); return { keyFile: join(pki.dir, PKI_FILES.rootKey), chainFile: `${dir}/root-as-client.pem`, thingName: "root" }; }, reason: /^unknown CA$/ },
    { name: "a CA with auto-registration disabled", before: () => ca("ACTIVE", "DISABLE"), after: () => ca("ACTIVE", "ENABLE"), device: () => makeDevice(pki, dir, "noauto"), reason: /auto-registration disabled$/ },
    { name: "an INACTIVE CA", before: () => ca("INACTIVE", "ENABLE"), after: () => ca("ACTIVE", "ENABLE"), device: () => makeDevice(pki, dir, "inactive-ca"), reason: /is INACTIVE$/ },
    { name: "a certificate registered INACTIVE", device: async () => { const d = await makeDevice(pki, dir, "inactive"); await iot.send(new RegisterCertificateCommand({ certificatePem: d.certPem, status: "INACTIVE" })); return d; }, reason: /^certificate is INACTIVE$/ },
    { name: "a REVOKED certificate", device: async () => { const d = await makeDevice(pki, dir, "revoked"); await iot.send(new RegisterCertificateCommand({ certificatePem: d.certPem, status: "INACTIVE" })); await iot.send(new UpdateCertificateCommand({ certificateId: d.certId, newStatus: "REVOKED" })); return d; }, reason: /^certificate is REVOKED$/ },
    { name: "a certificate still PENDING_ACTIVATION (the Lambda did not run)", before: async () => emu.setFaults({ lambda: "off" }), after: async () => emu.setFaults({ lambda: "on" }), device: async () => { const d = await makeDevice(pki, dir, "pending"); await mosquittoPub(emu, serverCaFile, d); return d; }, reason: /^certificate is PENDING_ACTIVATION$/ },
    { name: "an ACTIVE certificate with no policy", device: () => deviceWithPolicy(iot, pki, dir, "nopolicy", null), reason: /^iot:Connect not allowed$/ },
    { name: "a policy for another client id", device: () => deviceWithPolicy(iot, pki, dir, "otherid", allowConnect("someone-else")), reason: /^iot:Connect not allowed$/ },
    { name: "an explicit Deny of iot:Connect", device: async () => { const d = await deviceWithPolicy(iot, pki, dir, "denied", allowConnect("*")); await iot.send(new CreatePolicyCommand({ policyName: "deny-denied", policyDocument: allowConnect("*", "Deny") })); await iot.send(new AttachPolicyCommand({ policyName: "deny-denied", target: `arn:aws:iot:us-east-1:123456789012:cert/${d.certId}` })); return d; }, reason: /^iot:Connect not allowed$/ },
    { name: "a client id of * against ${iot:ClientId} (not a wildcard)", device: async () => ({ ...(await deviceWithPolicy(iot, pki, dir, "star", JSON.stringify({ Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "arn:aws:iot:us-east-1:123456789012:client/prefix-${iot:ClientId}" }] }))), thingName: "*" }), reason: /^iot:Connect not allowed$/ },
    { name: "a self-signed certificate after a shadow document tried to pollute Object.prototype", before: () => fetch(`${emu.apiEndpoint}/things/any/shadow`, { method: "POST", body: '{"state":{"desired":{"__proto__":{"status":"ACTIVE","caId":"x"}}}}' }), device: () => issueWith(dir, "after-pollution", { subject: "CN=after-pollution", issuer: "CN=after-pollution", signingKey: otherKey }), reason: /^unknown CA$/ },
  ];
  for (const row of rows) {
    await test.step(row.name, async () => {
      await row.before?.();
      const dev = await row.device();
      const before = await certCount(iot);
      const n = emu.events.filter((e) => e.type === "refused" || e.type === "tls-error").length;
      const r = await mosquittoPub(emu, serverCaFile, dev);
      expect(r.output).not.toContain("received CONNACK");
      expect(await certCount(iot)).toBe(before);
      const ev = emu.events.filter((e) => e.type === "refused" || e.type === "tls-error")[n];
      expect(String(ev?.detail.reason ?? ev?.detail.error)).toMatch(row.reason);
      await row.after?.();
    });
  }
  await test.step("no client certificate at all: the handshake fails", async () => {
    const before = await certCount(iot);
    const noCert = await runAsync("openssl", ["s_client", "-connect", `127.0.0.1:${emu.mqttPort}`, "-CAfile", serverCaFile], { input: "" });
    expect(noCert.output).toMatch(/alert handshake failure|handshake failure/);
    expect(await certCount(iot)).toBe(before);
  });
  expect(rows.length + 1).toBe(18);
});

test("policies authorize connect, publish and subscribe; a second connection takes the client id over", async ({ emu, iot, pki }) => {
  const dev = await activeDevice(iot, pki, test.info().outputPath());
  const impostorId = { ...dev, thingName: "someone-else" };
  const impostor = mqttClient(emu, impostorId as TestDevice);
  const impostorOutcome = await new Promise<string>((r) => {
    impostor.on("connect", () => r("connected"));
    impostor.on("close", () => r("closed"));
  });
  expect(impostorOutcome).toBe("closed");
  expect(emu.events.some((e) => e.type === "refused" && e.detail.reason === "iot:Connect not allowed")).toBe(true);

  const a = mqttClient(emu, dev);
  await new Promise((r) => a.on("connect", r));
  const granted = await a.subscribeAsync(`$aws/things/${dev.thingName}/shadow/update/delta`);
  expect(granted.map((g) => g.qos)).toEqual([0]);
  const denied = await a.subscribeAsync("other/topic").then(() => null, (e: { packet?: { granted?: number[] } }) => e.packet?.granted);
  expect(denied).toEqual([128]);
  const closedA = new Promise((r) => a.on("close", () => r(undefined)));
  const b = mqttClient(emu, dev);
  await new Promise((r) => b.on("connect", r));
  await closedA;
  const closedB = new Promise((r) => b.on("close", () => r(undefined)));
  b.publish("other/topic", "x", { qos: 1 });
  await closedB;
  a.end(true);
  b.end(true);
});

test("shadow round trip over MQTT with mqtt.js: desired → delta, reported → accepted and documents", async ({ emu, iot, pki }) => {
  const dev = await activeDevice(iot, pki, test.info().outputPath());
  const c = mqttClient(emu, dev);
  await new Promise((r) => c.on("connect", r));
  const base = `$aws/things/${dev.thingName}/shadow`;
  await c.subscribeAsync([`${base}/update/delta`, `${base}/update/accepted`, `${base}/get/accepted`, `${base}/update/rejected`]);
  const next = (topic: string) => new Promise<Record<string, unknown>>((r) => c.on("message", (t, p) => t === topic && r(JSON.parse(p.toString()))));
  const delta = next(`${base}/update/delta`);
  emu.data.shadowRequest(dev.thingName, "update", Buffer.from('{"state":{"desired":{"led1":"on","led2":"off"}}}'));
  expect((await delta).state).toEqual({ led1: "on", led2: "off" });
  const accepted = next(`${base}/update/accepted`);
  await c.publishAsync(`${base}/update`, JSON.stringify({ state: { reported: { led1: "on", led2: "off", button1: "down" } }, clientToken: "t1" }));
  expect(await accepted).toMatchObject({ state: { reported: { button1: "down" } }, version: 2, clientToken: "t1" });
  const got = next(`${base}/get/accepted`);
  await c.publishAsync(`${base}/get`, "{}");
  expect(((await got).state as Record<string, unknown>).delta).toBeUndefined();
  const rejected = next(`${base}/update/rejected`);
  await c.publishAsync(`${base}/update`, "not json");
  expect(await rejected).toMatchObject({ code: 400, message: "Payload contains invalid json" });
  c.end(true);
});

/** Send raw bytes to the MQTT port and collect the server's handshake messages or alert. */
async function rawHello(emu: IotCoreEmulator, hello: Buffer): Promise<{ types: number[]; alert?: number; bodies: Map<number, Buffer> }> {
  return new Promise((resolve) => {
    const s = netConnect(emu.mqttPort, "127.0.0.1", () => s.write(encodeRecord(22, TLS12, hello)));
    const reader = new RecordReader("server");
    const hs = new HandshakeReassembler();
    const out = { types: [] as number[], bodies: new Map<number, Buffer>(), alert: undefined as number | undefined };
    s.on("data", (d) => {
      reader.push(d);
      for (let r = reader.next(); r; r = reader.next()) {
        if (r.type === 21) out.alert = r.fragment[1];
        if (r.type === 22) for (const m of hs.push(r.fragment)) (out.types.push(m.type), out.bodies.set(m.type, m.body));
      }
      if (out.types.includes(14) || out.alert !== undefined) (s.destroy(), resolve(out));
    });
    s.on("close", () => resolve(out));
    s.on("error", () => resolve(out));
  });
}

const seedHello = () => encodeClientHello({ version: TLS12, random: randomBytes(32), sessionId: Buffer.alloc(0), cipherSuites: [0xc02b], compressionMethods: [0], extensions: [u16ListExtension(ExtensionType.signatureAlgorithms, [0x0403])] });

test("the kit's seed ClientHello: the aws stack answers with P-256, the openssl stack refuses it", async ({ emu }) => {
  const aws = await rawHello(emu, seedHello());
  expect(aws.types).toEqual([2, 11, 12, 13, 14]);
  expect(decodeServerHello(aws.bodies.get(2)!).cipherSuite).toBe(0xc02b);
  expect(decodeServerKeyExchange(aws.bodies.get(12)!).namedCurve).toBe(23);
  const cr = decodeCertificateRequest(aws.bodies.get(13)!);
  expect(cr.certificateAuthorities).toEqual([]);
  expect(cr.signatureAlgorithms).toContain(0x0403);
  emu.setFaults({ tlsStack: "openssl" });
  const strict = await rawHello(emu, seedHello());
  expect(strict.types).toEqual([]);
  expect(strict.alert).toBe(40);
});

test("openssl s_client completes mutual TLS 1.2 on both stacks", async ({ emu, iot, pki, serverCaFile }) => {
  const dev = await activeDevice(iot, pki, test.info().outputPath());
  for (const stack of ["aws", "openssl"] as const) {
    emu.setFaults({ tlsStack: stack });
    const r = await runAsync("openssl", ["s_client", "-connect", `127.0.0.1:${emu.mqttPort}`, "-CAfile", serverCaFile, "-cert", dev.chainFile, "-key", dev.keyFile, "-verify_return_error"], { input: "" });
    expect(r.output).toContain("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256");
    expect(r.output).toContain("Verify return code: 0 (ok)");
  }
});

test("fault knobs: lambda off/fail/delay, SNI, dropped handshakes, withheld CONNACK, connect rate", async ({ emu, iot, pki, jitr, serverCaFile }) => {
  const dir = test.info().outputPath();
  emu.setFaults({ lambda: "off" });
  const d1 = await makeDevice(pki, dir, "d1");
  await mosquittoPub(emu, serverCaFile, d1);
  await mosquittoPub(emu, serverCaFile, d1);
  expect(emu.events.filter((e) => e.type === "jitr-pending" && e.detail.certificateId === d1.certId)).toHaveLength(2);
  expect(emu.events.some((e) => e.type === "lambda-invoked")).toBe(false);
  expect((await iot.send(new DescribeCertificateCommand({ certificateId: d1.certId }))).certificateDescription?.status).toBe("PENDING_ACTIVATION");

  emu.setFaults({ lambda: "fail" });
  const d2 = await makeDevice(pki, dir, "d2");
  await mosquittoPub(emu, serverCaFile, d2);
  expect((await emu.waitForEvent((e) => e.type === "lambda-failed")).detail.error).toBe("fault: lambda=fail");

  emu.setFaults({ lambda: "on", lambdaDelayMs: 400 });
  const d3 = await makeDevice(pki, dir, "d3");
  await mosquittoPub(emu, serverCaFile, d3);
  const registered = await emu.waitForEvent((e) => e.type === "jitr-registered" && e.detail.certificateId === d3.certId);
  const invoked = await emu.waitForEvent((e) => e.type === "lambda-invoked" && (e.detail.event as { certificateId: string }).certificateId === d3.certId);
  expect(invoked.time - registered.time).toBeGreaterThanOrEqual(390);
  await emu.waitForEvent((e) => e.type === "lambda-succeeded" && (e.detail.result as { thingName: string }).thingName === d3.thingName);

  emu.setFaults({ requireSni: true });
  const noSni = await runAsync("openssl", ["s_client", "-connect", `127.0.0.1:${emu.mqttPort}`, "-noservername", "-cert", d3.chainFile, "-key", d3.keyFile], { input: "" });
  expect(noSni.output).toMatch(/unrecognized name/);
  const withSni = await runAsync("openssl", ["s_client", "-connect", `127.0.0.1:${emu.mqttPort}`, "-servername", "localhost", "-cert", d3.chainFile, "-key", d3.keyFile], { input: "" });
  expect(withSni.output).toContain("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256");
  emu.setFaults({ requireSni: false, dropAfterHandshake: true });
  expect((await mosquittoPub(emu, serverCaFile, d3)).output).not.toContain("CONNACK");
  emu.setFaults({ dropAfterHandshake: false, withholdConnack: true });
  const hung = await runAsync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(emu.mqttPort), "--cafile", serverCaFile, "--insecure", "--cert", d3.chainFile, "--key", d3.keyFile, "-i", d3.thingName, "-t", `${d3.thingName}/x`, "-m", "x"], { timeoutMs: 1500 });
  expect(hung.output).not.toContain("CONNACK");
  emu.setFaults({ withholdConnack: false, connectRatePerSecond: 1 });
  expect((await mosquittoPub(emu, serverCaFile, d3)).code).toBe(0);
  expect((await mosquittoPub(emu, serverCaFile, d3)).output).not.toContain("CONNACK");
  expect(emu.events.some((e) => e.type === "refused" && e.detail.reason === "connect rate limit")).toBe(true);
});

test("the key log decrypts a recorded emulator session, MQTT included", async ({ emu, iot, pki, serverCaFile }) => {
  needTools("openssl");
  const dev = await activeDevice(iot, pki, test.info().outputPath());
  const file = test.info().outputPath("emulator.pcap");
  const rec = new Recorder({ file, target: { host: "127.0.0.1", port: emu.mqttPort } });
  await rec.start();
  const r = await runAsync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(rec.address.port), "--cafile", serverCaFile, "--insecure", "--cert", dev.chainFile, "--key", dev.keyFile, "-i", dev.thingName, "-t", `${dev.thingName}/hello`, "-m", "hi", "-q", "1"]);
  expect(r.code).toBe(0);
  await rec.stop();
  const report = await analyzeFile(file, parseKeyLog(emu.keyLog));
  const c = report.connections[0]!;
  expect(c.negotiatedSuite).toBe(0xc02b);
  expect(c.clientAuth).toMatchObject({ requested: true, certificateAuthorities: 0, certificateVerify: "valid" });
  expect(c.finished).toEqual({ client: "valid", server: "valid" });
  expect(c.mqtt.map((p) => p.cmd)).toEqual(expect.arrayContaining(["connect", "connack", "publish", "puback"]));
  expect(c.mqtt.find((p) => p.cmd === "connect")!.detail.clientId).toBe(dev.thingName);
});

test("the standalone command prints ready with its endpoints and keeps state in the data directory", async ({}, info) => {
  const dataDir = info.outputPath("data");
  const { line, stop } = await spawnUntilFirstLine(process.execPath, ["bin/zt-hil.js", "emulator", "--data-dir", dataDir, "--api-port", "0", "--mqtt-port", "0"]);
  try {
    expect(line).toMatch(/^zt-hil emulator ready: api http:\/\/127\.0\.0\.1:\d+ mqtt 127\.0\.0\.1:\d+ tls-stack aws data /);
    const api = /api (\S+)/.exec(line)![1]!;
    const { IoTClient, GetRegistrationCodeCommand } = await import("@aws-sdk/client-iot");
    const c = new IoTClient({ endpoint: api, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    expect((await c.send(new GetRegistrationCodeCommand({}))).registrationCode).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    await stop();
  }
  const { existsSync } = await import("node:fs");
  expect(existsSync(`${dataDir}/server-ca.pem`) && existsSync(`${dataDir}/registry.json`)).toBe(true);
});

test("limits: a 100 KB publish is taken, a 200 KB one closes the connection and is counted", async ({ emu, iot, pki }) => {
  const dev = await activeDevice(iot, pki, test.info().outputPath());
  const c = mqttClient(emu, dev);
  await new Promise<void>((resolve, reject) => (c.once("connect", () => resolve()), c.once("error", reject)));
  await c.publishAsync(`${dev.thingName}/small`, Buffer.alloc(100 * 1024, 0x61), { qos: 1 });
  const closed = new Promise<void>((r) => c.once("close", () => r()));
  c.publish(`${dev.thingName}/big`, Buffer.alloc(200 * 1024, 0x62), { qos: 0 });
  await closed;
  c.end(true);
  expect(emu.events.some((e) => e.type === "refused" && /MQTT packet of \d+ bytes over the 133120-byte limit/.test(String(e.detail.reason)))).toBe(true);
  expect(emu.events.some((e) => e.type === "published" && e.detail.topic === `${dev.thingName}/small`)).toBe(true);
});
