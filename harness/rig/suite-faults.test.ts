/**
 * The HIL suite under named faults and scaled budgets: run specs in a nested Playwright process on a
 * lab of its own (its own rigs, locks and PKI), and check they fail, and fail saying why.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { parseLabFaults } from "./lab-faults.ts";

function nestedRun(spec: string, env: Record<string, string>, info: ReturnType<typeof test.info>, extra: string[] = [], reporter = "line"): Promise<{ code: number | null; output: string }> {
  const name = `nested-${info.testId.slice(0, 8)}`.toLowerCase().replace(/[^a-z0-9-]/g, "");
  const lab = info.outputPath("lab.yaml");
  writeFileSync(
    lab,
    `version: 1
cloud: { kind: emulator }
pki: { dir: ${JSON.stringify(info.outputPath("pki"))} }
rigs:
  - name: ${name}
    class: virtual
    kit: { transport: { kind: virtual, timing: instant }, console: { kind: virtual } }
    power: { kind: virtual }
    capture: { kind: recorder }
`,
  );
  return new Promise((resolve) => {
    const child = spawn("npx", ["playwright", "test", "--project=hil", spec, `--reporter=${reporter}`, `--output=${info.outputPath("results")}`, "--workers=1", ...extra], {
      env: { ...process.env, ...env, ZT_LAB: lab },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

test("ZT_FAULTS=jitr-lambda-off: the JITR spec fails saying the certificate stayed PENDING_ACTIVATION", async ({}, info) => {
  test.setTimeout(120_000);
  const r = await nestedRun("specs/jitr.spec.ts", { ZT_FAULTS: "jitr-lambda-off", ZT_JITR_TIMEOUT_MS: "3000" }, info);
  expect(r.code).toBe(1);
  expect(r.output).toMatch(/certificate [0-9a-f]{64} stayed PENDING_ACTIVATION for 3000 ms: the JITR Lambda did not activate it/);
});

test("ZT_FAULTS=strict-tls: the seed ClientHello is refused and nothing is registered", async ({}, info) => {
  test.setTimeout(120_000);
  const r = await nestedRun("specs/jitr.spec.ts", { ZT_FAULTS: "strict-tls", ZT_JITR_TIMEOUT_MS: "3000" }, info);
  expect(r.code).toBe(1);
  expect(r.output).toMatch(/stayed \(not registered\) for 3000 ms/);
});

test("ZT_BUDGET_SCALE=0.001: the latency spec fails naming each operation over budget", async ({}, info) => {
  test.setTimeout(120_000);
  const r = await nestedRun("specs/crypto-latency.spec.ts", { ZT_BUDGET_SCALE: "0.001", ZT_LATENCY_SAMPLES: "2" }, info, ["--grep", "JSON methods"]);
  expect(r.code).toBe(1);
  for (const op of ["init", "genCsr", "genKey"]) expect(r.output).toMatch(new RegExp(`${op} (p50|p95|max) [\\d.]+ ms exceeds its budget of [\\d.]+ ms`));
});

test("ZT_FAULTS parsing names what is wrong", () => {
  expect(parseLabFaults("jitr-lambda-off, lambda-delay=250,strict-tls,slow-atecc=2.5")).toEqual({
    cloud: { lambda: "off", lambdaDelayMs: 250, tlsStack: "openssl" },
    ateccSlowFactor: 2.5,
    names: ["jitr-lambda-off", "lambda-delay=250", "strict-tls", "slow-atecc=2.5"],
  });
  expect(() => parseLabFaults("lambda-delay")).toThrow(/ZT_FAULTS: lambda-delay needs a positive delay in ms/);
  expect(() => parseLabFaults("melt-down")).toThrow(/unknown fault "melt-down"/);
});

test("`--list` under CI=true exits 0 and writes no report; the CI gate fails a run whose results show a skip", async ({}, info) => {
  const { statSync, mkdirSync } = await import("node:fs");
  const { runStatus } = await import("../testing/tools.ts");
  const before = (() => {
    try {
      return statSync("reports/results.json").mtimeMs;
    } catch {
      return null;
    }
  })();
  const list = runStatus("npx", ["playwright", "test", "--list", "--project=hil"], { env: { ...process.env, CI: "true" } });
  expect(list.status).toBe(0);
  expect(list.stdout).toMatch(/Total: \d+ tests? in \d+ files?/);
  const after = (() => {
    try {
      return statSync("reports/results.json").mtimeMs;
    } catch {
      return null;
    }
  })();
  expect(after).toBe(before);

  const dir = info.outputPath("run");
  mkdirSync(`${dir}/reports`, { recursive: true });
  const spec = (status: string) => ({ title: "a spec", tests: [{ status, projectName: "hil" }] });
  writeFileSync(`${dir}/reports/results.json`, JSON.stringify({ stats: { expected: 1, unexpected: 0, skipped: 1, flaky: 0 }, suites: [{ title: "x.spec.ts", specs: [spec("expected"), spec("skipped")] }] }));
  const gate = runStatus(process.execPath, ["--import", "tsx", `${process.cwd()}/scripts/ci-gate.ts`, "0"], { cwd: dir });
  expect(gate.status).toBe(1);
  expect(gate.stdout).toContain("ci-gate: 1 passed, 1 failed, 1 skipped");
  expect(gate.stdout).toContain("skipped: [hil] x.spec.ts › a spec");
});

test("no report of a run holds the Wi-Fi passphrase the firmware prints: attachments, results, console and transcript", async ({}, info) => {
  test.setTimeout(120_000);
  const { readdirSync, readFileSync, statSync } = await import("node:fs");
  const { join } = await import("node:path");
  const json = info.outputPath("results.json");
  const r = await nestedRun("specs/provisioning.spec.ts", { PLAYWRIGHT_JSON_OUTPUT_NAME: json }, info, [], "json");
  expect(r.code).toBe(0);
  const psk = "zt-lab-psk"; // the nested lab's default passphrase, printed on every connect attempt
  const forms = [psk, Buffer.from(psk).toString("hex"), Buffer.from(psk).toString("hex").toUpperCase()];
  const files: string[] = [];
  const walk = (d: string) => readdirSync(d).forEach((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : files.push(join(d, n))));
  walk(info.outputPath("results"));
  const texts = files.map((f) => [f, readFileSync(f).toString("latin1")] as const);
  // The JSON reporter carries attachment bodies in base64.
  const report = readFileSync(json, "utf8");
  const bodies = [...report.matchAll(/"body":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, "base64").toString("latin1"));
  expect(bodies.some((b) => b.includes("Password: ****"))).toBe(true); // the console was attached, masked
  for (const [where, text] of [...texts, ["results.json", report] as const, ...bodies.map((b, i) => [`results.json body ${i}`, b] as const)]) {
    for (const f of forms) expect(text.includes(f), `${where} holds the passphrase as "${f}"`).toBe(false);
  }
});
