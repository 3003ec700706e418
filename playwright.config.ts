/**
 * One Playwright configuration for both kinds of test:
 * - `unit`: the harness's and the virtual kit's own tests, beside the code they test (*.test.ts);
 * - `hil:<variant>`: the HIL suite in specs/, once per rig variant of the lab file (ZT_LAB, default
 *   rigs/lab.yaml; harness/config/variants.ts), one worker per rig of the variant's pool (a worker holds
 *   one rig; more would only wait for a lock). A variant's project leaves out the tests tagged with a
 *   need its rigs cannot meet (`@needs-bus`). `--project='hil:*'` runs the matrix.
 * Reports go to ZT_REPORTS_DIR (default reports/): list on the terminal, HTML (html/), JSON
 * (results.json), JUnit (junit.xml), Allure results (allure-results/, this run only, with the kept
 * history and the run's environment, executor and categories; `npm run report` builds the site), and
 * the run's measurements in the trend history (history/, trends/index.html; ZT_TREND_GATE fails a
 * regression; harness/latency/trends.ts), and for a `--shard=i/n` run the blob report (blob/report-i.zip) that `playwright merge-reports` joins.
 * Under CI=true the guard reporter turns any skipped test into a failed run (and .ci/run's gate reads
 * results.json itself).
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { defineConfig } from "@playwright/test";
import { labFile, loadLab } from "./harness/config/load.ts";
import { labVariants, unmetTags, type Variant } from "./harness/config/variants.ts";

// See bin/zt-hil.js: the SDK's Node 22 notice is noise for a harness that pins Node-20-capable SDKs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// `--list` runs nothing: it must not overwrite the last run's reports with "skipped".
const listing = process.argv.includes("--list");
const reports = process.env.ZT_REPORTS_DIR ?? "reports";
// A shard of a run spread over lab hosts also writes Playwright's blob report, for merge-reports.
const sharded = process.argv.some((a) => a.startsWith("--shard"));

/** The lab's variants; a lab file that cannot be read fails later, in the lab fixture, by name (project "hil:lab"). */
function variants(): Variant[] | null {
  try {
    return labVariants(loadLab(labFile()));
  } catch {
    return null;
  }
}
const matrix = variants();
const rigs = matrix ? matrix.reduce((n, v) => n + v.rigs.length, 0) : 1;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One project per variant: its pool's workers, its rigs, and no test it cannot run. */
const hilProject = (v: Variant | null) => ({
  name: `hil:${v ? v.name : "lab"}`,
  testDir: "specs",
  testMatch: "**/*.spec.ts",
  // Tests of one spec file share the worker's rig, in order; files spread over the pool's rigs.
  fullyParallel: false,
  workers: v ? v.rigs.length : 1,
  timeout: 180_000,
  ...(v && unmetTags(v).length ? { grepInvert: new RegExp(unmetTags(v).map(escape).join("|")) } : {}),
  use: { variant: v?.name ?? null },
  metadata: v ? { variant: v.name, rigs: v.rigs.map((r) => r.name), capabilities: v.capabilities } : {},
});

export default defineConfig<object, { variant: string | null }>({
  timeout: 60_000,
  forbidOnly: Boolean(process.env.CI),
  workers: Math.max(rigs, Math.min(2, availableParallelism())),
  reporter: listing
    ? [["list"]]
    : [
        ["list"],
        ["./reports/allure-run-reporter.ts", { resultsDir: join(reports, "allure-results") }],
        ["html", { outputFolder: join(reports, "html"), open: "never" }],
        ["json", { outputFile: join(reports, "results.json") }],
        ["junit", { outputFile: join(reports, "junit.xml") }],
        ["allure-playwright", { resultsDir: join(reports, "allure-results") }],
        ["./reports/trend-reporter.ts", { reportsDir: reports }],
        ["./reports/ci-guard-reporter.ts", { reportsDir: reports }],
        ...(sharded ? [["blob", { outputDir: join(reports, "blob") }] as ["blob", { outputDir: string }]] : []),
      ],
  outputDir: "test-results",
  projects: [
    {
      name: "unit",
      testDir: ".",
      testMatch: ["harness/**/*.test.ts", "rigs/**/*.test.ts", "reports/**/*.test.ts", "scripts/**/*.test.ts"],
      fullyParallel: true,
    },
    ...(matrix ? matrix.map(hilProject) : [hilProject(null)]),
  ],
});
