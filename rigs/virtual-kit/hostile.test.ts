/**
 * The twin under what a bench does to it: power cut in the middle of saveCredentials (nothing more is
 * written, the NVM is whole, no reply), SIGTERM with clients connected (exits within seconds), a busy
 * port at start (exit 3, one line), stale temporary files from a killed writer (removed at start).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { connect, createServer } from "node:net";
import { expect, test } from "@playwright/test";
import { rawPublicKey } from "../../harness/pki/keys.ts";
import { initPki } from "../../harness/pki/pki-dir.ts";
import { runStatus, spawnUntilFirstLine } from "../../harness/testing/tools.ts";
import { startVirtualRig } from "../../harness/testing/virtual-rig.ts";

test("power off during saveCredentials: no reply, nothing more written, the NVM file whole, the kit answers after power on", async ({}, info) => {
  const dir = info.outputPath("kit");
  const r = await startVirtualRig({ stateDir: dir, timing: "datasheet" });
  try {
    await r.waitForLine(/has not been provisioned/);
    const pki = await initPki(info.outputPath("pki"));
    const params = { hostName: "ats.iot.zt-hil.test", deviceCert: Buffer.from(pki.signer.cert.rawData).toString("hex"), signerCert: Buffer.from(pki.signer.cert.rawData).toString("hex"), signerCaPublicKey: rawPublicKey(pki.root.key).toString("hex") };
    const pending = r.kit.app("saveCredentials", params, 5000).then(() => "replied", (e: Error) => e.message);
    await expect.poll(() => r.console.includes("Incoming AWS IoT Zero Touch command message:")).toBe(true);
    await r.control({ cmd: "power", state: "off" });
    const stateFile = `${dir}/atecc508a.json`;
    const afterCut = readFileSync(stateFile, "utf8");
    expect(await pending).toMatch(/no reply within 5000 ms/);
    expect(readFileSync(stateFile, "utf8")).toBe(afterCut); // nothing written while off
    const nvm = JSON.parse(afterCut) as { slots: string[] };
    expect(Buffer.from(nvm.slots[8]!, "hex").readUInt32LE(0)).toBe(0); // never provisioned
    await r.control({ cmd: "power", state: "on" });
    expect(await r.kit.exchange("b:v()", 15_000)).toBe("b:v()");
  } finally {
    await r.stop();
  }
});

test("zt-hil rig virtual: SIGTERM with HID and console clients connected exits promptly; a busy port exits 3; stale temp files go", async ({}, info) => {
  const dir = info.outputPath("kit");
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/atecc508a.json.99999.tmp`, '{"config":"00');
  const { line, child } = await spawnUntilFirstLine(process.execPath, ["bin/zt-hil.js", "rig", "virtual", "--state-dir", dir, "--timing", "instant"]);
  expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  const port = (name: string) => Number(new RegExp(`${name} tcp:127\\.0\\.0\\.1:(\\d+)`).exec(line)![1]);
  const clients = [connect(port("hid"), "127.0.0.1"), connect(port("console"), "127.0.0.1"), connect(port("control"), "127.0.0.1")];
  clients.forEach((c) => c.on("error", () => {})); // the kit going away resets them
  await Promise.all(clients.map((c) => new Promise((r) => c.once("connect", r))));
  const t0 = Date.now();
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(Date.now() - t0).toBeLessThan(5000);
  clients.forEach((c) => c.destroy());

  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
  const taken = (busy.address() as { port: number }).port;
  try {
    const r = runStatus(process.execPath, ["bin/zt-hil.js", "rig", "virtual", "--state-dir", dir, "--control", `tcp:${taken}`]);
    expect(r.status).toBe(3);
    expect(r.stderr.trim()).toBe(`zt-hil: control port 127.0.0.1:${taken}: cannot listen: EADDRINUSE`);
    const pty = runStatus(process.execPath, ["bin/zt-hil.js", "rig", "virtual", "--state-dir", dir, "--console", "pty:/nonexistent-dir/tty"]);
    expect(pty.status).toBe(3);
    expect(pty.stderr).toMatch(/^zt-hil: --console pty:\/nonexistent-dir\/tty: socat /);
  } finally {
    busy.close();
  }
  expect(existsSync(`${dir}/atecc508a.json`)).toBe(true);
});

test("fuzz: 100k mutated kit-protocol requests (seeded) into the twin's interpreter and JSON application never crash it", async () => {
  const { fuzz } = await import("../../harness/testing/fuzz.ts");
  const { kitProtocolSeeds, twinInterpreter } = await import("../../harness/testing/twin-interpreter.ts");
  const kit = twinInterpreter();
  const r = await fuzz("twin kit protocol", kitProtocolSeeds(), (b) => kit.handle(b), { seed: 7, inputs: 100_000, seconds: 120, allowed: () => false });
  expect(r.crashes).toEqual([]);
  expect(r.inputs).toBe(100_000);
});
