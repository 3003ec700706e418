/**
 * The HIL suite under named faults and scaled budgets: run specs in a nested Playwright process on a
 * lab of its own (its own rigs, locks and PKI), and check they fail, and fail saying why.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { acquireRig, rigLockDir } from "./rig-lock.ts";
import type { Rig } from "../config/lab-schema.ts";
import { hostname } from "node:os";
import { failedSteps, nestedRigName, nestedRun, onlyResult, type JsonStep } from "../testing/nested-run.ts";

/** The first category whose messageRegex matches the whole message, as Allure (Java's matches()) decides. */
const categoryOf = (categories: { name: string; messageRegex?: string }[], message: string) =>
  categories.find((c) => c.messageRegex && new RegExp(`^(?:${c.messageRegex.replace("(?s)", "")})$`, "s").test(message))?.name;


test("ZT_FAULTS=strict-tls: the failing wait is a failing step that leads with the capture's verdict; the evidence and the run's facts are in every report", async ({}, info) => {
  test.setTimeout(150_000);
  // A previous run's leftovers: Allure must show this run only.
  mkdirSync(join(info.outputPath("reports"), "allure-results"), { recursive: true });
  writeFileSync(join(info.outputPath("reports"), "allure-results", "stale-result.json"), "{}");
  const r = await nestedRun("specs/jitr.spec.ts", { ZT_FAULTS: "strict-tls", ZT_JITR_TIMEOUT_MS: "3000" }, info);
  expect(r.code).toBe(1);
  expect(r.output).toContain("Running 1 test using 1 worker"); // a one-rig lab gets one worker
  const result = onlyResult(r);
  // The known fault first, then the last connection's verdict and what the cloud refused.
  expect(result.errors[0]!.message).toMatch(/^(Error: |DiagnosedError: )?strict-tls: server alert handshake_failure right after a ClientHello without supported_groups: a strict TLS stack refuses the kit's hello; on the wire: server alert handshake_failure after ClientHello, on all \d+ connections; the cloud refused \d+× TLS: no shared cipher/);
  expect(failedSteps(result.steps).map((s) => s.title)).toContain("the certificate is activated by the JITR Lambda");
  expect(result.attachments.map((a) => a.name)).toEqual(expect.arrayContaining(["diagnosis", "capture analysis (JSON)", "cloud events (JSON)", "kit capture (pcap)", `console ${result.annotations.find((a) => a.type === "rig")!.description}`]));
  const facts = Object.fromEntries(result.annotations.map((a) => [a.type, a.description]));
  expect(facts).toMatchObject({ faults: "strict-tls", "budget scale": "1", firmware: "AWS IoT Zero Touch Demo v2.2.5", "WINC firmware": "19.5.2", "kit serial": expect.stringMatching(/^0123[0-9a-f]{14}$/) });
  expect(facts.lab).toMatch(/lab\.yaml$/);

  const allure = join(r.reports, "allure-results");
  const files = readdirSync(allure);
  expect(files).not.toContain("stale-result.json");
  const env = readFileSync(join(allure, "environment.properties"), "utf8");
  expect(env).toMatch(/^faults=strict-tls$/m);
  expect(env).toMatch(new RegExp(`^rig\\\\ nested-[0-9a-f-]+=virtual, virtual kit \\(twin\\), kit ${facts["kit serial"]}, AWS IoT Zero Touch Demo v2\\.2\\.5, WINC 19\\.5\\.2$`, "m"));
  expect(env).toMatch(/^git\\ sha=[0-9a-f]{12}$/m);
  expect(JSON.parse(readFileSync(join(allure, "executor.json"), "utf8"))).toMatchObject({ reportName: "zt-hil HIL suite", type: expect.stringMatching(/^(ci|local)$/) });
  const categories = JSON.parse(readFileSync(join(allure, "categories.json"), "utf8")) as { name: string; messageRegex?: string }[];
  const allureResults = files.filter((f) => f.endsWith("-result.json")).map((f) => JSON.parse(readFileSync(join(allure, f), "utf8")) as { status: string; statusDetails: { message: string }; labels: { name: string; value: string }[] });
  expect(allureResults).toHaveLength(1);
  expect(allureResults[0]!.labels).toEqual(expect.arrayContaining([{ name: "faults", value: "strict-tls" }, { name: "kit_serial", value: facts["kit serial"] }]));
  // Allure files the failure under TLS, and a Lambda failure under JITR.
  expect(categoryOf(categories, allureResults[0]!.statusDetails.message)).toBe("TLS");
  expect(categoryOf(categories, "jitr-lambda-off / jitr-lambda-fail: every completed handshake (3) was followed by a server alert and close")).toBe("JITR");
  expect(categoryOf(categories, "DiagnosedError: wifi-wrong-psk: the kit never joined the access point")).toBe("Network (Wi-Fi, DNS, TCP)");
  expect(categoryOf(categories, "on the wire: handshake complete, no CONNACK; the JITR Lambda ZTLambdaJITR did not run")).toBe("JITR");
  expect(categoryOf(categories, "[infrastructure] rig-1: health check failed")).toMatch(/^Infrastructure/);
});

test("ZT_FAULTS=jitr-lambda-off: the activation step fails, naming the Lambda that did not run before any id", async ({}, info) => {
  test.setTimeout(150_000);
  const r = await nestedRun("specs/jitr.spec.ts", { ZT_FAULTS: "jitr-lambda-off", ZT_JITR_TIMEOUT_MS: "3000" }, info);
  expect(r.code).toBe(1);
  const result = onlyResult(r);
  const message = result.errors[0]!.message!;
  const failing = failedSteps(result.steps);
  expect(failing.map((s) => s.title)).toContain("the certificate is activated by the JITR Lambda");
  expect(message).toMatch(/the JITR Lambda ZTLambdaJITR did not run \(fault: lambda=off\)/);
  expect(message).toMatch(/did not activate the kit's certificate within 3000 ms: it is PENDING_ACTIVATION \(certificate [0-9a-f]{64}\)/);
  expect(message.indexOf("did not run")).toBeLessThan(message.search(/[0-9a-f]{64}/));
  expect(result.attachments.map((a) => a.name)).toEqual(expect.arrayContaining(["diagnosis", "cloud events (JSON)"]));
});

test("a rig another process holds: the run waits ZT_RIG_WAIT_MS, then fails as [infrastructure] naming the holder", async ({}, info) => {
  test.setTimeout(120_000);
  const held = await acquireRig([{ name: nestedRigName(info) } as Rig], rigLockDir(), 0, 0);
  try {
    const r = await nestedRun("specs/power-cycle.spec.ts", { ZT_RIG_WAIT_MS: "1500" }, info);
    expect(r.code).toBe(1);
    const message = onlyResult(r).errors[0]!.message!;
    expect(message).toMatch(new RegExp(`^(InfrastructureError: )?\\[infrastructure\\] .*no rig free within 1500 ms \\(ZT_RIG_WAIT_MS\\): ${nestedRigName(info)} held by pid ${process.pid} on ${hostname()} since \\d{4}-`));
    expect(message).not.toMatch(/Fixture "rig" timeout/);
    expect(r.output).toContain("1 failure(s) are infrastructure errors");
  } finally {
    await held.release();
  }
});

test("ZT_BUDGET_SCALE=0.001: the latency spec fails naming each operation over budget", async ({}, info) => {
  test.setTimeout(120_000);
  const r = await nestedRun("specs/crypto-latency.spec.ts", { ZT_BUDGET_SCALE: "0.001", ZT_LATENCY_SAMPLES: "2" }, info, { extra: ["--grep", "JSON methods"] });
  expect(r.code).toBe(1);
  for (const op of ["init", "genCsr", "genKey"]) expect(r.output).toMatch(new RegExp(`${op} (p50|p95|max) [\\d.]+ ms exceeds its budget of [\\d.]+ ms`));
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
  const list = runStatus("npx", ["playwright", "test", "--list", "--project=hil:*"], { env: { ...process.env, CI: "true" } });
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

test("no report of a run holds the Wi-Fi passphrase the firmware prints: HTML, JSON, JUnit, Allure, attachments, console and transcript", async ({}, info) => {
  test.setTimeout(120_000);
  const { statSync } = await import("node:fs");
  const r = await nestedRun("specs/provisioning.spec.ts", {}, info);
  expect(r.code).toBe(0);
  // Every driver action is a step, and every test attaches the console, the transcript and the capture.
  const result = onlyResult(r);
  const titles = (steps: JsonStep[]): string[] => steps.flatMap((x) => [x.title, ...titles(x.steps ?? [])]);
  for (const action of [/^power cycle \(virtual /, /^kit genKey/, /^kit init/, /^kit genCsr/, /^kit saveCredentials/, /^kit setWifi/, /^kit getStatus/, /^console: provisioning confirmed/]) expect(titles(result.steps).some((t) => action.test(t)), `a step ${action}`).toBe(true);
  expect(result.attachments.map((a) => a.name)).toEqual(expect.arrayContaining(["kit capture (pcap)", expect.stringMatching(/^console /), expect.stringMatching(/^kit protocol /)]));
  const psk = "zt-lab-psk"; // the nested lab's default passphrase, printed on every connect attempt
  const forms = [psk, Buffer.from(psk).toString("hex"), Buffer.from(psk).toString("hex").toUpperCase()];
  const files: string[] = [];
  const walk = (d: string) => readdirSync(d).forEach((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : files.push(join(d, n))));
  walk(info.outputPath("results"));
  walk(r.reports);
  const texts: (readonly [string, string])[] = files.map((f) => [f, readFileSync(f).toString("latin1")] as const);
  // The JSON reporter carries attachment bodies in base64; the HTML report embeds a zip in index.html.
  const report = readFileSync(join(r.reports, "results.json"), "utf8");
  for (const [i, m] of [...report.matchAll(/"body":\s*"([A-Za-z0-9+/=]+)"/g)].entries()) texts.push([`results.json body ${i}`, Buffer.from(m[1]!, "base64").toString("latin1")]);
  const zip = /data:application\/zip;base64,([A-Za-z0-9+/=]+)/.exec(readFileSync(join(r.reports, "html", "index.html"), "utf8"));
  expect(zip, "the HTML report embeds its data").not.toBeNull();
  const unzipped = info.outputPath("html-data");
  writeFileSync(`${unzipped}.zip`, Buffer.from(zip![1]!, "base64"));
  execFileSync("python3", ["-m", "zipfile", "-e", `${unzipped}.zip`, unzipped]);
  const before = files.length;
  walk(unzipped);
  for (const f of files.slice(before)) texts.push([f, readFileSync(f).toString("latin1")]);
  expect(texts.some(([, t]) => t.includes("Password: ****"))).toBe(true); // the console was attached, masked
  expect(files.some((f) => f.includes("allure-results"))).toBe(true);
  for (const [where, text] of texts) {
    for (const f of forms) expect(text.includes(f), `${where} holds the passphrase as "${f}"`).toBe(false);
  }
});
