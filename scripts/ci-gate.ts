/**
 * The CI gate on what the run wrote, not on which reporter printed it: reports/results.json must exist,
 * come from this run, and show no failed, flaky-but-failed or skipped test (under CI a skip is a
 * failure; a reporter chosen on the command line cannot lift that). Exit 1 names the tests.
 */
import { readFileSync, statSync } from "node:fs";

const file = "reports/results.json";
const since = Number(process.argv[2] ?? 0);
interface Spec {
  title: string;
  tests: { status: string; projectName: string }[];
}
interface Suite {
  title: string;
  specs?: Spec[];
  suites?: Suite[];
}
let data: { stats: { expected: number; unexpected: number; skipped: number; flaky: number }; suites: Suite[] };
try {
  if (statSync(file).mtimeMs < since) throw new Error("it was not written by this run");
  data = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  console.error(`ci-gate: ${file}: ${(err as Error).message}`);
  process.exit(1);
}
const bad: string[] = [];
const walk = (s: Suite, path: string[]) => {
  for (const spec of s.specs ?? []) for (const t of spec.tests) if (t.status !== "expected" && t.status !== "flaky") bad.push(`${t.status}: [${t.projectName}] ${[...path, spec.title].filter(Boolean).join(" › ")}`);
  for (const c of s.suites ?? []) walk(c, [...path, c.title]);
};
for (const s of data.suites) walk(s, [s.title]);
const { expected, unexpected, skipped, flaky } = data.stats;
console.log(`ci-gate: ${expected + flaky} passed, ${unexpected + skipped} failed, ${skipped} skipped`);
for (const b of bad) console.log(`  ${b}`);
process.exit(bad.length || expected === 0 ? 1 : 0);
