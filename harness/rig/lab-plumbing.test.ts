/**
 * Lab plumbing with the real programs labs use: a kit console exported over the network by Debian's
 * ser2net 4 (serving the socat pty the virtual kit writes its EDBG console to), read as a
 * `console: { kind: tcp }` rig; and USB hub power through Debian's uhubctl, which on this machine (no
 * hub) gives its real "no compatible devices" answer — that must become a one-line infrastructure
 * error naming the hub, the port and the command line zt-hil ran.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { expect, test } from "@playwright/test";
import { UhubctlPower } from "../power/drivers.ts";
import { InfrastructureError } from "../errors.ts";
import { needTools, run, runStatus, spawnUntilFirstLine } from "../testing/tools.ts";

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

test("console over the network: real ser2net serves the twin's console pty, and `zt-hil rig console` reads the boot on a tcp console", async ({}, info) => {
  test.setTimeout(60_000);
  needTools("socat", "ser2net");
  const pty = info.outputPath("edbg-tty");
  const kit = await spawnUntilFirstLine(process.execPath, ["bin/zt-hil.js", "rig", "virtual", "--state-dir", info.outputPath("kit"), "--console", `pty:${pty}`, "--timing", "instant", "--power", "off"]);
  const port = await freePort();
  const config = info.outputPath("ser2net.yaml");
  // ser2net 4's YAML: a TCP accepter on loopback, the pty as a serial device at the EDBG's 115200 8N1.
  writeFileSync(config, `%YAML 1.1\n---\nconnection: &edbg\n  accepter: tcp,127.0.0.1,${port}\n  connector: serialdev,${pty},115200n81,local\n  options:\n    kickolduser: true\n`);
  const ser2net = spawn("ser2net", ["-d", "-c", config, "-P", info.outputPath("ser2net.pid")], { stdio: ["ignore", "pipe", "pipe"] });
  let ser2netSaid = "";
  ser2net.stderr.on("data", (d: Buffer) => (ser2netSaid += d.toString()));
  const lab = info.outputPath("lab.yaml");
  writeFileSync(lab, `version: 1\ncloud: { kind: emulator }\nrigs:\n  - name: edbg-over-ser2net\n    class: zt-kit\n    kit: { transport: { kind: hid }, console: { kind: tcp, host: 127.0.0.1, port: ${port} } }\n    power: { kind: manual }\n    capture: { kind: recorder }\n`);
  try {
    // ser2net is up when its port accepts.
    await expect.poll(() => new Promise((r) => connect(port, "127.0.0.1").once("connect", function (this: import("node:net").Socket) { this.destroy(); r(true); }).once("error", () => r(false))), { timeout: 10_000 }).toBe(true);
    const reader = spawn(process.execPath, ["bin/zt-hil.js", "rig", "console", "edbg-over-ser2net", "--lab", lab, "--until", "has not been provisioned", "--timeout", "20000"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    reader.stdout.on("data", (d: Buffer) => (out += d.toString()));
    reader.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => reader.on("exit", r));
    await expect.poll(() => err, { timeout: 10_000 }).toContain(`console of rig edbg-over-ser2net (console tcp:127.0.0.1:${port})`);
    // Power the kit on through its control port: the boot goes pty → ser2net → TCP → zt-hil.
    const control = Number(/control tcp:127\.0\.0\.1:(\d+)/.exec(kit.line)![1]);
    const ctl = connect(control, "127.0.0.1");
    ctl.write('{"cmd":"power","state":"on"}\n');
    expect(await exited, `${err}\n${ser2netSaid}`).toBe(0);
    ctl.destroy();
    expect(out).toMatch(/^\S+Z VERSION:  AWS IoT Zero Touch Demo v2\.2\.5$/m);
    expect(out).toMatch(/^\S+Z WARNING:  The ATECCx08A device has not been provisioned\. Waiting \.\.\.$/m);
  } finally {
    ser2net.kill("SIGTERM");
    await kit.stop();
  }
});

test("power through real uhubctl: no hub here, so its answer is an infrastructure error naming hub, port and command line; zt-hil rig power exits 3", async ({}, info) => {
  needTools("uhubctl");
  // A wrapper ahead of the real binary records the command lines zt-hil builds, then runs uhubctl itself.
  const bin = info.outputPath("bin");
  const log = info.outputPath("uhubctl.log");
  mkdirSync(bin, { recursive: true });
  const real = run("sh", ["-c", "command -v uhubctl"]).trim();
  writeFileSync(`${bin}/uhubctl`, `#!/bin/sh\necho "$@" >> ${JSON.stringify(log)}\nexec ${real} "$@"\n`);
  chmodSync(`${bin}/uhubctl`, 0o755);
  const PATH = `${bin}:${process.env.PATH}`;
  const saved = process.env.PATH;
  process.env.PATH = PATH;
  let err: unknown;
  try {
    err = await new UhubctlPower("1-1.4", 2).cycle().then(() => null, (e: unknown) => e);
  } finally {
    process.env.PATH = saved;
  }
  expect(err).toBeInstanceOf(InfrastructureError);
  expect((err as Error).message).toBe(
    '[infrastructure] uhubctl hub 1-1.4 port 2: `uhubctl -l 1-1.4 -p 2 -a off` exited 1: no hub with per-port power switching at location 1-1.4 (is the hub attached, is it one uhubctl supports, may this user write to it?): "No compatible devices detected at location 1-1.4!"',
  );
  expect(readFileSync(log, "utf8")).toBe("-l 1-1.4 -p 2 -a off\n");

  const lab = info.outputPath("lab.yaml");
  writeFileSync(lab, `version: 1\ncloud: { kind: emulator }\nrigs:\n  - name: on-a-hub\n    class: zt-kit\n    kit: { transport: { kind: hid }, console: { kind: serial, path: /dev/null } }\n    power: { kind: uhubctl, hub: "2-1", port: 3 }\n    capture: { kind: recorder }\n`);
  const cli = runStatus(process.execPath, ["bin/zt-hil.js", "rig", "power", "on-a-hub", "on", "--lab", lab], { env: { ...process.env, PATH } });
  expect(cli.status).toBe(3);
  expect(cli.stderr.trim().split("\n").at(-1)).toMatch(/^zt-hil: \[infrastructure\] uhubctl hub 2-1 port 3: `uhubctl -l 2-1 -p 3 -a on` exited 1: no hub with per-port power switching at location 2-1 /);
  expect(readFileSync(log, "utf8")).toBe("-l 1-1.4 -p 2 -a off\n-l 2-1 -p 3 -a on\n");
});
