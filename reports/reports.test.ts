/**
 * The report plumbing on its own: Allure's trend needs the history of the previous report carried into
 * the next one (scripts/report.ts), and the run reporter's environment file must be valid Java
 * properties. Allure's generator is real (Java), not imitated.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { needTools, runStatus } from "../harness/testing/tools.ts";

function allureResult(dir: string, status: "passed" | "failed"): void {
  const now = Date.now();
  writeFileSync(
    join(dir, `${randomUUID()}-result.json`),
    JSON.stringify({ uuid: randomUUID(), historyId: "zt-hil-trend-probe", testCaseId: "zt-hil-trend-probe", name: "a spec", fullName: "specs/a.spec.ts#a spec", status, stage: "finished", start: now - 10, stop: now, labels: [{ name: "suite", value: "hil" }], steps: [], attachments: [], parameters: [] }),
  );
}

test("npm run report keeps the history apart, so the second report has a trend of two runs", async ({}, info) => {
  test.setTimeout(120_000);
  needTools("java");
  const reports = info.outputPath("reports");
  const results = join(reports, "allure-results");
  const report = () => runStatus(process.execPath, ["--import", "tsx", "scripts/report.ts"], { env: { ...process.env, ZT_REPORTS_DIR: reports } });
  for (const [run, status] of [[1, "passed"], [2, "failed"]] as const) {
    mkdirSync(results, { recursive: true });
    allureResult(results, status);
    const r = report();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(join(reports, "allure-report", "index.html"));
    const trend = JSON.parse(readFileSync(join(reports, "allure-report", "widgets", "history-trend.json"), "utf8")) as unknown[];
    expect(trend).toHaveLength(run);
  }
});

test("npm run report without results says what to do", async ({}, info) => {
  const r = runStatus(process.execPath, ["--import", "tsx", "scripts/report.ts"], { env: { ...process.env, ZT_REPORTS_DIR: info.outputPath("none") } });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/allure-results does not exist: run the suite first/);
});
