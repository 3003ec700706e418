import { createServer } from "node:net";
import { expect, test } from "@playwright/test";
import { KitConsole } from "../console/kit-console.ts";
import { CommandPower, ManualPower } from "../power/drivers.ts";
import { openRig } from "./rig.ts";
import { acquireRig } from "./rig-lock.ts";
import { InfrastructureError } from "../errors.ts";
import { Lab } from "../config/lab-schema.ts";
import type { CloudBackend } from "../cloud/cloud-backend.ts";

const lab = Lab.parse({
  version: 1,
  cloud: { kind: "emulator" },
  rigs: [
    { name: "a", class: "virtual", kit: { transport: { kind: "virtual" }, console: { kind: "virtual" } }, power: { kind: "virtual" }, capture: { kind: "recorder" } },
    { name: "b", class: "zt-kit", kit: { transport: { kind: "hid", path: "/dev/hidraw-none" }, console: { kind: "tcp", port: 1 } }, power: { kind: "manual" }, capture: { kind: "tcpdump", interface: "lo" } },
  ],
});

test("one worker per rig: a second holder gets the other rig, a third waits and gives up naming the locks", async ({}, info) => {
  const dir = info.outputPath("locks");
  const first = await acquireRig(lab.rigs, dir, 0, 1000);
  const second = await acquireRig(lab.rigs, dir, 0, 1000);
  expect([first.rig.name, second.rig.name].sort()).toEqual(["a", "b"]);
  const host = (await import("node:os")).hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  await expect(acquireRig(lab.rigs, dir, 1, 600)).rejects.toThrow(new RegExp(`\\[infrastructure\\].*no rig free within 600 ms \\(ZT_RIG_WAIT_MS\\): a held by pid ${process.pid} on ${host} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; b held by pid ${process.pid}`));
  await first.release();
  expect((await acquireRig(lab.rigs, dir, 1, 1000)).rig.name).toBe(first.rig.name);
  await second.release();
});

test("a rig that cannot be opened is an infrastructure error, not a test verdict", async () => {
  const cloud = { mqtt: { host: "127.0.0.1", port: 8883 }, serverTrustPem: null } as unknown as CloudBackend;
  const err = await openRig(lab.rigs[1]!, cloud, { stateRoot: "/tmp" }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(InfrastructureError);
  expect(String((err as Error).message)).toMatch(/^\[infrastructure\] b: cannot open the rig: hid \/dev\/hidraw-none: cannot open/);
});

// uhubctl: harness/rig/lab-plumbing.test.ts, with the real program.
test("power drivers: a failing command names itself and what it said, manual needs a person", async () => {
  await new CommandPower({ on: "true", off: "true" }).cycle();
  await expect(new CommandPower({ on: "echo relay 3 stuck >&2; exit 3", off: "true" }).on()).rejects.toThrow("[infrastructure] external command (on): `echo relay 3 stuck >&2; exit 3` exited 3: relay 3 stuck");
  if (!process.stdin.isTTY) await expect(new ManualPower().on()).rejects.toThrow(/needs a person at a terminal/);
});

test("the console keeps every line, escapes line noise and names the pattern it waited for", async () => {
  const server = createServer((s) => {
    s.write("VERSION:  AWS IoT Zero Touch Demo v2.2.5\r\n");
    s.write(Buffer.from([0x00, 0xff, 0x1b, 0x41, 0x0d, 0x0a]));
    s.write("SUCCESS:  ok\r\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const c = await KitConsole.tcp("127.0.0.1", port);
  await c.expect(/^SUCCESS:  ok$/, { timeoutMs: 2000 });
  expect(c.lines.map((l) => l.text)).toEqual(["VERSION:  AWS IoT Zero Touch Demo v2.2.5", "\\x00\u00ff\\x1bA", "SUCCESS:  ok"]);
  await expect(c.expect(/never/, { timeoutMs: 300 })).rejects.toThrow(new RegExp(`console tcp:127\\.0\\.0\\.1:${port}: no line matching /never/ within 300 ms; last lines:`));
  await c.close();
  server.close();
});
