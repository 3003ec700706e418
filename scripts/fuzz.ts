/**
 * `npm run fuzz [-- --seconds N] [--seed N]`: seeded mutation fuzzing of every face zt-hil shows to
 * bytes it did not make, for nights (the test suite runs shorter rounds of the same targets):
 * - the analyzer: mutated pcap/pcapng captures of the twin's handshake;
 * - the twin's kit protocol: mutated request lines into firmware v2.2.5's interpreter and JSON
 *   application, over a powered ATECC model;
 * - the emulator's HTTP API: mutated control-plane and iot-data requests;
 * - the emulator's TLS face (mutated ClientHellos) and MQTT face (mutated packets after a valid
 *   client-authenticated handshake).
 * Prints, per target, inputs run, inputs/s and crashes (a crash is an error the target may not raise,
 * or an uncaught exception in the emulator); exits 1 if any target crashed.
 */
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqttPacket from "mqtt-packet";
import { analyzeBuffer } from "../harness/analysis/analyze-capture.ts";
import { ZtError } from "../harness/errors.ts";
import { IotCoreEmulator, JITR_LAMBDA_NAME } from "../harness/cloud/emulator/emulator.ts";
import { createJitrRule, registerSigner } from "../harness/cloud/emulator/jitr-setup.ts";
import { initPki } from "../harness/pki/pki-dir.ts";
import { makeDevice } from "../harness/testing/device.ts";
import { fuzz, type FuzzResult } from "../harness/testing/fuzz.ts";
import { kitProtocolSeeds, twinInterpreter } from "../harness/testing/twin-interpreter.ts";
import { LAB_ENDPOINT, labCloud, startVirtualRig } from "../harness/testing/virtual-rig.ts";
import { provisionKit } from "../harness/kit/provisioning.ts";
import { encodeClientHello } from "../harness/tls/handshake.ts";
import { encodeRecord } from "../harness/tls/record.ts";
import { kitClientHello } from "../rigs/virtual-kit/winc1500/winc1500.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg("seconds", 60);
const SEED = arg("seed", 20261123);
const uncaught: string[] = [];
process.on("uncaughtException", (e) => uncaught.push(`${e.name}: ${e.message}`));

const dir = mkdtempSync(join(tmpdir(), "zt-fuzz-"));
const results: FuzzResult[] = [];
const done = (r: FuzzResult) => {
  results.push(r);
  console.log(`${r.target.padEnd(22)} ${String(r.inputs).padStart(9)} inputs ${String(r.perSecond).padStart(7)}/s  crashes ${r.crashes.length}${r.crashes.length ? `  first: #${r.crashes[0]!.index} ${r.crashes[0]!.error}` : ""}`);
};

// A real session to mutate: the twin's JITR handshake with the emulator, recorded.
const emu = await IotCoreEmulator.start({ endpoint: LAB_ENDPOINT });
const iot = emu.iotClient();
const pki = await initPki(join(dir, "pki"));
await registerSigner(iot, pki);
await createJitrRule(iot, `arn:aws:lambda:us-east-1:123456789012:function:${JITR_LAMBDA_NAME}`);
const cloud = await labCloud({ host: emu.host, port: emu.mqttPort }, join(dir, "kit.pcap"));
const rig = await startVirtualRig({ stateDir: null, timing: "instant", trustPem: emu.serverCaPem, hosts: cloud.hosts });
await rig.waitForLine(/has not been provisioned/);
await provisionKit(rig.kit, pki, { hostName: LAB_ENDPOINT, ssid: "zt-lab", psk: "zt-lab-psk" });
await rig.waitForLine(/^SUCCESS:  \$aws\/things\/.*\/shadow\/update\/delta$/, 60_000);
await rig.stop();
await cloud.stop();
const capture = readFileSync(join(dir, "kit.pcap"));

done(await fuzz("analyzer", [capture], (b) => analyzeBuffer(b, "mutant"), { seed: SEED, inputs: Infinity, seconds: SECONDS, allowed: (e) => e instanceof ZtError }));

// The twin's kit protocol: its interpreter and JSON application over a powered chip, no USB tick.
const interpreter = twinInterpreter();
done(await fuzz("twin kit protocol", kitProtocolSeeds(), (b) => interpreter.handle(b), { seed: SEED, inputs: Infinity, seconds: SECONDS, allowed: () => false }));

// The emulator's HTTP API: raw requests on a socket, each answered with a status line (never 500).
const api = new URL(emu.apiEndpoint);
const httpSeeds = [
  `POST /things/any/shadow HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{"state":{"desired":{"led1":"on"}}}    `,
  `GET /things/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n`,
  `POST /policies/p1 HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n{"policyDocument":"{\\"Statement\\":[]}"}                  `,
  `PUT /certificates/abc?newStatus=ACTIVE HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
].map((s) => Buffer.from(s));
const status500 = new Error("500");
done(
  await fuzz(
    "emulator HTTP",
    httpSeeds,
    (b) =>
      new Promise<void>((resolve, reject) => {
        const s = netConnect(Number(api.port), api.hostname);
        let got = "";
        const t = setTimeout(() => s.destroy(), 500);
        s.on("data", (d: Buffer) => (got += d.toString()));
        s.on("error", () => {});
        s.on("close", () => {
          clearTimeout(t);
          if (/^HTTP\/1\.1 5\d\d/.test(got)) reject(status500);
          else resolve();
        });
        s.end(b);
      }),
    { seed: SEED, inputs: Infinity, seconds: SECONDS, allowed: (e) => e !== status500 },
  ),
);

// The TLS face: mutated ClientHellos (the kit's 19.5.2 and 19.6 hellos) on fresh connections.
const tlsSeeds = (["19.5.2", "19.6"] as const).map((p) => encodeRecord(0x16, 0x0301, encodeClientHello(kitClientHello(p, p === "19.6" ? LAB_ENDPOINT : null))));
const exchange = (port: number, bytes: Buffer) =>
  new Promise<void>((resolve) => {
    const s = netConnect(port, "127.0.0.1");
    const t = setTimeout(() => s.destroy(), 300);
    s.on("error", () => {});
    s.on("data", () => {});
    s.on("close", () => (clearTimeout(t), resolve()));
    s.write(bytes);
  });
done(await fuzz("emulator TLS", tlsSeeds, (b) => exchange(emu.mqttPort, b), { seed: SEED, inputs: Infinity, seconds: SECONDS, allowed: () => false, concurrency: 64 }));

// The MQTT face: a device with a registered, active certificate; one mutated packet per session.
const device = await makeDevice(pki, dir);
const { RegisterCertificateCommand } = await import("@aws-sdk/client-iot");
await iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: pki.signer.cert.toString("pem"), setAsActive: true }));
const mqttSeeds = [
  mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: device.thingName, keepalive: 900 }),
  mqttPacket.generate({ cmd: "subscribe", messageId: 2, subscriptions: [{ topic: `$aws/things/${device.thingName}/shadow/update/delta`, qos: 0 }] }),
  mqttPacket.generate({ cmd: "publish", topic: `$aws/things/${device.thingName}/shadow/update`, payload: Buffer.from('{"state":{"reported":{"led1":"on"}}}'), qos: 1, messageId: 3, retain: false, dup: false }),
];
const key = readFileSync(device.keyFile);
const certChain = readFileSync(device.chainFile);
const connectPacket = mqttSeeds[0]!;
done(
  await fuzz(
    "emulator MQTT",
    mqttSeeds,
    (b) =>
      new Promise<void>((resolve) => {
        const s = tlsConnect({ host: "127.0.0.1", port: emu.mqttPort, key, cert: certChain, rejectUnauthorized: false, ecdhCurve: "P-256" });
        const t = setTimeout(() => s.destroy(), 300);
        s.on("error", () => {});
        s.on("data", () => {});
        s.on("close", () => (clearTimeout(t), resolve()));
        s.once("secureConnect", () => s.write(b[0] === 0x10 ? b : Buffer.concat([connectPacket, b])));
      }),
    { seed: SEED, inputs: Infinity, seconds: SECONDS, allowed: () => false, concurrency: 16 },
  ),
);

const alive = await fetch(`${emu.apiEndpoint}/things/nope`).then((r) => r.status === 404, () => false);
await emu.stop();
iot.destroy();
console.log(`uncaught exceptions: ${uncaught.length}${uncaught.length ? ` (first: ${uncaught[0]})` : ""}; emulator answering after the run: ${alive ? "yes" : "NO"}`);
const crashes = results.reduce((n, r) => n + r.crashes.length, 0) + uncaught.length + (alive ? 0 : 1);
console.log(`fuzz: ${results.reduce((n, r) => n + r.inputs, 0)} inputs, ${crashes} crashes`);
process.exit(crashes ? 1 : 0);
