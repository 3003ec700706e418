import { connect } from "node:net";
import { ReadlineParser, SerialPort } from "serialport";
import { expect, test } from "@playwright/test";
import { needTools, spawnUntilFirstLine } from "../../harness/testing/tools.ts";

test("zt-hil rig virtual: ready line, console on a socat pty read with serialport, control port", async ({}, info) => {
  needTools("socat");
  const pty = info.outputPath("edbg-tty");
  const { line: ready, stop } = await spawnUntilFirstLine(process.execPath, ["bin/zt-hil.js", "rig", "virtual", "--state-dir", info.outputPath("kit"), "--console", `pty:${pty}`, "--timing", "instant", "--power", "off", "--dns", "ats.iot.zt-hil.test=127.1.2.3"]);
  try {
    expect(ready).toMatch(new RegExp(`^zt-hil virtual kit ready: hid tcp:127\\.0\\.0\\.1:\\d+ console pty:${pty.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} control tcp:127\\.0\\.0\\.1:\\d+ firmware 2\\.2\\.5 winc 19\\.5\\.2 timing instant$`));
    const port = new SerialPort({ path: pty, baudRate: 115200 });
    const lines: string[] = [];
    port.pipe(new ReadlineParser({ delimiter: "\r\n" })).on("data", (l: string) => lines.push(l));
    await new Promise((r) => port.once("open", r));
    const controlPort = Number(/control tcp:127\.0\.0\.1:(\d+)/.exec(ready)![1]);
    const ctl = connect(controlPort, "127.0.0.1");
    const replies: Record<string, unknown>[] = [];
    let buf = "";
    ctl.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) (replies.push(JSON.parse(buf.slice(0, i))), (buf = buf.slice(i + 1)));
    });
    await new Promise((r) => ctl.once("connect", r));
    ctl.write('{"cmd":"power","state":"on"}\nnot json\n{"cmd":"press","button":9}\n{"cmd":"fault","slowFactor":2}\n{"cmd":"leds"}\n');
    await expect.poll(() => replies.length).toBe(5);
    expect(replies[0]).toEqual({ ok: true, powered: true });
    expect(replies[1]).toMatchObject({ ok: false, error: expect.stringContaining("not JSON") });
    expect(replies[2]).toMatchObject({ ok: false, error: "press needs button 1, 2 or 3" });
    expect(replies[3]).toMatchObject({ ok: true, faults: { slowFactor: 2 } });
    expect(replies[4]).toEqual({ ok: true, leds: { led1: "off", led2: "off", led3: "off" } });
    await expect.poll(() => lines).toContain("WARNING:  The ATECCx08A device has not been provisioned. Waiting ...");
    expect(lines).toContain("VERSION:  AWS IoT Zero Touch Demo v2.2.5");
    ctl.destroy();
    await new Promise((r) => port.close(r));
  } finally {
    await stop();
  }
});

test("zt-hil rig virtual refuses bad options with one line", async () => {
  const { runStatus } = await import("../../harness/testing/tools.ts");
  const r = runStatus(process.execPath, ["bin/zt-hil.js", "rig", "virtual", "--state-dir", "/tmp/x", "--console", "serial:COM1"]);
  expect(r.status).toBe(2);
  expect(r.stderr.trim()).toBe('zt-hil: --console: "serial:COM1" is not tcp:PORT or pty:PATH');
  for (const [flag, value, message] of [
    ["--dns", "ats.iot.zt-hil.test:8883", '--dns: "ats.iot.zt-hil.test:8883" is not NAME=IPv4-ADDRESS'],
    ["--winc", "19.7", '--winc: "19.7" is not 19.5.2, 19.4.4, 19.6'],
    ["--firmware", "2.3.0", '--firmware: "2.3.0" is not a firmware the twin models (2.2.5)'],
  ] as const) {
    const bad = runStatus(process.execPath, ["bin/zt-hil.js", "rig", "virtual", "--state-dir", "/tmp/x", flag, value]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe(`zt-hil: ${message}`);
  }
});
