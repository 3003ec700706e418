/**
 * The I2C bus path end to end with the real sigrok-cli: the twin's trace of a genCsr decoded into the
 * ATECC commands cryptoauthlib sends; a corrupted response CRC named with its sample number; the same
 * trace converted by sigrok into a session file decodes the same; what sigrok's own demo driver records
 * (noise on the bus) is reported, never a crash; the SigrokCapture binding against that demo driver;
 * `zt-hil rig virtual --bus-trace` and `zt-hil bus decode`.
 */
import { existsSync, mkdirSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { crc16, OPCODE } from "../kit/atecc-packet.ts";
import { needTools, run, runStatus, spawnUntilFirstLine } from "../testing/tools.ts";
import { startVirtualRig } from "../testing/virtual-rig.ts";
import { BusTrace } from "../../rigs/virtual-kit/atecc508a/bus-trace.ts";
import { ateccTransactions } from "./atecc-bus.ts";
import { SigrokCapture } from "./bus-capture.ts";
import { decodeI2c, groupTransfers } from "./i2c-decode.ts";
import { KitClient } from "../kit/kit-client.ts";
import { TcpReportLink } from "../transport/report-link.ts";

test("the twin's bus during genCsr decodes, through sigrok's i2c decoder, into wake, GenKey, Random, Nonce, Sign with CRCs and execution times", async ({}, info) => {
  needTools("sigrok-cli");
  const r = await startVirtualRig({ stateDir: info.outputPath("kit"), timing: "datasheet" });
  try {
    await r.waitForLine(/has not been provisioned/);
    // The probe on the chip's bus (what a logic analyzer reaches on a bench); the host side is the kit protocol.
    const trace = new BusTrace();
    const vk = r.twin;
    vk.chip.trace = trace;
    await r.kit.app("genCsr");
    vk.chip.faults.crcErrors = 1; // the next response (a slot-8 poll's Read) goes out with a bad CRC
    await new Promise((res) => setTimeout(res, 300));
    vk.chip.trace = null;
    const file = info.outputPath("bus.vcd");
    trace.write(file);

    const report = ateccTransactions(await decodeI2c(file));
    expect(report.address).toBe(0x58);
    const commands = report.transactions.filter((t) => t.kind === "command");
    const ops = commands.map((t) => t.opcode);
    const at = ops.indexOf("Sign");
    expect(ops.slice(at - 3, at + 1)).toEqual(["GenKey", "Random", "Nonce", "Sign"]);
    const sign = commands[at]!;
    expect(sign).toMatchObject({ opcodeValue: OPCODE.sign, param1: 0x80, param2: 0, status: "ok" });
    // Datasheet profile: 60–100 % of Sign's 60 ms; seen at the first 2 ms poll after it finished.
    expect(sign.execMs!).toBeGreaterThanOrEqual(36);
    expect(sign.execMs!).toBeLessThanOrEqual(62);
    expect((sign.execMs! - 1) % 2).toBeCloseTo(0, 1);
    expect(report.transactions.filter((t) => t.kind === "wake").every((t) => t.status === "after wake")).toBe(true);
    expect(report.stats.Sign!.n).toBe(1);
    // E2: while unprovisioned the firmware reads all of slot 8 (13 blocks of 32 bytes) every 100 ms.
    const slot8Blocks = commands.filter((t) => t.opcode === "Read" && t.param1 === 0x82 && ((t.param2! >> 3) & 0x0f) === 8).map((t) => t.param2! >> 8);
    expect(slot8Blocks.join(",")).toContain([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].join(","));
    // The corrupted response is named, with its sample number; nothing else is wrong.
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(/^sample \d+: Read: response CRC mismatch$/);

    // sigrok's own session format: convert the VCD with sigrok-cli and decode the .sr the same.
    const sr = info.outputPath("bus.sr");
    run("sigrok-cli", ["-i", file, "-I", "vcd", "-o", sr]);
    const again = ateccTransactions(await decodeI2c(sr));
    expect(again.transactions.map((t) => [t.kind, t.opcode, t.status])).toEqual(report.transactions.map((t) => [t.kind, t.opcode, t.status]));

    // The CLI: exit 1 on a malformed transaction, the JSON shape the issue names.
    const cli = runStatus(process.execPath, ["bin/zt-hil.js", "bus", "decode", file, "--json"]);
    expect(cli.status).toBe(1);
    const json = JSON.parse(cli.stdout) as { transactions: Record<string, unknown>[]; stats: Record<string, unknown> };
    expect(json.transactions.find((t) => t.opcode === "Sign")).toMatchObject({ start: expect.any(Number), opcode: "Sign", opcodeValue: 65, param1: 128, param2: 0, execMs: expect.any(Number), status: "ok" });
    expect(Object.keys(json.stats)).toEqual(expect.arrayContaining(["GenKey", "Random", "Nonce", "Sign", "Read"]));
  } finally {
    await r.stop();
  }
});

test("sigrok's demo driver through SigrokCapture: noise on the bus is reported transfer by transfer, never a crash", async ({}, info) => {
  needTools("sigrok-cli");
  const file = info.outputPath("demo.sr");
  await expect(new SigrokCapture({ driver: "demo", channels: { scl: "D0", sda: "D1" }, samplerate: 4_000_000, file: info.outputPath("no/such/dir/demo.sr") }).start()).rejects.toThrow(/does not exist/);
  mkdirSync(info.outputPath(), { recursive: true });
  const cap = new SigrokCapture({ driver: "demo", channels: { scl: "D0", sda: "D1" }, samplerate: 4_000_000, file });
  await cap.start();
  expect(cap.startedAt).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 300));
  await cap.stop();
  await cap.stop(); // harmless twice
  expect(existsSync(file)).toBe(true);
  const report = ateccTransactions(await decodeI2c(file, cap.channels));
  expect(report.problems.length).toBeGreaterThan(0);
  expect(report.problems.filter((p) => !/^sample \d+: /.test(p))).toEqual([]);
  await expect(decodeI2c(file, { scl: "D0", sda: "nope" })).rejects.toThrow(/no channel "D0" in the trace \(it has scl, sda/);
  await expect(new SigrokCapture({ driver: "no-such-driver", channels: { scl: "D0", sda: "D1" }, samplerate: 4_000_000, file: info.outputPath("x.sr") }).start()).rejects.toThrow(/sigrok-cli -d no-such-driver/);
});

test("transfers from hand-cut annotations: malformed commands and CRCs are named, garbage lines ignored", () => {
  const good = [0x07, OPCODE.info, 0, 0, 0];
  const pkt = [...good, ...crc16(Buffer.from(good))];
  const bad = [...pkt];
  bad[bad.length - 1]! ^= 1;
  const ann = (s: number, text: string) => `${s}-${s + 1} i2c-1: ${text}`;
  const write = (s: number, bytes: number[]) => [ann(s, "Start"), ann(s + 1, "Address write: 58"), ann(s + 2, "ACK"), ...bytes.flatMap((b, i) => [ann(s + 3 + 2 * i, `Data write: ${b.toString(16).padStart(2, "0")}`), ann(s + 4 + 2 * i, "ACK")]), ann(s + 50, "Stop")];
  const read = (s: number, bytes: number[] | null) => [ann(s, "Start"), ann(s + 1, "Address read: 58"), ann(s + 2, bytes ? "ACK" : "NACK"), ...(bytes ?? []).flatMap((b, i) => [ann(s + 3 + 2 * i, `Data read: ${b.toString(16).padStart(2, "0")}`), ann(s + 4 + 2 * i, "ACK")]), ann(s + 50, "Stop")];
  const resp = [0x07, 0x00, 0x00, 0x50, 0x00];
  const text = [
    "garbage",
    ...write(100, [0x03, ...pkt]),
    ...read(4100, null),
    ...read(8100, [...resp, ...crc16(Buffer.from(resp))]),
    ...write(20000, [0x03, ...bad]),
    ...read(24000, [0x04, 0x00, 0x03, 0x40]),
    ann(30000, "Start"),
    ann(30010, "Stop"),
  ].join("\n");
  const { transfers } = groupTransfers(text);
  const report = ateccTransactions({ file: "hand.vcd", samplerate: 1_000_000, transfers, warnings: [] });
  const [info, broken] = report.transactions;
  expect(info).toMatchObject({ kind: "command", opcode: "Info", polls: 1, status: "ok", execMs: 7.949 });
  expect(broken).toMatchObject({ kind: "command", opcode: "Info", status: "command CRC mismatch" });
  expect(report.problems).toEqual(["sample 20000: Info: command CRC mismatch", "sample 30000: a transfer without a complete address byte"]);
});

test("zt-hil rig virtual --bus-trace writes the twin's bus at exit, and zt-hil bus decode reads it", async ({}, info) => {
  needTools("sigrok-cli");
  const trace = info.outputPath("bus.vcd");
  const { line, stop } = await spawnUntilFirstLine(process.execPath, ["bin/zt-hil.js", "rig", "virtual", "--state-dir", info.outputPath("kit"), "--timing", "instant", "--bus-trace", trace]);
  const hid = Number(/hid tcp:127\.0\.0\.1:(\d+)/.exec(line)![1]);
  const kit = new KitClient(await TcpReportLink.open("127.0.0.1", hid));
  await kit.app("init", { version: "2.0.0" });
  await kit.close();
  await stop();
  const out = runStatus(process.execPath, ["bin/zt-hil.js", "bus", "decode", trace]);
  expect(out.status).toBe(0);
  expect(out.stdout).toMatch(/ATECC transactions at I2C address 0x58/);
  expect(out.stdout).toMatch(/^GenKey\s+\d+/m);
  expect(out.stdout).toMatch(/^Read\s+\d+/m);
});
