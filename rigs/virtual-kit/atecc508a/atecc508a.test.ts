import { createHash, createPublicKey, randomBytes, verify } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { AteccClient, AteccStatusError, type AteccPort } from "../../../harness/kit/atecc-client.ts";
import { crc16, dataAddress, decodeResponse, encodeCommand, OPCODE, ZONE } from "../../../harness/kit/atecc-packet.ts";
import { Atecc508a, AteccAsleepError, SELFTEST_FAIL_RESPONSE, WAKE_RESPONSE } from "./atecc508a.ts";
import { executionMs, MAX_EXECUTION_MS } from "./timing.ts";

const portOf = (chip: Atecc508a): AteccPort => ({ wake: async () => chip.wake(), talk: (p) => chip.execute(p), idle: async () => void chip.idle() });
/** A chip with power applied (a new chip starts unpowered, as the kit's does before the supply is on). */
const on = (chip: Atecc508a): Atecc508a => (chip.powerOn(), chip);
const jwkOf = (xy: Buffer) => createPublicKey({ key: { kty: "EC", crv: "P-256", x: xy.subarray(0, 32).toString("base64url"), y: xy.subarray(32).toString("base64url") }, format: "jwk" });

test("CRC-16 and the wake answer match cryptoauthlib", () => {
  expect(crc16(Buffer.from([0x04, 0x11])).toString("hex")).toBe("3343");
  const chip = on(new Atecc508a(null, "instant"));
  expect(chip.wake()).toEqual(WAKE_RESPONSE);
  expect(encodeCommand({ opcode: OPCODE.info, param1: 0, param2: 0, data: Buffer.alloc(0) }).toString("hex")).toBe("0730000000" + crc16(Buffer.from("0730000000", "hex")).toString("hex"));
});

test("the kit's configuration: revision, serial, slot sizes, locks and secret slot 0", async () => {
  const chip = on(new Atecc508a(null, "instant"));
  const c = new AteccClient(portOf(chip));
  expect((await c.info()).toString("hex")).toBe("00005000");
  const sn = await c.serialNumber();
  expect(sn.length).toBe(9);
  expect([sn[0], sn[1], sn[8]]).toEqual([0x01, 0x23, 0xee]);
  const config = await c.configZone();
  expect([config[16], config[18], config[86], config[87]]).toEqual([0xb0, 0xaa, 0x00, 0x00]);
  expect(config.readUInt16LE(20)).toBe(0x208f);
  expect(config.readUInt16LE(96 + 2 * 8)).toBe(0x003c);
  await expect(c.read(ZONE.data, dataAddress(0, 0), 32)).rejects.toThrow(/ATECC read: status 0x0f \(execution error\)/);
  await expect(c.writeSlot(0, randomBytes(32))).rejects.toThrow(AteccStatusError);
  await expect(c.command(OPCODE.lock, 0x80, 0)).rejects.toThrow(/execution error/);
  const data = randomBytes(72);
  await c.writeSlot(12, data);
  expect((await c.readSlot(12, 72)).equals(data)).toBe(true);
  await expect(c.read(ZONE.data, dataAddress(12, 3), 4)).rejects.toThrow(/parse error/); // beyond 72 bytes
});

test("Sign, Verify, ECDH, GenKey and SHA agree with node:crypto", async () => {
  const chip = on(new Atecc508a(null, "instant"));
  const c = new AteccClient(portOf(chip));
  const pub = await c.genKey(0);
  expect(pub.length).toBe(64);
  const msg = randomBytes(100);
  const digest = createHash("sha256").update(msg).digest();
  const sig = await c.sign(0, digest);
  expect(verify("sha256", msg, { key: jwkOf(pub), dsaEncoding: "ieee-p1363" }, sig)).toBe(true);
  expect(await c.verify(digest, sig, pub)).toBe(true);
  const tampered = Buffer.from(sig);
  tampered[5]! ^= 1;
  expect(await c.verify(digest, tampered, pub)).toBe(false);
  const eph = await c.genKey(2, true);
  expect(eph.equals(await c.genKey(2))).toBe(true);
  expect(eph.equals(await c.genKey(2, true))).toBe(false);
  const peer = (await import("node:crypto")).createECDH("prime256v1");
  const peerPub = peer.generateKeys();
  const shared = await c.ecdh(2, peerPub.subarray(1));
  expect(shared.equals(peer.computeSecret(Buffer.concat([Buffer.from([4]), await c.genKey(2)])))).toBe(true);
  // Slot 0's ECDH result goes to slot 1 and never out.
  expect((await c.ecdh(0, peerPub.subarray(1))).toString("hex")).toBe("00");
  const long = randomBytes(200);
  expect((await c.sha256(long)).equals(createHash("sha256").update(long).digest())).toBe(true);
  expect((await c.random()).length).toBe(32);
});

test("wake, watchdog, sleep and power: TempKey is volatile", async () => {
  let now = 0;
  const chip = on(new Atecc508a(null, "instant", () => now));
  const nonce = encodeCommand({ opcode: OPCODE.nonce, param1: 0x03, param2: 0, data: randomBytes(32) });
  const sign = encodeCommand({ opcode: OPCODE.sign, param1: 0x80, param2: 0, data: Buffer.alloc(0) });
  await expect(chip.execute(nonce)).rejects.toThrow(AteccAsleepError);
  chip.wake();
  expect(decodeResponse(await chip.execute(nonce)).toString("hex")).toBe("00");
  now += 1400; // past the watchdog
  await expect(chip.execute(sign)).rejects.toThrow(/asleep/);
  chip.wake();
  expect(decodeResponse(await chip.execute(sign)).toString("hex")).toBe("0f"); // TempKey was lost
  await chip.execute(nonce);
  chip.idle();
  chip.wake();
  expect(decodeResponse(await chip.execute(sign)).length).toBe(64); // idle keeps TempKey
  const bad = Buffer.from(nonce);
  bad[bad.length - 1]! ^= 1;
  expect(decodeResponse(await chip.execute(bad)).toString("hex")).toBe("ff");
});

test("timing profiles bound execution times; faults slow, corrupt and fail", async () => {
  for (const [op, max] of Object.entries(MAX_EXECUTION_MS)) {
    for (const r of [0, 0.5, 0.999]) {
      const t = executionMs("datasheet", Number(op), () => r);
      expect(t).toBeGreaterThanOrEqual(0.6 * max);
      expect(t).toBeLessThanOrEqual(max);
    }
    expect(executionMs("instant", Number(op))).toBe(0);
  }
  // typical Random = 23 / 2 = 11.5 ms; timers may fire up to ~2 ms early against performance.now()
  // (libuv schedules from the loop's cached start time), so the bounds allow for that.
  const chip = on(new Atecc508a(null, "typical"));
  const c = new AteccClient(portOf(chip));
  const t0 = performance.now();
  await c.random();
  expect(performance.now() - t0).toBeGreaterThanOrEqual(11.5 - 2);
  chip.faults.slowFactor = 4;
  const t1 = performance.now();
  await c.random();
  expect(performance.now() - t1).toBeGreaterThanOrEqual(4 * 11.5 - 2);
  chip.faults.crcErrors = 1;
  await expect(c.random()).rejects.toThrow(/CRC mismatch/);
  chip.faults.wakeFailures = 1;
  expect(chip.wake()).toEqual(SELFTEST_FAIL_RESPONSE);
});

test("NVM persists atomically; a torn write leaves the previous state", async ({}, info) => {
  const file = info.outputPath("atecc508a.json");
  const first = on(new Atecc508a(file, "instant"));
  const c1 = new AteccClient(portOf(first));
  const pub = await c1.genKey(0);
  const data = randomBytes(72);
  await c1.writeSlot(10, data);
  expect(readFileSync(file).length > 0 && !existsSync(`${file}.${process.pid}.tmp`)).toBe(true);
  // A power cut during the next write: the temporary file is half written and never renamed.
  writeFileSync(`${file}.${process.pid}.tmp`, "{\"config\":\"00");
  const second = on(new Atecc508a(file, "instant"));
  const c2 = new AteccClient(portOf(second));
  expect((await c2.genKey(0)).equals(pub)).toBe(true);
  expect((await c2.readSlot(10, 72)).equals(data)).toBe(true);
  expect((await import("node:fs")).statSync(file).mode & 0o777).toBe(0o600);
});

test("72-byte slots take 32-byte access to their last block; no power, no answer; the I/O buffer reads back", async () => {
  const chip = on(new Atecc508a(null, "instant"));
  const c = new AteccClient(portOf(chip));
  // atcab_write_pubkey / atcab_read_pubkey: three 32-byte blocks of slot 15 (cryptoauthlib 20190903).
  const key = randomBytes(72);
  for (let b = 0; b < 3; b++) await c.command(OPCODE.write, ZONE.data | ZONE.size32, dataAddress(15, b), Buffer.concat([key, Buffer.alloc(24)]).subarray(b * 32, b * 32 + 32));
  const back = Buffer.concat([await c.read(ZONE.data, dataAddress(15, 0), 32), await c.read(ZONE.data, dataAddress(15, 1), 32), await c.read(ZONE.data, dataAddress(15, 2), 32)]);
  expect(back.subarray(0, 72).equals(key)).toBe(true);
  expect(back.subarray(72).equals(Buffer.alloc(24))).toBe(true);
  // Counter0/Counter1 as ecc_configure.c's configuration image has them.
  const config = Buffer.concat([await c.read(ZONE.config, 0, 32), await c.read(ZONE.config, 1 << 3, 32), await c.read(ZONE.config, 2 << 3, 32)]);
  expect(config.subarray(52, 68).toString("hex")).toBe("ffffffff00000000ffffffff00000000");
  // After a wake the I/O buffer holds the wake status; a read without a command returns it.
  chip.wake();
  expect(chip.readOutput()).toEqual(WAKE_RESPONSE);
  expect(chip.idle()).toBe(true);
  expect(chip.idle()).toBe(false); // an idle chip does not acknowledge
  chip.powerOff();
  expect(() => chip.wake()).toThrow(AteccAsleepError);
});
