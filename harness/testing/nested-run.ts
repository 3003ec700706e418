/**
 * Nested HIL runs for the harness's own tests: specs run in a child Playwright process on a one-rig
 * virtual lab of the test's own (its rig name, locks, PKI and reports directory), so a test can prove
 * what a run under a fault reports — its exit code, its results.json, its attachments.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";

export interface NestedRun {
  code: number | null;
  output: string;
  /** The nested run's reports directory (ZT_REPORTS_DIR): results.json, html/, junit.xml, allure-results/. */
  reports: string;
}

/** A rig name of the test's own (test ids of one file share their first characters: hash the whole id). */
export const nestedRigName = (info: ReturnType<typeof test.info>) => `nested-${createHash("sha256").update(info.testId).digest("hex").slice(0, 10)}`;

/**
 * Run specs in a nested Playwright process on a one-rig lab of its own, with the configuration's own
 * reporters writing to a reports directory of its own (or `reporter` instead), and no --workers: the
 * lab decides.
 */
export interface NestedOptions {
  /** More Playwright arguments (e.g. --grep). */
  extra?: string[];
  /** A reporter instead of the configuration's own. */
  reporter?: string;
  /** The twin's ATECC timing (default instant: fast; datasheet where latency is what is tested). */
  timing?: "instant" | "datasheet";
  /** Give the rig the twin's I2C bus trace. */
  bus?: boolean;
  /** The lab's cloud section (YAML flow mapping); default the in-process emulator. */
  cloud?: string;
  /** A lab file of the caller's instead of the one-rig lab (rig names must be the test's own). */
  lab?: string;
  /** A folder of the test's output for this run's reports and results (several runs in one test). */
  dir?: string;
}

export function nestedRun(spec: string | string[], env: Record<string, string>, info: ReturnType<typeof test.info>, opts: NestedOptions = {}): Promise<NestedRun> {
  const { extra = [], reporter, timing = "instant", bus = false, cloud = "{ kind: emulator }", dir = "" } = opts;
  const name = nestedRigName(info);
  const lab = opts.lab ?? info.outputPath("lab.yaml");
  const reports = info.outputPath(dir, "reports");
  const rigYaml = `  - name: ${name}
    class: virtual
    kit: { transport: { kind: virtual, timing: ${timing} }, console: { kind: virtual } }
    power: { kind: virtual }
    capture: { kind: recorder }
${bus ? "    bus: { kind: virtual }\n" : ""}`;
  if (!opts.lab) writeFileSync(lab, `version: 1\ncloud: ${cloud}\npki: { dir: ${JSON.stringify(info.outputPath("pki"))} }\nrigs:\n${rigYaml}`);
  return new Promise((resolve) => {
    const child = spawn("npx", ["playwright", "test", "--project=hil:*", ...[spec].flat(), ...(reporter ? [`--reporter=${reporter}`] : []), `--output=${info.outputPath(dir, "results")}`, ...extra], {
      env: { ...process.env, ...env, ZT_LAB: lab, ZT_REPORTS_DIR: reports },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    // eslint-disable-next-line no-control-regex
    child.on("exit", (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, ""), reports }));
  });
}

export interface JsonStep {
  title: string;
  error?: { message?: string };
  steps?: JsonStep[];
}
export interface JsonResult {
  status: string;
  errors: { message?: string }[];
  steps: JsonStep[];
  attachments: { name: string; path?: string; body?: string }[];
  annotations: { type: string; description?: string }[];
}

/** The one test result of a nested run's results.json. */
export function onlyResult(r: NestedRun): JsonResult {
  const data = JSON.parse(readFileSync(join(r.reports, "results.json"), "utf8")) as { suites: { specs: { tests: { results: JsonResult[] }[] }[] }[] };
  const results = data.suites.flatMap((s) => s.specs.flatMap((sp) => sp.tests.flatMap((t) => t.results)));
  expect(results).toHaveLength(1);
  return results[0]!;
}


export const failedSteps = (steps: JsonStep[]): JsonStep[] => steps.flatMap((s) => [...(s.error ? [s] : []), ...failedSteps(s.steps ?? [])]);

/** The body of an attachment of a JSON-reported result (the JSON reporter inlines bodies in base64). */
export function attachmentBody(result: JsonResult, name: string | RegExp): string | null {
  const a = result.attachments.find((x) => (typeof name === "string" ? x.name === name : name.test(x.name)));
  if (!a) return null;
  if (a.body) return Buffer.from(a.body, "base64").toString("utf8");
  return a.path ? readFileSync(a.path, "utf8") : null;
}
