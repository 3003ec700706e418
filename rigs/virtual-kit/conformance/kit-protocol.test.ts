/**
 * Conformance of the twin's kit protocol to firmware v2.2.5 (kit_protocol_interpreter.c, usb_hid.c,
 * provisioning_task.c:kit_device_*), through the HID port only, byte for byte. Each test names the rows
 * of rigs/virtual-kit/CONFORMANCE.md it pins.
 */
import { expect, test } from "@playwright/test";
import { dataAddress, encodeCommand, OPCODE, ZONE } from "../../../harness/kit/atecc-packet.ts";
import { startVirtualRig, type VirtualRig } from "../../../harness/testing/virtual-rig.ts";

const rigs: VirtualRig[] = [];
test.afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop();
});
async function kit(stateDir: string | null = null): Promise<VirtualRig> {
  const r = await startVirtualRig({ stateDir, timing: "instant" });
  rigs.push(r);
  await r.waitForLine(/has not been provisioned/);
  return r;
}
const text = (b: Buffer | null) => (b === null ? null : b.toString("latin1"));
const info = encodeCommand({ opcode: OPCODE.info, param1: 0, param2: 0, data: Buffer.alloc(0) }).toString("hex");

test("K1 K2 K8 K9 K10: b:v, b:f, b:d and every request that fails to parse come back as the request itself", async () => {
  const r = await kit();
  for (const line of ["b:v()\n", "b:f()\n", "b:d()\n", "BOARD:VERSION()\n", "board:device(00)\n", "x:nonsense()\n", "b:zz()\n", "b:v\n", " b:v()\n", "d(00):w()\n", "d:p()\n", "b:v(\n"]) {
    expect(text(await r.raw(line)), line).toBe(line);
  }
  // A NUL before the newline: the firmware's strrchr sees no complete message.
  expect(await r.raw(Buffer.from("b:a(00)\0\n", "latin1"))).toEqual(Buffer.from("b:a(00)\0\n", "latin1"));
  // An 8-digit device handle is accepted (KIT_DEVICE_HANDLE_SIZE).
  expect(text(await r.raw("d(00000000):w()\n"))).toBe("00()\n");
});

test("K3 K5 K13 K4: d:w answers 00(); d:t never reaches the chip — it answers the after-wake status, asleep or not", async () => {
  const r = await kit();
  expect(text(await r.raw("d:w()\n"))).toBe("00()\n");
  expect(text(await r.raw("d:w(00)\n"))).toBe("00(00)\n");
  // An Info command would answer 07 00 00 50 00 CRC; v2.2.5 sends no command (packet.txsize stays 0).
  expect(text(await r.raw(`d:t(${info})\n`))).toBe("00(04113343)\n");
  expect(text(await r.raw("d:s()\n"))).toBe("F0()\n"); // d:t idled the chip: it does not acknowledge
  expect(text(await r.raw(`d:t(${info})\n`))).toBe("00(04113343)\n"); // d:t wakes the chip itself
  const read0 = encodeCommand({ opcode: OPCODE.read, param1: ZONE.data | ZONE.size32, param2: dataAddress(0, 0), data: Buffer.alloc(0) }).toString("hex").toUpperCase();
  expect(text(await r.raw(`d:t(${read0})\n`))).toBe("00(04113343)\n");
  // Over sizeof(ATCAPacket) - 1 = 198 bytes: E4 with the request's own data.
  const big = "AB".repeat(199);
  expect(text(await r.raw(`d:t(${big})\n`))).toBe(`E4(${big})\n`);
  expect(text(await r.raw("d:i()\n"))).toBe("F0()\n");
});

test("K17: NOT_SUPPORTED answers 04()\\n and then the rest of the request's bytes; the host still pairs replies", async () => {
  const r = await kit();
  const request = "board:get_devices()\n";
  const reply = await r.raw(request);
  expect(reply).toEqual(Buffer.concat([Buffer.from("04()\n\0", "latin1"), Buffer.from(request.slice(6), "latin1")]));
  for (const line of ["b:l()\n", "b:di()\n", "d:r()\n", "d:se()\n"]) expect(text(await r.raw(line))!.startsWith("04()\n")).toBe(true);
  // KitClient reads to the first newline of a report, as Microchip's host code does.
  expect((await r.kit.request("board:get_devices()")).line).toBe("04()");
  expect((await r.kit.request("d:w()")).line).toBe("00()");
});

test("K11: hex is not validated — b:a(zz) and b:a(7) reach the JSON layer and get error 2 with id 0", async () => {
  const r = await kit();
  const unknown = '{"result":null,"error":{"error_code":2,"error_msg":"Unknown AWS IoT Zero Touch command message."},"id":0}';
  for (const arg of ["zz", "7", "6e756c6c"]) expect(text(await r.raw(`b:a(${arg})\n`))).toBe(`00(${Buffer.from(unknown).toString("hex").toUpperCase()})\n`);
});

test("K12: physical:select answers 00 with whatever the interpreter's buffer holds", async () => {
  const r = await kit();
  await r.raw("d:w(ABCD)\n");
  // The buffer still holds the last reply's hex text ("ABCD"), converted back to binary and to hex again.
  expect(text(await r.raw("e:physical:select(B0)\n"))).toBe("00(ABCD)\n");
  expect(text(await r.raw("e:physical:select(B)\n"))).toBe("e:physical:select(B)\n");
});

test("K6 K7 K15: no reply to an overlong line; one request per report; a request sent while one is pending replaces it", async () => {
  const r = await kit();
  expect(await r.raw(`b:a(${"41".repeat(3000)})\n`, { timeoutMs: 2000 })).toBeNull();
  expect(text(await r.raw("b:v()\n"))).toBe("b:v()\n");
  // Two requests in one report: the rest of the report after the first newline is dropped.
  expect(text(await r.raw("d:w()\nb:v()\n", { timeoutMs: 1500 }))).toBe("00()\n");
  // Two reports back to back: one message buffer, one reply.
  const sock = await import("node:net").then((net) => net.connect(r.ports.hid, "127.0.0.1"));
  await new Promise((res) => sock.once("connect", res));
  const got: Buffer[] = [];
  sock.on("data", (d: Buffer) => got.push(d));
  const report = (s: string) => Buffer.concat([Buffer.from(s, "latin1"), Buffer.alloc(64 - s.length, 0x04)]);
  sock.write(Buffer.concat([report("d:w()\n"), report("b:f()\n")]));
  await new Promise((res) => setTimeout(res, 1000));
  sock.destroy();
  expect(got.length).toBe(1);
});

test("K14: one kit-protocol message per 100 ms provisioning tick, dumped to the console before the reply", async () => {
  const r = await kit();
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    await r.kit.request("d:w()");
    times.push(performance.now() - t0);
  }
  // Back to back, each request waits for the task's next tick (the first may land just before one).
  expect(Math.min(...times.slice(1))).toBeGreaterThanOrEqual(95);
  expect(r.console).toContain("Incoming Kit Protocol command message:");
  expect(r.console).toContain("00000000  64 3A 77 28 29 0A                                 d:w().          ");
  expect(r.console).toContain("Outgoing Kit Protocol response message:");
  expect(r.console).toContain("00000000  30 30 28 29 0A                                    00().           ");
});

test("K16 C15: after an ATECC detection failure the demo stops and USB is never served", async ({}, info) => {
  const r = await kit(info.outputPath("kit"));
  await r.control({ cmd: "fault", wakeFailures: 1000 });
  await r.control({ cmd: "power", state: "cycle" });
  await r.waitForLine(/^ERROR:    Stopping the AWS IoT demo\.$/);
  const since = r.console.lastIndexOf("VERSION:  AWS IoT Zero Touch Demo v2.2.5");
  expect(r.console.slice(since).filter((l) => l.startsWith("ERROR:"))).toEqual(["ERROR:    No attached CryptoAuth board detected.", "ERROR:    Please check your hardware configuration.", "ERROR:    Stopping the AWS IoT demo."]);
  expect(await r.raw("b:v()\n", { timeoutMs: 1500 })).toBeNull();
});
