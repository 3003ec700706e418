/**
 * One Playwright configuration for both kinds of test:
 * - `unit`: the harness's and the virtual kit's own tests, beside the code they test (*.test.ts);
 * - `hil`: the HIL suite in specs/, run on the rigs of the lab file (ZT_LAB, default rigs/lab.yaml),
 *   one worker per rig (a worker holds one rig; more workers would only wait for a lock).
 * Reports go to ZT_REPORTS_DIR (default reports/): list on the terminal, HTML (html/), JSON
 * (results.json), JUnit (junit.xml), Allure results (allure-results/, this run only, with the kept
 * history and the run's environment, executor and categories; `npm run report` builds the site).
 * Under CI=true the guard reporter turns any skipped test into a failed run (and .ci/run's gate reads
 * results.json itself).
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { defineConfig } from "@playwright/test";
import { labFile, loadLab } from "./harness/config/load.ts";

// See bin/zt-hil.js: the SDK's Node 22 notice is noise for a harness that pins Node-20-capable SDKs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// `--list` runs nothing: it must not overwrite the last run's reports with "skipped".
const listing = process.argv.includes("--list");
const reports = process.env.ZT_REPORTS_DIR ?? "reports";

/** How many rigs the lab has; a lab file that cannot be read fails later, in the lab fixture, by name. */
function rigCount(): number {
  try {
    return Math.max(1, loadLab(labFile()).rigs.length);
  } catch {
    return 1;
  }
}
const rigs = rigCount();

export default defineConfig({
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
        ["./reports/ci-guard-reporter.ts", { reportsDir: reports }],
      ],
  outputDir: "test-results",
  projects: [
    {
      name: "unit",
      testDir: ".",
      testMatch: ["harness/**/*.test.ts", "rigs/**/*.test.ts", "reports/**/*.test.ts", "scripts/**/*.test.ts"],
      fullyParallel: true,
    },
    {
      name: "hil",
      testDir: "specs",
      testMatch: "**/*.spec.ts",
      // Tests of one spec file share the worker's rig, in order; files spread over the rigs.
      fullyParallel: false,
      workers: rigs,
      timeout: 180_000,
    },
  ],
});
