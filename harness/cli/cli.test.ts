import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { needTools, run, runStatus } from "../testing/tools.ts";

const BIN = join(process.cwd(), "bin/zt-hil.js");
const zt = (...args: string[]) => runStatus(process.execPath, [BIN, ...args]);

function expectOneLineError(r: ReturnType<typeof zt>, pattern: RegExp): void {
  expect(r.status).not.toBe(0);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

test("pki init, sign-csr, verification-cert and cert compress/decompress work end to end", async () => {
  needTools("openssl");
  const dir = test.info().outputPath("pki");
  const init = zt("pki", "init", "--dir", dir, "--signer-id", "beef");
  expect(init.stderr).toBe("");
  expect(init.stdout).toContain("signer: O=Example Inc, CN=Example Signer BEEF");

  const work = test.info().outputPath();
  const key = join(work, "device.key");
  run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  const csr = join(work, "device.csr");
  run("openssl", ["req", "-new", "-key", key, "-subj", "/O=Example Inc/CN=Example Device", "-utf8", "-out", csr]);
  const device = join(work, "device.crt");
  const signed = zt("pki", "sign-csr", "--dir", dir, "--csr", csr, "--out", device);
  expect(signed.status).toBe(0);
  expect(signed.stdout).toMatch(/certificate id [0-9a-f]{64}/);
  expect(run("openssl", ["verify", "-CAfile", join(dir, "root-ca.crt"), "-untrusted", join(dir, "signer-ca.crt"), device])).toContain(": OK");

  const verification = join(work, "verification.crt");
  expect(zt("pki", "verification-cert", "--dir", dir, "--code", "abc123", "--out", verification).status).toBe(0);
  expect(run("openssl", ["x509", "-in", verification, "-noout", "-subject"]).trim()).toBe("subject=CN = abc123");

  const compressed = zt("cert", "compress", "--kind", "device", "--cert", device, "--issuer-cert", join(dir, "signer-ca.crt"));
  expect(compressed.status).toBe(0);
  const hex = compressed.stdout.trim();
  expect(hex).toMatch(/^[0-9a-f]{144}$/);
  expect(hex.slice(134)).toBe("beef20a000");

  // The public key as the kit reports it: X‖Y from the key pair.
  const xy = run("sh", ["-c", `openssl ec -in ${key} -pubout -outform DER 2>/dev/null | tail -c 64 | od -An -tx1 | tr -d ' \\n'`]);
  expect(xy).toMatch(/^[0-9a-f]{128}$/);
  const rebuilt = join(work, "rebuilt.crt");
  const dec = zt("cert", "decompress", "--kind", "device", "--compressed", hex, "--public-key", xy, "--signer-cert", join(dir, "signer-ca.crt"), "--out", rebuilt);
  expect(dec.stderr).toBe("");
  expect(readFileSync(rebuilt, "utf8")).toBe(readFileSync(device, "utf8"));

  // The wrong public key or the wrong signer: the rebuilt bytes are well formed, the signature is not
  // theirs. Refused with exit 1 (a verdict), nothing written.
  const otherKey = join(work, "other.key");
  run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", otherKey]);
  const otherXy = run("sh", ["-c", `openssl ec -in ${otherKey} -pubout -outform DER 2>/dev/null | tail -c 64 | od -An -tx1 | tr -d ' \\n'`]);
  const otherPki = test.info().outputPath("other-pki");
  expect(zt("pki", "init", "--dir", otherPki, "--signer-id", "beef").status).toBe(0);
  for (const [xyArg, signer] of [[otherXy, join(dir, "signer-ca.crt")], [xy, join(otherPki, "signer-ca.crt")]] as const) {
    const out = join(work, "refused.crt");
    const bad = zt("cert", "decompress", "--kind", "device", "--compressed", hex, "--public-key", xyArg, "--signer-cert", signer, "--out", out);
    expectOneLineError(bad, /rebuilt certificate: its signature does not verify with .*signer-ca\.crt's key: --public-key, --compressed or the issuer is not this certificate's; nothing written/);
    expect(bad.status).toBe(1);
    expect(existsSync(out)).toBe(false);
  }

  // Signer: compressed form plus the slot-14 record, rebuilt with the root.
  const signerOut = zt("cert", "compress", "--kind", "signer", "--cert", join(dir, "signer-ca.crt")).stdout.trim().split("\n");
  expect(signerOut).toHaveLength(2);
  const signerXy = run("sh", ["-c", `openssl x509 -in ${join(dir, "signer-ca.crt")} -noout -pubkey | openssl ec -pubin -outform DER 2>/dev/null | tail -c 64 | od -An -tx1 | tr -d ' \\n'`]);
  const rebuiltSigner = join(work, "rebuilt-signer.crt");
  const sdec = zt("cert", "decompress", "--kind", "signer", "--compressed", signerOut[0]!, "--public-key", signerXy, "--root-cert", join(dir, "root-ca.crt"), "--slot14", signerOut[1]!, "--out", rebuiltSigner);
  expect(sdec.stderr).toBe("");
  expect(readFileSync(rebuiltSigner, "utf8")).toBe(readFileSync(join(dir, "signer-ca.crt"), "utf8"));
});

test("bad inputs give one clear line and a non-zero exit", () => {
  const work = test.info().outputPath();
  expectOneLineError(zt("cert", "compress", "--kind", "device", "--cert", join(work, "missing.pem")), /missing\.pem: cannot read certificate: ENOENT/);
  const garbage = join(work, "garbage.pem");
  writeFileSync(garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  expectOneLineError(zt("cert", "compress", "--kind", "device", "--cert", garbage), /garbage\.pem: not a valid X\.509 certificate/);
  const key = join(work, "k.pem");
  writeFileSync(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  expectOneLineError(zt("cert", "compress", "--kind", "device", "--cert", key), /k\.pem: expected a PEM CERTIFICATE, found PRIVATE KEY/);
  expectOneLineError(zt("cert", "compress", "--kind", "thing", "--cert", garbage), /--kind: unknown certificate kind "thing"/);
  expectOneLineError(zt("pki", "sign-csr", "--dir", join(work, "nopki"), "--csr", garbage, "--out", join(work, "x")), /holds no PKI/);
  expectOneLineError(zt("cert", "decompress", "--kind", "device", "--compressed", "00", "--public-key", "00", "--out", "x"), /--signer-cert: is required/);
  expectOneLineError(zt("pki", "init"), /required option '--dir <dir>'/);
  // Exit codes: usage errors are 2 (1 means a verdict failed); --version and help are 0.
  for (const usage of [zt("pki", "init"), zt("analyze", "--nope", "x"), zt("nosuch")]) expect(usage.status).toBe(2);
  // commander's hint stays on the one line.
  expectOneLineError(zt("anlyze", "x"), /unknown command 'anlyze' \(Did you mean analyze\?\)/);
  const version = zt("--version");
  expect(version.status).toBe(0);
  expect(version.stdout.trim()).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
});

test("a certificate that does not fit the template names the field", async () => {
  needTools("openssl");
  const work = test.info().outputPath();
  const key = join(work, "k.pem");
  run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  const cert = join(work, "other.crt");
  run("openssl", ["req", "-x509", "-new", "-key", key, "-subj", "/O=Example Inc/CN=Example Signer 1234", "-days", "30", "-out", cert]);
  const r = zt("cert", "compress", "--kind", "signer", "--cert", cert);
  expectOneLineError(r, /other\.crt: signer certificate: does not fit the kit's signer template \(template 1\): tbsCertificate\.serialNumber is 20 bytes, the template stores 16/);
});

test("output paths fail as cleanly as input paths: ENOENT, EISDIR, ENOTDIR named in words, exit 2", () => {
  const work = test.info().outputPath();
  const dir = join(work, "pki");
  expect(zt("pki", "init", "--dir", dir).status).toBe(0);
  mkdirSync(join(work, "a-directory"));
  writeFileSync(join(work, "a-file"), "x");
  const cases: [string, RegExp][] = [
    [join(work, "no", "such", "dir", "v.crt"), /v\.crt: cannot write the output file: no such file or directory \(ENOENT\)/],
    [join(work, "a-directory"), /a-directory: cannot write the output file: is a directory \(EISDIR\)/],
    [join(work, "a-file", "v.crt"), /v\.crt: cannot write the output file: a part of the path is not a directory \(ENOTDIR\)/],
  ];
  for (const [out, pattern] of cases) {
    const r = zt("pki", "verification-cert", "--dir", dir, "--code", "abc", "--out", out);
    expectOneLineError(r, pattern);
    expect(r.status).toBe(2);
  }
  const init = zt("pki", "init", "--dir", join(work, "a-file"));
  expectOneLineError(init, /a-file: cannot create the PKI there: (already exists \(EEXIST\)|a part of the path is not a directory \(ENOTDIR\))/);
  expect(init.status).toBe(2);
});

test("a key log that is not one is refused, naming the line; one with no session key is refused too", () => {
  const work = test.info().outputPath();
  const pcap = join(work, "empty.pcap");
  writeFileSync(pcap, Buffer.from("d4c3b2a1020004000000000000000000ffff000065000000", "hex")); // a pcap header, no packets
  const garbage = join(work, "garbage.txt");
  writeFileSync(garbage, "# a comment\nthis is not a key log\n");
  const g = zt("analyze", pcap, "--keylog", garbage);
  expectOneLineError(g, /garbage\.txt:2: not an NSS key log line/);
  expect(g.status).toBe(2);
  const empty = join(work, "tls13-only.txt");
  writeFileSync(empty, `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${"00".repeat(32)} ${"11".repeat(32)}\n`);
  const e = zt("analyze", pcap, "--keylog", empty);
  expectOneLineError(e, /tls13-only\.txt: holds no CLIENT_RANDOM line/);
  expect(e.status).toBe(2);
});

/** A lab with one "real" rig whose power is a command and whose console is a socat pty we write into. */
function benchLab(work: string, consolePath: string, name: string): string {
  const lab = join(work, "bench.yaml");
  writeFileSync(
    lab,
    `version: 1
cloud: { kind: aws, region: eu-west-1 }
rigs:
  - name: ${name}
    class: zt-kit
    kit: { transport: { kind: hid }, console: { kind: serial, path: ${JSON.stringify(consolePath)} } }
    power: { kind: command, on: "echo on >> ${join(work, "power.log")}", off: "echo off >> ${join(work, "power.log")}" }
    capture: { kind: tcpdump, interface: lo }
    wifi: { ssid: bench, psk: bench-secret-psk }
  - name: ${name}-virtual
    class: virtual
    kit: { transport: { kind: virtual }, console: { kind: virtual } }
    power: { kind: virtual }
    capture: { kind: recorder }
`,
  );
  return lab;
}

test("zt-hil rig power|console|lock act on a lab rig with its drivers and its lock", async () => {
  test.setTimeout(60_000);
  needTools("socat");
  const { spawn } = await import("node:child_process");
  const { acquireRig, rigLockDir } = await import("../rig/rig-lock.ts");
  const { hostname } = await import("node:os");
  const work = test.info().outputPath();
  const name = `bench-${createHash("sha256").update(test.info().testId).digest("hex").slice(0, 10)}`;
  const kitSide = join(work, "kit-tty");
  const hostSide = join(work, "host-tty");
  const socat = spawn("socat", [`pty,raw,echo=0,link=${kitSide}`, `pty,raw,echo=0,link=${hostSide}`], { stdio: "ignore" });
  try {
    await expect.poll(() => existsSync(kitSide) && existsSync(hostSide)).toBe(true);
    const lab = benchLab(work, hostSide, name);

    // power: the lab's command driver, off then on.
    const cycle = zt("rig", "power", name, "cycle", "--lab", lab);
    expect(cycle.stderr).toMatch(/^\[zt-hil [0-9T:.Z-]+\] power cycle \(external command\)\n/); // the driver's step, narrated
    expect(cycle.status).toBe(0);
    expect(cycle.stdout).toMatch(new RegExp(`rig ${name}: power cycled`));
    expect(readFileSync(join(work, "power.log"), "utf8")).toBe("off\non\n");

    // lock: held by someone else, power waits --wait and fails as infrastructure, naming the holder.
    const held = await acquireRig([{ name } as never], rigLockDir(), 0, 0);
    try {
      const busy = zt("rig", "power", name, "on", "--lab", lab, "--wait", "300");
      expectOneLineError(busy, new RegExp(`\\[infrastructure\\] .*no rig free within 300 ms \\(--wait\\): ${name} held by pid ${process.pid} on ${hostname()}`));
      expect(busy.status).toBe(3);
      expect(zt("rig", "lock", "--list", "--lab", lab).stdout).toContain(`${name}: held by pid ${process.pid} on ${hostname()}`);
    } finally {
      await held.release();
    }
    expect(zt("rig", "lock", "--list", "--lab", lab).stdout).toContain(`${name}: free`);

    // console: lines as they arrive, the Wi-Fi passphrase masked, until a pattern.
    const watcher = spawn(process.execPath, [BIN, "rig", "console", name, "--lab", lab, "--until", "^SUCCESS:  Connected", "--timeout", "20000"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    watcher.stdout.on("data", (d: Buffer) => (out += d.toString()));
    watcher.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => watcher.on("exit", r));
    await expect.poll(() => err).toContain(`console of rig ${name}`);
    writeFileSync(kitSide, "VERSION:  AWS IoT Zero Touch Demo v2.2.5\r\n  Password: bench-secret-psk\r\nSUCCESS:  Connected to AWS IoT.\r\n");
    expect(await exited).toBe(0);
    expect(out).toMatch(/Z VERSION:  AWS IoT Zero Touch Demo v2\.2\.5\n/);
    expect(out).toContain("Password: ****");
    expect(out).not.toContain("bench-secret-psk");

    // a virtual rig is the twin's; an unknown rig names the ones there are.
    expectOneLineError(zt("rig", "power", `${name}-virtual`, "cycle", "--lab", lab), /a virtual rig's power is its twin's/);
    const unknown = zt("rig", "power", "nope", "on", "--lab", lab);
    expectOneLineError(unknown, new RegExp(`no rig "nope" \\(have: ${name}, ${name}-virtual\\)`));
    expect(unknown.status).toBe(2);
    expectOneLineError(zt("rig", "power", name, "sideways", "--lab", lab), /"sideways" is not on, off or cycle/);
  } finally {
    socat.kill();
  }
});
