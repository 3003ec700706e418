/**
 * Conformance of the twin's connect loop, console, MQTT and shadow behaviour to firmware v2.2.5
 * (aws_wifi_task.c, the Paho client, oled1.c, console.c), driven through the kit's ports against the
 * emulator reached as a real kit reaches AWS: a DNS name, port 8883 (labCloud). Each test names the rows
 * of rigs/virtual-kit/CONFORMANCE.md it pins.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ListCertificatesCommand } from "@aws-sdk/client-iot";
import { GetThingShadowCommand, PublishCommand, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { analyzeFile } from "../../../harness/analysis/analyze-capture.ts";
import { provisionKit, readIdentity } from "../../../harness/kit/provisioning.ts";
import { thingName } from "../../../harness/pki/identity.ts";
import { rawPublicKey } from "../../../harness/pki/keys.ts";
import { initPki } from "../../../harness/pki/pki-dir.ts";
import { parseKeyLog } from "../../../harness/tls/keylog.ts";
import { expect, test } from "../../../harness/testing/emulator-fixtures.ts";
import { makePeerCerts, startServer } from "../../../harness/testing/openssl-peers.ts";
import { needTools } from "../../../harness/testing/tools.ts";
import { LAB_ENDPOINT, labCloud, startVirtualRig, type VirtualRig } from "../../../harness/testing/virtual-rig.ts";
import type { WincProfile } from "../winc1500/winc1500.ts";

const cleanups: (() => Promise<void>)[] = [];
test.afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const WIFI = { ssid: "zt-lab", psk: "zt-lab-psk" };
const SUBSCRIBED = (thing: string) => new RegExp(`^SUCCESS:  \\$aws/things/${thing}/shadow/update/delta$`);
const count = (lines: string[], text: string) => lines.filter((l) => l === text).length;
/** Wait for a console line that comes after position `from`. */
const lineAfter = (r: VirtualRig, from: number, pattern: RegExp, timeout = 30_000) => expect.poll(() => r.console.slice(from).some((l) => pattern.test(l)), { timeout }).toBe(true);

async function rigOn(target: { host: string; port: number } | null, opts: { stateDir: string; trustPem?: string; winc?: WincProfile; capture?: string; ap?: { ssid: string; psk: string | null } }) {
  const cloud = target ? await labCloud(target, opts.capture) : null;
  if (cloud) cleanups.push(() => cloud.stop());
  const r = await startVirtualRig({ stateDir: opts.stateDir, timing: "instant", winc: opts.winc ?? "19.5.2", ...(opts.trustPem ? { trustPem: opts.trustPem } : {}), hosts: cloud?.hosts ?? {}, ...(opts.ap ? { ap: opts.ap } : {}) });
  cleanups.push(() => r.stop());
  await r.waitForLine(/has not been provisioned/);
  return { r, cloud };
}

const reported = async (data: ReturnType<import("../../../harness/cloud/emulator/emulator.ts").IotCoreEmulator["iotDataClient"]>, thing: string) =>
  JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: thing }))).payload!).toString()).state?.reported ?? {};

test("JITR as v2.2.5 does it: two attempts, the console's exact lines, the 19.5.2 ClientHello, toggled buttons, LEDs", async ({ emu, iot, pki, jitr }, info) => {
  test.setTimeout(120_000);
  const file = info.outputPath("kit.pcap");
  const { r, cloud } = await rigOn({ host: "127.0.0.1", port: emu.mqttPort }, { stateDir: info.outputPath("kit"), trustPem: emu.serverCaPem, capture: file });
  const p = await provisionKit(r.kit, pki, { hostName: LAB_ENDPOINT, ...WIFI });
  const thing = thingName(p.publicKey);
  await r.waitForLine(SUBSCRIBED(thing), 30_000);
  // K14 L6: the Wi-Fi task holds the mutex through the 5 s LED flash: a kit-protocol request waits.
  const t0 = performance.now();
  await r.kit.app("getStatus");
  expect(performance.now() - t0).toBeGreaterThan(2000); // a request is served in ~120 ms otherwise
  expect(((await r.control({ cmd: "status" })).attempts as { outcome: string }[]).map((a) => a.outcome)).toEqual(["mqtt-refused", "subscribed"]);
  expect(jitr.caId).toMatch(/^[0-9a-f]{64}$/);

  const c = r.console;
  // C2 C3: banner with a blank line after it; the WINC version block.
  expect(c[c.indexOf("VERSION:  AWS IoT Zero Touch Demo v2.2.5") + 1]).toBe("");
  for (const l of ["WINC1500 Version Information:", "  WINC1500: Firmware Version: 19.5.2", "  WINC1500: Driver Version: 19.5.2"]) expect(c).toContain(l);
  // C4 C5: the attempt header (blank line first, 5 and 1 spaces), the IP line's skipped byte.
  const attempt = c.indexOf("Attempting to connect to AWS IoT ...");
  expect(c.slice(attempt - 1, attempt + 3)).toEqual(["", "Attempting to connect to AWS IoT ...", "  SSID:     zt-lab", "  Password: zt-lab-psk"]);
  expect(c).toContain("WINC1500 WIFI: Device IP Address: 192.168.23.192");
  expect(c).toContain(`WINC1500 WIFI: DNS lookup:`);
  expect(c).toContain(`  Host:       ${LAB_ENDPOINT}`);
  expect(c).toContain(`  IP Address: ${cloud!.recorder.address.host}`);
  // C6 C7 C10 C11: "Connected" on both attempts (TLS up); the MQTT error after blank lines; the WINC's
  // own disconnect line after the task's; never the synchronous-connect failure line.
  expect(count(c, "SUCCESS:  AWS Zero Touch Demo: Connected to AWS IoT.")).toBe(2);
  expect(count(c, "WINC1500 WIFI: Failed to connect to AWS Iot.") + count(c, "ERROR:    WINC1500 WIFI: Failed to connect to AWS Iot.")).toBe(0);
  const err = c.indexOf("ERROR:    The AWS IoT Demo failed to connect with the MQTT connect message.");
  expect(c.slice(err - 2, err + 3)).toEqual(["", "", c[err], "SUCCESS:  AWS Zero Touch Demo: Disconnected from WIFI access point.", "WINC1500 WIFI: Disconnected from the WIFI access point."]);
  const sub = c.indexOf("SUCCESS:  Subscribed to the MQTT update topic subscription:");
  expect(c.slice(sub - 2, sub + 4)).toEqual(["", "", c[sub], `SUCCESS:  $aws/things/${thing}/shadow/update/delta`, "", ""]);
  // C12: the first report after the flash.
  await r.waitForLine(/^Publishing MQTT Shadow Update Message:$/);

  // L2: a press toggles, one publish per press, 900 ms debounce per button.
  const data = emu.iotDataClient();
  cleanups.push(async () => data.destroy());
  await expect.poll(() => reported(data, thing)).toMatchObject({ button2: "up", led1: "off" });
  const published = () => emu.events.filter((e) => e.type === "published" && e.detail.topic === `$aws/things/${thing}/shadow/update`).length;
  let n = published();
  await r.control({ cmd: "press", button: 2 });
  await r.control({ cmd: "press", button: 2 }); // within 900 ms: ignored
  await expect.poll(() => reported(data, thing)).toMatchObject({ button2: "down" });
  await new Promise((res) => setTimeout(res, 1200));
  expect(published()).toBe(n + 1);
  await r.control({ cmd: "press", button: 2 });
  await expect.poll(() => reported(data, thing)).toMatchObject({ button2: "up" });
  // A7: a JSON call on a connected kit does not stop its reporting.
  await readIdentity(r.kit);
  await r.control({ cmd: "press", button: 1 });
  await expect.poll(() => reported(data, thing)).toMatchObject({ button1: "down" });

  // L3: any desired string other than "on" switches an LED off.
  await data.send(new UpdateThingShadowCommand({ thingName: thing, payload: Buffer.from('{"state":{"desired":{"led1":"on"}}}') }));
  await expect.poll(async () => ((await r.control({ cmd: "leds" })).leds as Record<string, string>).led1).toBe("on");
  await data.send(new UpdateThingShadowCommand({ thingName: thing, payload: Buffer.from('{"state":{"desired":{"led1":"ON"}}}') }));
  await expect.poll(async () => ((await r.control({ cmd: "leds" })).leds as Record<string, string>).led1).toBe("off");
  await expect.poll(() => reported(data, thing)).toMatchObject({ led1: "off" });
  expect(c).toContain("Received MQTT Shadow Update Delta Message:");
  // L5: a delta without a state object changes nothing and is still answered with a report.
  n = published();
  await data.send(new PublishCommand({ topic: `$aws/things/${thing}/shadow/update/delta`, payload: Buffer.from("garbage") }));
  await expect.poll(published).toBe(n + 1);

  // L4 C1: power cycle: LEDs off at once; a provisioned boot prints the warning, then the success line.
  const certs = (await iot.send(new ListCertificatesCommand({}))).certificates!.length;
  const from = c.length;
  await r.control({ cmd: "power", state: "cycle" });
  expect((await r.control({ cmd: "leds" })).leds).toEqual({ led1: "off", led2: "off", led3: "off" });
  await lineAfter(r, from, SUBSCRIBED(thing));
  const boot = c.slice(from).filter((l) => /not been provisioned|successfully provisioned|^Attempting/.test(l));
  expect(boot.slice(0, 3)).toEqual(["WARNING:  The ATECCx08A device has not been provisioned. Waiting ...", "SUCCESS:  The ATECCx08A device has been successfully provisioned.", "Attempting to connect to AWS IoT ..."]);
  expect((await iot.send(new ListCertificatesCommand({}))).certificates!.length).toBe(certs);

  // L13 L14 L17: on the wire, 0xC02B and 0xC023 offered without SNI; SUBSCRIBE packet ids 2, then 3.
  await r.control({ cmd: "power", state: "off" });
  await cloud!.stop();
  const report = await analyzeFile(file, parseKeyLog(emu.keyLog));
  for (const conn of report.connections) {
    expect(conn.offeredSuites).toEqual([0xc02b, 0xc023]);
    expect(conn.extensions).toEqual([{ type: 13, name: "signature_algorithms" }]);
    expect(conn.negotiatedSuite).toBe(0xc02b);
    expect(conn.sni).toBeNull();
  }
  const subscribes = report.connections.flatMap((x) => x.mqtt.filter((m) => m.cmd === "subscribe").map((m) => m.detail.messageId));
  expect(subscribes).toEqual([2, 2]); // the power cycle re-initialises Paho (MQTTClientInit at boot)
  expect(readFileSync(file).length).toBeGreaterThan(24);
});

test("L16 L15 C14 C16: a connection cut while reporting costs one failed attempt (Paho's stale isconnected); delta handlers accumulate", async ({ emu, pki, jitr }, info) => {
  test.setTimeout(120_000);
  expect(jitr.caId).toBeTruthy();
  const { r, cloud } = await rigOn({ host: "127.0.0.1", port: emu.mqttPort }, { stateDir: info.outputPath("kit"), trustPem: emu.serverCaPem });
  const p = await provisionKit(r.kit, pki, { hostName: LAB_ENDPOINT, ...WIFI });
  const thing = thingName(p.publicKey);
  await r.waitForLine(SUBSCRIBED(thing), 30_000);
  await r.waitForLine(/^Publishing MQTT Shadow Update Message:$/);
  await new Promise((res) => setTimeout(res, 500)); // the report is out; the kit is yielding
  const from = r.console.length;
  cloud!.recorder.dropConnections();
  await expect.poll(() => r.console.slice(from).filter((l) => SUBSCRIBED(thing).test(l)).length, { timeout: 40_000 }).toBe(1);
  const after = r.console.slice(from);
  expect(after.filter((l) => l.startsWith("ERROR:"))).toEqual([
    "ERROR:    The AWS IoT Demo failed to connect with the MQTT connect message.",
    "ERROR:    The AWS IoT Demo failed to unsubscribe to the MQTT update topic subscription.",
    "ERROR:    The AWS IoT Demo failed to disconnect with the MQTT disconnect message.",
  ]);
  expect(count(after, "Attempting to connect to AWS IoT ...")).toBe(2);
  expect((await r.control({ cmd: "status" })).deltaHandlers).toBe(2);
  // One delta now runs the callback twice: two reports.
  await r.waitForLine(/^Publishing MQTT Shadow Update Message:$/);
  await new Promise((res) => setTimeout(res, 5500));
  const published = () => emu.events.filter((e) => e.type === "published" && e.detail.topic === `$aws/things/${thing}/shadow/update`).length;
  const n = published();
  const data = emu.iotDataClient();
  cleanups.push(async () => data.destroy());
  await data.send(new UpdateThingShadowCommand({ thingName: thing, payload: Buffer.from('{"state":{"desired":{"led3":"on"}}}') }));
  await expect.poll(published).toBe(n + 2);
});

test("A6 H1: provisioning a connected kit again as kit_provision.py does (no genKey) reconnects once, never in parallel", async ({ emu, pki, jitr }, info) => {
  test.setTimeout(120_000);
  expect(jitr.caId).toBeTruthy();
  const { r } = await rigOn({ host: "127.0.0.1", port: emu.mqttPort }, { stateDir: info.outputPath("kit"), trustPem: emu.serverCaPem });
  const p = await provisionKit(r.kit, pki, { hostName: LAB_ENDPOINT, ...WIFI });
  const thing = thingName(p.publicKey);
  await r.waitForLine(SUBSCRIBED(thing), 30_000);
  const from = r.console.length;
  // The same certificate again (a new one would be a new registration: JITR adds its own attempt).
  await r.kit.app<{ csr: string }>("genCsr");
  await r.kit.app("saveCredentials", { hostName: LAB_ENDPOINT, deviceCert: Buffer.from(p.deviceCert.rawData).toString("hex"), signerCert: Buffer.from(pki.signer.cert.rawData).toString("hex"), signerCaPublicKey: rawPublicKey(pki.root.key).toString("hex") });
  await r.kit.app("setWifi", WIFI);
  await expect.poll(() => r.console.slice(from).filter((l) => SUBSCRIBED(thing).test(l)).length, { timeout: 40_000 }).toBe(1);
  await new Promise((res) => setTimeout(res, 3000));
  const after = r.console.slice(from);
  expect(count(after, "Attempting to connect to AWS IoT ..."), after.filter((l) => l && !/^[0-9A-F]{8}  /.test(l)).join("\n")).toBe(1);
  expect(after.filter((l) => /successfully provisioned/.test(l)).length).toBeGreaterThanOrEqual(1);
  expect(after.filter((l) => l.startsWith("ERROR:"))).toEqual([]);
});

test("L1 C9: a host name with a port is resolved whole and fails DNS; the kit never connects", async ({ emu, pki }, info) => {
  const { r } = await rigOn({ host: "127.0.0.1", port: emu.mqttPort }, { stateDir: info.outputPath("kit"), trustPem: emu.serverCaPem });
  await provisionKit(r.kit, pki, { hostName: `${LAB_ENDPOINT}:8883`, ...WIFI });
  await r.waitForLine(/^ERROR:    WINC1500 DNS lookup failed\.$/, 30_000);
  expect(r.console).not.toContain("SUCCESS:  AWS Zero Touch Demo: Connected to AWS IoT.");
});

test("C8 L11 L10: a failed join prints the WINC's line only; an open network needs psk null; an empty SSID blocks USB for 50 s", async ({ pki }, info) => {
  const { r } = await rigOn(null, { stateDir: info.outputPath("kit"), ap: { ssid: "zt-open", psk: null } });
  await provisionKit(r.kit, pki, { hostName: LAB_ENDPOINT, ssid: "zt-open", psk: "zt-lab-psk" });
  await r.waitForLine(/^WINC1500 WIFI: Disconnected from the WIFI access point\.$/, 30_000);
  expect(r.console.filter((l) => /Failed to connect to the WIFI/.test(l))).toEqual([]);
  await r.kit.app("setWifi", { ssid: "zt-open", psk: null });
  await r.waitForLine(/^WINC1500 WIFI: Connected to the WIFI access point\.$/, 30_000);
  await r.kit.app("setWifi", { ssid: "", psk: null });
  const from = r.console.length;
  await r.control({ cmd: "power", state: "cycle" });
  // Provisioned with an empty SSID: m2m_wifi_connect refuses it and the task sleeps 50 s holding the mutex.
  await lineAfter(r, from, /^  SSID:     $/);
  await expect(r.kit.app("getStatus", {}, 3000)).rejects.toThrow(/no reply within 3000 ms/);
});

test("L13 C7: the 19.4.4 seed ClientHello fails on the strict stack; the kit prints only the socket error", async ({ emu, pki, jitr }, info) => {
  expect(jitr.caId).toBeTruthy();
  emu.setFaults({ tlsStack: "openssl" });
  const file = info.outputPath("kit.pcap");
  const { r, cloud } = await rigOn({ host: "127.0.0.1", port: emu.mqttPort }, { stateDir: info.outputPath("kit"), trustPem: emu.serverCaPem, winc: "19.4.4", capture: file });
  await provisionKit(r.kit, pki, { hostName: LAB_ENDPOINT, ...WIFI });
  await r.waitForLine(/^SOCKET_MSG_CONNECT error SOCK_ERR_CONN_ABORTED\(-12\)$/, 30_000);
  await r.control({ cmd: "power", state: "off" });
  await cloud!.stop();
  expect(r.console.filter((l) => /Failed to connect to AWS Iot/.test(l))).toEqual([]);
  const conn = (await analyzeFile(file)).connections[0]!;
  expect(conn.offeredSuites).toEqual([0xc02b]);
  expect(conn.extensions).toEqual([{ type: 13, name: "signature_algorithms" }]);
  expect(conn.clientHello!.length / 2 - 4).toBe(51);
  expect(conn.alerts[0]).toMatchObject({ from: "server", level: "fatal", description: "handshake_failure" });
});

test("L14: v2.2.5 never sends SNI, whatever the WINC — a server requiring it refuses the 19.6 kit too", async ({ emu, pki, jitr }, info) => {
  expect(jitr.caId).toBeTruthy();
  emu.setFaults({ requireSni: true });
  const { r } = await rigOn({ host: "127.0.0.1", port: emu.mqttPort }, { stateDir: info.outputPath("kit"), trustPem: emu.serverCaPem, winc: "19.6" });
  await provisionKit(r.kit, pki, { hostName: LAB_ENDPOINT, ...WIFI });
  await r.waitForLine(/^SOCKET_MSG_CONNECT error SOCK_ERR_CONN_ABORTED\(-12\)$/, 30_000);
  expect(emu.events.some((e) => e.type === "tls-error" && /SNI/.test(String(e.detail.error)))).toBe(true);
});

test("L7 C14: a withheld CONNACK fails the connect after Paho's 2 s command timeout, then UNSUBSCRIBE fails and DISCONNECT is sent", async ({ emu, pki, jitr }, info) => {
  test.setTimeout(90_000);
  expect(jitr.caId).toBeTruthy();
  const { r } = await rigOn({ host: "127.0.0.1", port: emu.mqttPort }, { stateDir: info.outputPath("kit"), trustPem: emu.serverCaPem });
  emu.setFaults({ withholdConnack: true });
  await provisionKit(r.kit, pki, { hostName: LAB_ENDPOINT, ...WIFI });
  // Attempt 1 is the JITR drop; attempt 2 gets no CONNACK.
  await expect.poll(() => count(r.console, "SUCCESS:  AWS Zero Touch Demo: Connected to AWS IoT."), { timeout: 40_000 }).toBe(2);
  const connectedAt = Date.now();
  await r.waitForLine(/^ERROR:    The AWS IoT Demo failed to unsubscribe to the MQTT update topic subscription\.$/, 10_000);
  const errors = r.console.filter((l) => l === "ERROR:    The AWS IoT Demo failed to connect with the MQTT connect message.");
  expect(errors).toHaveLength(2);
  expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(1500);
});

test("interop: the 19.6 twin completes client-authenticated TLS with openssl s_server -Verify on port 8883 and sends MQTT", async ({}, info) => {
  needTools("openssl");
  const dir = info.outputPath();
  const peers = makePeerCerts(dir);
  const pki = await initPki(info.outputPath("pki"));
  const { writeFileSync } = await import("node:fs");
  writeFileSync(`${dir}/kit-ca.pem`, pki.root.cert.toString("pem") + "\n");
  const srv = await startServer(["-cert", peers.serverCert, "-key", peers.serverKey, "-Verify", "2", "-CAfile", `${dir}/kit-ca.pem`, "-naccept", "1", "-tls1_2"]);
  cleanups.push(() => srv.stop());
  const { r } = await rigOn({ host: "127.0.0.1", port: srv.port }, { stateDir: info.outputPath("kit"), trustPem: new X509Certificate(readFileSync(peers.caCert)).toString(), winc: "19.6" });
  const p = await provisionKit(r.kit, pki, { hostName: LAB_ENDPOINT, ...WIFI });
  await expect.poll(() => srv.output(), { timeout: 30_000 }).toContain(thingName(p.publicKey));
  const out = srv.output();
  expect(out).toMatch(/verify return:1/);
  expect(out).toContain("CIPHER is ECDHE-ECDSA-AES128-GCM-SHA256");
  expect(out).toContain("MQTT");
});
