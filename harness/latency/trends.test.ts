/**
 * The trend history and its gate: the median comparison and its wording, shards of one run read as
 * one run, a broken record named; then four nightly-like runs of the latency spec on one history —
 * three green ones whose reports show trends (the latency trend attached to the test, the trend page,
 * Allure's trend of three runs), and a fourth with a 3× slower ATECC that ZT_TREND_GATE fails.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { attachmentBody, nestedRun, onlyResult } from "../testing/nested-run.ts";
import { parseGate, readRuns, regressionLine, regressions, trendPage, writeRun, type Measurement, type RunRecord } from "./trends.ts";

const m = (operation: string, p95: number | null, max: number): Measurement => ({ operation, n: p95 === null ? 5 : 20, p50: max / 2, p95, max, budget: { max: 100 } });
const run = (id: string, time: string, measurements: Measurement[], variant = "zt-kit/19.5.2"): RunRecord => ({
  run: id,
  time,
  host: "lab-a",
  lab: "rigs/lab.yaml",
  sha: "abc",
  status: "passed",
  variants: { [variant]: { passed: 1, failed: 0, skipped: 0, measurements: Object.fromEntries(measurements.map((x) => [x.operation, x])) } },
});

test("the gate compares p95 (or max below 20 samples) with the median of the last N runs, per variant, and says so", () => {
  const history = [run("1", "2026-11-01", [m("sign", 50, 60), m("init", null, 800)]), run("2", "2026-11-02", [m("sign", 52, 60), m("init", null, 820)]), run("3", "2026-11-03", [m("sign", 70, 90), m("init", null, 810)]), run("4", "2026-11-04", [m("sign", 51, 60), m("init", null, 805)])];
  // Median of the last 3 sign p95s (52, 70, 51) is 52: 63 is 21 % over, 62 only 19 %.
  expect(regressions(run("5", "2026-11-05", [m("sign", 63, 70), m("init", null, 900)]), history, 0.2, 3).map(regressionLine)).toEqual(["zt-kit/19.5.2 sign p95 63 ms is 21% over the median 52 ms of the last 3 runs"]);
  expect(regressions(run("5", "2026-11-05", [m("sign", 62, 70)]), history, 0.2, 3)).toEqual([]);
  // init has no p95: its maximum is compared (median 810; 1000 is 23 % over).
  expect(regressions(run("5", "2026-11-05", [m("init", null, 1000)]), history, 0.2, 3).map(regressionLine)).toEqual(["zt-kit/19.5.2 init max 1000 ms is 23% over the median 810 ms of the last 3 runs"]);
  // Another variant's history is not this variant's baseline; a first run has none.
  expect(regressions(run("5", "2026-11-05", [m("sign", 500, 500)], "zt-kit/19.4.4"), history, 0.2, 3)).toEqual([]);
  expect(parseGate("20%")).toBe(0.2);
  expect(parseGate("7.5")).toBe(0.075);
  expect(() => parseGate("twenty")).toThrow('ZT_TREND_GATE: "twenty" is not a percentage such as 20%');
});

test("the store: a file per run and host; shards of one run read as one run; a broken record is named, not skipped", ({}, info) => {
  const dir = info.outputPath("history");
  writeRun(dir, run("night-1", "2026-11-01T02:00:00.000Z", [m("sign", 50, 60)]));
  writeRun(dir, { ...run("night-1", "2026-11-01T02:00:01.000Z", [m("sign", 55, 61)], "zt-kit/19.4.4"), host: "lab-b", status: "failed" });
  writeRun(dir, run("night-2", "2026-11-02T02:00:00.000Z", [m("sign", 51, 60)]));
  const runs = readRuns(dir);
  expect(runs.map((r) => [r.run, Object.keys(r.variants).sort(), r.status])).toEqual([
    ["night-1", ["zt-kit/19.4.4", "zt-kit/19.5.2"], "failed"],
    ["night-2", ["zt-kit/19.5.2"], "passed"],
  ]);
  const page = trendPage(runs);
  expect(page).toContain("zt-kit/19.5.2 — sign");
  expect(page).toContain("budget max 100");
  expect(page.match(/<svg /g)).toHaveLength(2);
  mkdirSync(join(dir, "runs"), { recursive: true });
  writeFileSync(join(dir, "runs", "2026-11-03_x_y.json"), "{ half");
  expect(() => readRuns(dir)).toThrow(/runs\/2026-11-03_x_y\.json: not a zt-hil run record/);
});

test("nightly-like runs: three green runs show trends in the reports; a 3× slower ATECC fails the fourth through ZT_TREND_GATE", async ({}, info) => {
  test.setTimeout(480_000);
  const history = info.outputPath("history");
  const night = (n: number, env: Record<string, string> = {}) =>
    nestedRun("specs/crypto-latency.spec.ts", { ZT_HISTORY_DIR: history, ZT_RUN_ID: `night-${n}`, ZT_BUDGET_SCALE: "10", ...env }, info, { timing: "datasheet", bus: true, extra: ["--grep", "I2C bus"] });
  const allure = (reports: string) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/report.ts"], { env: { ...process.env, ZT_REPORTS_DIR: reports }, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  };
  for (const n of [1, 2, 3]) {
    const r = await night(n);
    expect(r.code, r.output.slice(-3000)).toBe(0);
    expect(r.output).toContain(`trends: ${r.reports}/trends/index.html (${n} run${n === 1 ? "" : "s"} in ${history})`);
    allure(r.reports);
    if (n < 3) continue;
    // The test's own report: each figure's trend over the nights, tonight last (3 points each).
    const charts = attachmentBody(onlyResult(r), "latency trends (HTML)")!;
    expect(charts).toContain("zt-kit/19.5.2 — sign");
    expect(charts).toContain("runs oldest → newest (3)");
    // The trend page over the whole history, and Allure's own trend of three runs.
    const page = readFileSync(join(r.reports, "trends", "index.html"), "utf8");
    for (const id of ["night-1", "night-2", "night-3"]) expect(page).toContain(id);
    const trend = JSON.parse(readFileSync(join(r.reports, "allure-report", "widgets", "history-trend.json"), "utf8")) as unknown[];
    expect(trend).toHaveLength(3);
  }
  const slow = await night(4, { ZT_FAULTS: "slow-atecc", ZT_TREND_GATE: "20%", ZT_TREND_RUNS: "3" });
  expect(slow.code).toBe(1);
  expect(slow.output).toMatch(/trend regression: zt-kit\/19\.5\.2 sign max [\d.]+ ms is \d+% over the median [\d.]+ ms of the last 3 runs/);
  // The failed night is on record too, as failed.
  expect(readRuns(history).map((r) => [r.run, r.status])).toEqual([
    ["night-1", "passed"],
    ["night-2", "passed"],
    ["night-3", "passed"],
    ["night-4", "failed"],
  ]);
});
