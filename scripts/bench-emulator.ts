/**
 * Benchmark: how many mutual-TLS JITR registrations and shadow round trips per second the emulator
 * holds on this machine. Devices are Node TLS clients with fresh P-256 certificates from the kit's
 * PKI; the emulator runs in this process (so the figures include the clients' own crypto).
 *
 *   npm run bench:emulator [-- --devices N --seconds S]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import mqtt from "mqtt";
import { IotCoreEmulator, JITR_LAMBDA_NAME } from "../harness/cloud/emulator/emulator.ts";
import { createJitrRule, registerSigner } from "../harness/cloud/emulator/jitr-setup.ts";
import { signDeviceCsr } from "../harness/pki/ca.ts";
import { generateP256, toCryptoKey } from "../harness/pki/keys.ts";
import { initPki } from "../harness/pki/pki-dir.ts";
import { x509 } from "../harness/pki/x509.ts";

const arg = (name: string, dflt: number) => Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) || dflt;
const devices = arg("devices", 300);
const seconds = arg("seconds", 5);
const dir = mkdtempSync(join(tmpdir(), "zt-hil-bench-emu-"));
const emu = await IotCoreEmulator.start();
const pki = await initPki(join(dir, "pki"));
const iot = emu.iotClient();
await registerSigner(iot, pki);
await createJitrRule(iot, `arn:aws:lambda:us-east-1:123456789012:function:${JITR_LAMBDA_NAME}`);

const makeIdentity = async () => {
  const keys = generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "O=Example Inc, CN=Example Device",
    keys: { publicKey: await toCryptoKey(keys.publicKey), privateKey: await toCryptoKey(keys.privateKey) },
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  const cert = await signDeviceCsr(csr, pki.signer);
  return { cert: cert.toString("pem"), key: keys.privateKey.export({ format: "pem", type: "pkcs8" }).toString() };
};
const identities = [];
for (let i = 0; i < devices; i++) identities.push(await makeIdentity());

// Phase 1: first attempts — handshake, JITR registration, event, Lambda activation.
const attempt = (id: { cert: string; key: string }) =>
  new Promise<void>((resolve) => {
    const s = connect({ host: "127.0.0.1", port: emu.mqttPort, ca: emu.serverCaPem, cert: id.cert, key: id.key, maxVersion: "TLSv1.2" });
    s.on("close", () => resolve());
    s.on("error", () => resolve());
    s.resume();
  });
const t0 = performance.now();
const queue = [...identities];
await Promise.all(Array.from({ length: 16 }, async () => {
  for (let id = queue.shift(); id; id = queue.shift()) await attempt(id);
}));
const registered = performance.now() - t0;
while (emu.events.filter((e) => e.type === "lambda-succeeded").length < devices) await new Promise((r) => setTimeout(r, 20));
const activated = performance.now() - t0;
console.log(`JITR: ${devices} first attempts (mutual TLS 1.2 + registration) in ${(registered / 1000).toFixed(2)} s = ${(devices / (registered / 1000)).toFixed(0)} registrations/s`);
console.log(`JITR: all ${devices} activated by the Lambda after ${(activated / 1000).toFixed(2)} s = ${(devices / (activated / 1000)).toFixed(0)} activations/s`);

// Phase 2: shadow round trips (update → accepted) over MQTT, 8 devices in parallel.
const { subjectKeyIdHex } = await import("../harness/cloud/jitr-lambda.ts");
let trips = 0;
const deadline = performance.now() + seconds * 1000;
await Promise.all(identities.slice(0, 8).map(async (id) => {
  const thing = subjectKeyIdHex(id.cert);
  const c = await mqtt.connectAsync({ protocol: "mqtts", host: "127.0.0.1", port: emu.mqttPort, ca: emu.serverCaPem, cert: id.cert, key: id.key, clientId: thing, reconnectPeriod: 0 });
  await c.subscribeAsync(`$aws/things/${thing}/shadow/update/accepted`);
  let waiting: (() => void) | null = null;
  c.on("message", () => waiting?.());
  for (let i = 0; performance.now() < deadline; i++) {
    const done = new Promise<void>((r) => (waiting = r));
    c.publish(`$aws/things/${thing}/shadow/update`, JSON.stringify({ state: { reported: { led1: i % 2 ? "on" : "off" } } }));
    await done;
    trips++;
  }
  await c.endAsync();
}));
console.log(`shadow: ${trips} update → accepted round trips in ${seconds} s with 8 devices = ${(trips / seconds).toFixed(0)} round trips/s`);
await emu.stop();
rmSync(dir, { recursive: true, force: true });
