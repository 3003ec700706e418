import { createServer } from "node:net";
import { expect, test } from "@playwright/test";
import { KitConsole } from "../console/kit-console.ts";
import { CommandPower, ManualPower } from "../power/drivers.ts";
import { openRig } from "./rig.ts";
import { acquireRig, rigHolders } from "./rig-lock.ts";
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

test("a run killed with -9 leaves its rig lock behind; the next run on this host recovers it at once, not after the stale time", async ({}, info) => {
  const { spawn } = await import("node:child_process");
  const dir = info.outputPath("locks");
  const holderScript = `import { acquireRig } from ${JSON.stringify(new URL("./rig-lock.ts", import.meta.url).pathname)};
import { Lab } from ${JSON.stringify(new URL("../config/lab-schema.ts", import.meta.url).pathname)};
const lab = Lab.parse(JSON.parse(process.argv[1]));
await acquireRig([lab.rigs[0]], ${JSON.stringify(dir)}, 0, 1000);
console.log("held");
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", holderScript, JSON.stringify(lab)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => d.toString().includes("held") && resolve());
    child.on("exit", (code) => reject(new Error(`holder exited ${code}`)));
  });
  await expect(acquireRig([lab.rigs[0]!], dir, 0, 300)).rejects.toThrow(new RegExp(`a held by pid ${child.pid} on `));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  const t0 = Date.now();
  const held = await acquireRig([lab.rigs[0]!], dir, 0, 5000);
  expect(held.rig.name).toBe("a");
  expect(Date.now() - t0).toBeLessThan(2000);
  await held.release();
  expect(await rigHolders([lab.rigs[0]!], dir)).toEqual([{ rig: "a", holder: "free" }]);
});

test("a rig that dies mid-run (its USB cable pulled) fails the next kit call as [infrastructure], and its lock is released", async ({}, info) => {
  test.setTimeout(60_000);
  const { openCloud } = await import("../cloud/cloud-backend.ts");
  const cloud = await openCloud(Lab.parse({ ...lab, rigs: [lab.rigs[0]] }).cloud);
  const dir = info.outputPath("locks");
  const rig = { ...lab.rigs[0]!, name: "dying", kit: { ...lab.rigs[0]!.kit, transport: { kind: "virtual" as const, timing: "instant" as const } } };
  const held = await acquireRig([rig], dir, 0, 1000);
  try {
    const open = await openRig(rig, cloud, { stateRoot: info.outputPath("state") });
    try {
      expect((await open.control!({ cmd: "usb", state: "unplugged" })).ok).toBe(true);
      const err = await open.kit.app("getStatus").then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(InfrastructureError);
      expect((err as Error).message).toMatch(/^\[infrastructure\] hid tcp:127\.0\.0\.1:\d+: the kit's link closed \((connection closed|This socket has been ended by the other party)\) before it answered kit app getStatus: the rig is gone mid-run \(unplugged, a hub reset, the twin stopped\)$/);
      // Plugged back, the kit is there again for whoever opens it next.
      expect(await open.control!({ cmd: "usb", state: "plugged" })).toEqual({ ok: true, usb: "plugged" });
    } finally {
      await open.close();
    }
  } finally {
    await held.release();
    await cloud.close();
  }
  expect(await rigHolders([rig], dir)).toEqual([{ rig: "dying", holder: "free" }]);
});
