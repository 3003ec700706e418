/**
 * Conformance of the twin's JSON application (`b:app`) to firmware v2.2.5
 * (provisioning_task.c:kit_board_application and process_board_application_*), through the HID port.
 * Where a test looks at slot contents it reads the chip's NVM file, as a bench would read the chip on a
 * programmer: v2.2.5 gives a host no way to read slots (see kit-protocol.test.ts, K4).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { expect, test } from "@playwright/test";
import { KitAppError } from "../../../harness/kit/kit-client.ts";
import { initPki } from "../../../harness/pki/pki-dir.ts";
import { rawPublicKey } from "../../../harness/pki/keys.ts";
import { signDeviceCsr } from "../../../harness/pki/ca.ts";
import { parseCsr } from "../../../harness/pki/cert-io.ts";
import { makeDevice } from "../../../harness/testing/device.ts";
import { startVirtualRig, type VirtualRig } from "../../../harness/testing/virtual-rig.ts";

const rigs: VirtualRig[] = [];
test.afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop();
});
async function kit(stateDir: string | null): Promise<VirtualRig> {
  const r = await startVirtualRig({ stateDir, timing: "instant" });
  rigs.push(r);
  await r.waitForLine(/has not been provisioned/);
  return r;
}

/** One b:app request with the JSON text given as is; the reply's JSON text. */
async function app(r: VirtualRig, json: string): Promise<string> {
  const reply = (await r.raw(`b:app(${Buffer.from(json, "latin1").toString("hex")})\n`))!.toString("latin1");
  const m = /^00\(([0-9A-F]*)\)\n$/.exec(reply);
  expect(m, reply).not.toBeNull();
  return Buffer.from(m![1]!, "hex").toString("latin1");
}

const slot = (stateDir: string, n: number) => Buffer.from((JSON.parse(readFileSync(`${stateDir}/atecc508a.json`, "utf8")) as { slots: string[] }).slots[n]!, "hex");

test("A1: getStatus always answers state 4, code 0 and its own message cut at 64 characters", async () => {
  const r = await kit(null);
  const expected = '{"result":{"state_id":4,"status_code":0,"status_msg":"The AWS IoT Demo successfully returned the current status inform"},"error":null,"id":1}';
  expect(await app(r, '{"method":"getStatus","params":{},"id":1}')).toBe(expected);
  await app(r, '{"method":"resetKit","params":{},"id":2}');
  expect(await app(r, '{"method":"getStatus","params":{},"id":1}')).toBe(expected);
});

test("A2 A3 A9 A11: no parameter validation, error 2 for what does not parse, integer ids, parson's serialization", async () => {
  const r = await kit(null);
  const unknown = (id: number) => `{"result":null,"error":{"error_code":2,"error_msg":"Unknown AWS IoT Zero Touch command message."},"id":${id}}`;
  expect(await app(r, "not json")).toBe(unknown(0));
  expect(await app(r, '{"method":"fly","id":7}')).toBe(unknown(7));
  expect(await app(r, '{"params":{},"id":7}')).toBe(unknown(7));
  expect(await app(r, "[1,2]")).toBe(unknown(0));
  // setWifi without parameters, with an empty SSID, with psk omitted: all succeed (nothing is checked).
  for (const json of ['{"method":"setWifi","params":{},"id":5}', '{"method":"setWifi","params":{"ssid":""},"id":5}', '{"method":"setWifi","params":{"ssid":"lab"},"id":5}']) {
    expect(await app(r, json)).toBe('{"result":{},"error":null,"id":5}');
  }
  // ids: truncated to an integer; missing or not a number is 0.
  expect(await app(r, '{"method":"resetKit","params":{},"id":3.7}')).toBe('{"result":{},"error":null,"id":3}');
  expect(await app(r, '{"method":"resetKit","params":{},"id":"abc"}')).toBe('{"result":{},"error":null,"id":0}');
  expect(await app(r, '{"method":"resetKit"}')).toBe('{"result":{},"error":null,"id":0}');
  // Trailing bytes after the JSON value are ignored (parson), as the firmware's own hex tail always is.
  expect(await app(r, '{"method":"resetKit","id":4}garbage')).toBe('{"result":{},"error":null,"id":4}');
  const init = JSON.parse(await app(r, '{"method": "init", "params": {"version": "2.0.0"}, "id": 0}')) as { result: Record<string, string> };
  expect(Object.keys(init.result)).toEqual(["deviceSn", "devicePublicKey"]);
  expect(init.result.deviceSn).toMatch(/^0123[0-9A-F]{12}EE$/);
});

test("A4 A5: saveCredentials writes first and verifies after — a device certificate for another key fails with 260 and the signer slots keep what was written", async ({}, info) => {
  const dir = info.outputPath("kit");
  const r = await kit(dir);
  const pki = await initPki(info.outputPath("pki"));
  mkdirSync(info.outputPath("dev"), { recursive: true });
  const other = new X509Certificate((await makeDevice(pki, info.outputPath("dev"))).certPem).raw;
  const rootKey = rawPublicKey(pki.root.key).toString("hex");
  const reply = JSON.parse(
    await app(r, JSON.stringify({ method: "saveCredentials", params: { hostName: "ats.iot.zt-hil.test", deviceCert: other.toString("hex"), signerCert: Buffer.from(pki.signer.cert.rawData).toString("hex"), signerCaPublicKey: rootKey }, id: 9 })),
  );
  expect(reply).toEqual({ result: null, error: { error_code: 260, error_msg: "The AWS IoT Demo failed to verify the Device certificate." }, id: 9 });
  // Slot 15 holds the root key and slot 11 the signer key although the call failed.
  expect(slot(dir, 15).subarray(4, 36).toString("hex") + slot(dir, 15).subarray(40, 72).toString("hex")).toBe(rootKey);
  expect(slot(dir, 11).subarray(4, 36).equals(Buffer.from(rawPublicKey(pki.signer.key).subarray(0, 32)))).toBe(true);
  expect(slot(dir, 10).equals(Buffer.alloc(72))).toBe(false);
  // The kit is not provisioned: the host name and flag are written only after both verifications.
  expect(slot(dir, 8).readUInt32LE(0)).toBe(0);
  expect(r.console).toContain("STATUS: AWS IoT Zero Touch Demo saveCredentials Message:");
  expect(r.console).toContain("Current AWS IoT Message: The AWS IoT Demo failed to verify the Device certificate.");

  // A signer certificate signed by another root fails at its own verification.
  const otherPki = await initPki(info.outputPath("pki2"));
  const err = await r.kit
    .app("saveCredentials", { hostName: "h", deviceCert: other.toString("hex"), signerCert: Buffer.from(otherPki.signer.cert.rawData).toString("hex"), signerCaPublicKey: rootKey })
    .then(() => null, (e: KitAppError) => e.appError);
  expect(err).toEqual({ error_code: 260, error_msg: "The AWS IoT Demo failed to verify the Signer certificate." });
  // Something that is not a certificate cannot be written at all.
  const junk = await r.kit.app("saveCredentials", { hostName: "h", deviceCert: "00", signerCert: "3003020100", signerCaPublicKey: rootKey }).then(() => null, (e: KitAppError) => e.appError);
  expect(junk).toEqual({ error_code: 260, error_msg: "The AWS IoT Demo failed to save the Signer certificate." });
});

test("A5 A6: a good saveCredentials stores the chain compressed; the flag needs setWifi too; the kit confirms on its next slot-8 poll", async ({}, info) => {
  const dir = info.outputPath("kit");
  const r = await kit(dir);
  const pki = await initPki(info.outputPath("pki"));
  const { devicePublicKey } = await r.kit.app<{ devicePublicKey: string }>("init", { version: "2.0.0" });
  const { csr } = await r.kit.app<{ csr: string }>("genCsr");
  const device = await signDeviceCsr(parseCsr(Buffer.from(csr, "hex"), "csr"), pki.signer);
  expect(Buffer.from(device.publicKey.rawData).toString("hex").endsWith(devicePublicKey.toLowerCase())).toBe(true);
  await r.kit.app("saveCredentials", { hostName: "ats.iot.zt-hil.test", deviceCert: Buffer.from(device.rawData).toString("hex"), signerCert: Buffer.from(pki.signer.cert.rawData).toString("hex"), signerCaPublicKey: rawPublicKey(pki.root.key).toString("hex") });
  expect(slot(dir, 8).readUInt32LE(0)).toBe(0xf3090000);
  expect(r.console.filter((l) => /successfully provisioned/.test(l))).toEqual([]);
  await r.kit.app("setWifi", { ssid: "zt-lab", psk: "zt-lab-psk" });
  await r.waitForLine(/^SUCCESS:  The ATECCx08A device has been successfully provisioned\.$/);
  const s8 = slot(dir, 8);
  expect(s8.readUInt32LE(0)).toBe(0xf30972b0);
  expect(s8.subarray(112, 112 + 19).toString()).toBe("ats.iot.zt-hil.test");
  expect(s8.subarray(240).equals(Buffer.alloc(176))).toBe(true); // E3: all 416 bytes written
  expect(new X509Certificate(Buffer.from(device.rawData)).checkIssued(new X509Certificate(Buffer.from(pki.signer.cert.rawData)))).toBe(true);
});

test("A8: resetKit prints the not-provisioned warning; genKey makes a new slot-0 key and clears slot 8", async ({}, info) => {
  const dir = info.outputPath("kit");
  const r = await kit(dir);
  const before = r.console.filter((l) => /has not been provisioned/.test(l)).length;
  await r.kit.app("resetKit");
  await expect.poll(() => r.console.filter((l) => /has not been provisioned/.test(l)).length, { timeout: 1000 }).toBe(before + 1);
  const a = await r.kit.app<{ devicePublicKey: string }>("init");
  const b = await r.kit.app<{ devicePublicKey: string }>("genKey");
  expect(b.devicePublicKey).toMatch(/^[0-9A-F]{128}$/);
  expect(b.devicePublicKey).not.toBe(a.devicePublicKey);
  expect((await r.kit.app<{ devicePublicKey: string }>("init")).devicePublicKey).toBe(b.devicePublicKey);
  expect(slot(dir, 8).equals(Buffer.alloc(416))).toBe(true);
});

test("A2: an SSID longer than its field runs into the password field, as the firmware's memcpy does", async ({}, info) => {
  const dir = info.outputPath("kit");
  const r = await kit(dir);
  const ssid = "S".repeat(40);
  await r.kit.app("setWifi", { ssid, psk: null });
  const s8 = slot(dir, 8);
  expect(s8.readUInt32LE(4)).toBe(40); // ssid_size = strlen
  expect(s8.subarray(8, 40).toString()).toBe("S".repeat(32));
  expect(s8.readUInt32LE(40)).toBe(0); // then overwritten by wifi_password_size = 0 (psk null)
});

/**
 * Microchip's host module (mchp_aws_zt_kit.py) as its scripts use it, ported line for line: reports of
 * report id 0 + 64 bytes padded with 0x04, json.dumps spacing, reading whole reports until a newline
 * (leading bytes ≤ 0x20 of the first skipped), `^([0-9a-zA-Z]{2})\(([^)]*)\)`, status 00, replies
 * matched by id. kit_provision.py runs init, genCsr, saveCredentials, setWifi; kit_set_wifi.py setWifi;
 * kit_reset.py resetKit — they use only board:app, so they work on v2.2.5 and on the twin.
 */
async function mchpKit(r: VirtualRig) {
  const net = await import("node:net");
  const sock = net.connect(r.ports.hid, "127.0.0.1");
  await new Promise((res) => sock.once("connect", res));
  let inbox = Buffer.alloc(0);
  sock.on("data", (d: Buffer) => (inbox = Buffer.concat([inbox, d])));
  const readReport = async (): Promise<Buffer> => {
    for (let i = 0; i < 1500 && inbox.length < 64; i++) await new Promise((res) => setTimeout(res, 10));
    if (inbox.length < 64) throw new Error("Timeout waiting for reply from kit device.");
    const report = inbox.subarray(0, 64);
    inbox = inbox.subarray(64);
    return report;
  };
  let nextId = 0;
  const responses = new Map<number, { result: unknown; error: { error_code: number; error_msg: string } | null; id: number }>();
  const call = async (method: string, params: Record<string, unknown> = {}) => {
    const id = nextId++;
    const json = JSON.stringify({ method, params, id }).replace(/":/g, '": ').replace(/,"/g, ', "');
    const data = Buffer.from(`board:app(${Buffer.from(json, "ascii").toString("hex")})\n`, "ascii");
    for (let i = 0; i < data.length; i += 64) {
      const chunk = data.subarray(i, i + 64);
      sock.write(Buffer.concat([chunk, Buffer.alloc(64 - chunk.length, 0x04)])); // the TCP port carries no report id
    }
    while (!responses.has(id)) {
      let bytes: number[] = [];
      while (!bytes.includes(10)) {
        let chunk = [...(await readReport())];
        if (bytes.length === 0) chunk = chunk.slice(Math.max(0, chunk.findIndex((b) => b > 32)));
        bytes = bytes.concat(chunk);
      }
      const line = String.fromCharCode(...bytes.slice(0, bytes.indexOf(10) + 1));
      const m = /^([0-9a-zA-Z]{2})\(([^)]*)\)/.exec(line);
      if (!m) throw new Error(`Unable to parse kit protocol reply: ${line}`);
      if (parseInt(m[1]!, 16) !== 0) throw new Error(`Kit protocol error. Received reply ${line}`);
      const app = JSON.parse(Buffer.from(m[2]!, "hex").toString("ascii"));
      responses.set(app.id, app);
    }
    const resp = responses.get(id)!;
    responses.delete(id);
    if (resp.error) throw new Error(`Kit error ${resp.error.error_code}: ${resp.error.error_msg}`);
    return resp.result as Record<string, string>;
  };
  return { call, close: () => sock.destroy() };
}

test("H1: Microchip's kit_provision.py, kit_set_wifi.py and kit_reset.py sequences work as their module frames them", async ({}, info) => {
  const r = await kit(info.outputPath("kit"));
  const pki = await initPki(info.outputPath("pki"));
  const k = await mchpKit(r);
  try {
    // kit_reset.py, then kit_set_wifi.py, then kit_provision.py (which ends with setWifi). In this order
    // the kit is never reset while its Wi-Fi task reconnects: a resetKit then can land between the task's
    // slot-8 reads and send it into m2m_wifi_connect's 50 s retry with an empty SSID — on a real kit too.
    await k.call("resetKit");
    await k.call("setWifi", { ssid: "zt-lab", psk: null });
    const init = await k.call("init", { version: "2.0.0" });
    expect(init.deviceSn).toMatch(/^[0-9A-F]{18}$/);
    const { csr } = await k.call("genCsr");
    const device = await signDeviceCsr(parseCsr(Buffer.from(csr!, "hex"), "csr"), pki.signer);
    await k.call("saveCredentials", { hostName: "ats.iot.zt-hil.test", deviceCert: Buffer.from(device.rawData).toString("hex"), signerCert: Buffer.from(pki.signer.cert.rawData).toString("hex"), signerCaPublicKey: rawPublicKey(pki.root.key).toString("hex") });
    await k.call("setWifi", { ssid: "zt-lab", psk: "zt-lab-psk" });
    await r.waitForLine(/successfully provisioned/);
    expect(await k.call("getStatus")).toMatchObject({ state_id: 4, status_code: 0 });
  } finally {
    k.close();
  }
});
