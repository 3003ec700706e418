/**
 * Keeps the nightly trend: at the end of a run with HIL tests, one run record (per variant: passed,
 * failed, skipped, and every measurement the tests held against a budget — see
 * harness/latency/trends.ts for the store and the gate) is appended to reports/history, the trend
 * page reports/trends/index.html is rebuilt from the whole history, and with ZT_TREND_GATE set a
 * figure that regressed by more than the gate against the median of the last ZT_TREND_RUNS runs fails
 * the run, one line per figure. The run's own status is kept in its record.
 */
import { hostname } from "node:os";
import { join, relative } from "node:path";
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import type { FullResult, Reporter, Suite, TestCase } from "@playwright/test/reporter";
import { historyDir, MEASUREMENT_ATTACHMENT, parseGate, readRuns, regressionLine, regressions, trendPage, writeRun, type Measurement, type RunRecord, type VariantRecord } from "../harness/latency/trends.ts";
import { gitSha } from "./allure-run-reporter.ts";

const variantOf = (t: TestCase): string | null => {
  const project = t.parent.project();
  const v = project?.metadata?.variant;
  return typeof v === "string" ? v : project?.name.startsWith("hil:") ? project.name.slice(4) : null;
};

export default class TrendReporter implements Reporter {
  private suite: Suite | undefined;
  private readonly reports: string;
  private started = new Date();

  constructor(opts: { reportsDir?: string } = {}) {
    this.reports = opts.reportsDir ?? "reports";
  }

  onBegin(_config: unknown, suite: Suite): void {
    this.suite = suite;
    this.started = new Date();
  }

  printsToStdio(): boolean {
    return true;
  }

  async onEnd(result: FullResult): Promise<{ status?: FullResult["status"] } | undefined> {
    const variants: Record<string, VariantRecord> = {};
    for (const t of this.suite?.allTests() ?? []) {
      const variant = variantOf(t);
      const last = t.results.at(-1);
      if (!variant || !last) continue;
      const v = (variants[variant] ??= { passed: 0, failed: 0, skipped: 0, measurements: {} });
      const outcome = t.outcome();
      if (outcome === "skipped") v.skipped++;
      else if (outcome === "unexpected") v.failed++;
      else v.passed++;
      for (const a of last.attachments.filter((x) => x.name === MEASUREMENT_ATTACHMENT && x.body)) {
        for (const m of JSON.parse(a.body!.toString()) as Measurement[]) v.measurements[m.operation] = m;
      }
    }
    if (!Object.keys(variants).length) return undefined;
    const dir = historyDir(this.reports);
    const record: RunRecord = {
      run: process.env.ZT_RUN_ID ?? randomUUID(),
      time: this.started.toISOString(),
      host: hostname(),
      lab: relative(process.cwd(), process.env.ZT_LAB ?? "rigs/lab.yaml"),
      sha: gitSha(),
      status: result.status,
      variants,
    };
    let status: FullResult["status"] | undefined;
    let lines: string[] = [];
    try {
      const history = readRuns(dir);
      if (process.env.ZT_TREND_GATE) {
        const gate = parseGate(process.env.ZT_TREND_GATE);
        const window = Number(process.env.ZT_TREND_RUNS ?? 5);
        lines = regressions(record, history, gate, window).map(regressionLine);
        if (lines.length) {
          record.status = status = "failed";
          console.log(`\nZT_TREND_GATE=${process.env.ZT_TREND_GATE}: ${lines.length} figure(s) regressed:\n${lines.map((l) => `  trend regression: ${l}`).join("\n")}`);
        }
      }
      writeRun(dir, record);
      const page = join(this.reports, "trends", "index.html");
      mkdirSync(join(this.reports, "trends"), { recursive: true });
      const runs = readRuns(dir);
      writeFileSync(page, trendPage(runs));
      console.log(`trends: ${page} (${runs.length} run${runs.length === 1 ? "" : "s"} in ${dir})`);
    } catch (err) {
      // A broken history must not lose tonight's record or hide the run's verdict: say what and where.
      writeRun(dir, record);
      console.log(`trends: ${(err as Error).message}`);
      status = "failed";
    }
    return status ? { status } : undefined;
  }
}
