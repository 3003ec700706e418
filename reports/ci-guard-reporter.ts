/**
 * Closes every run with where the reports are and one plain line, "zt-hil: N passed, N failed,
 * N skipped", and enforces the project rule that under CI=true a skipped test is a failure: a suite that
 * silently skips its rig checks must not pass a release gate. Failures caused by an unusable rig
 * (InfrastructureError, "[infrastructure]") are counted apart, so a report tells a broken bench from a
 * broken kit.
 */
import type { FullResult, Reporter, Suite } from "@playwright/test/reporter";

export default class CiGuardReporter implements Reporter {
  private suite: Suite | undefined;
  private readonly reports: string;

  constructor(opts: { reportsDir?: string } = {}) {
    this.reports = opts.reportsDir ?? "reports";
  }

  onBegin(_config: unknown, suite: Suite): void {
    this.suite = suite;
  }

  printsToStdio(): boolean {
    return true;
  }

  async onEnd(result: FullResult): Promise<{ status?: FullResult["status"] } | undefined> {
    const tests = this.suite?.allTests() ?? [];
    const skipped = tests.filter((t) => t.outcome() === "skipped");
    const failed = tests.filter((t) => t.outcome() === "unexpected").length;
    const passed = tests.filter((t) => t.outcome() === "expected" || t.outcome() === "flaky").length;
    const ci = Boolean(process.env.CI) && process.env.CI !== "false";
    if (ci && skipped.length) {
      console.log(`\nCI=true: ${skipped.length} skipped test(s) count as failures:`);
      for (const t of skipped) {
        const reason = t.annotations.find((a) => a.type === "skip")?.description ?? "";
        console.log(`  skipped: ${t.titlePath().filter(Boolean).join(" › ")}${reason ? ` (${reason})` : ""}`);
      }
    }
    const infrastructure = tests.filter((t) => t.outcome() === "unexpected" && t.results.some((r) => r.errors.some((e) => e.message?.includes("[infrastructure]")))).length;
    if (infrastructure) console.log(`${infrastructure} failure(s) are infrastructure errors (an unusable rig or lab), not verdicts on the kit`);
    const r = this.reports;
    console.log(`reports: ${r}/html/index.html (npx playwright show-report ${r}/html), ${r}/results.json, ${r}/junit.xml, ${r}/allure-results (npm run report builds ${r}/allure-report)`);
    const failedTotal = failed + (ci ? skipped.length : 0);
    console.log(`zt-hil: ${passed} passed, ${failedTotal} failed, ${skipped.length} skipped`);
    if (ci && skipped.length && result.status === "passed") return { status: "failed" };
    return undefined;
  }
}
