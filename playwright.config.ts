/**
 * One Playwright configuration for both kinds of test:
 * - `unit`: the harness's and the virtual kit's own tests, beside the code they test (*.test.ts);
 * - `hil`: the HIL suite in specs/, run on the rigs of the lab file (ZT_LAB, default rigs/lab.yaml).
 * Reports: list on the terminal, HTML (reports/html), JSON (reports/results.json), JUnit
 * (reports/junit.xml), Allure results (reports/allure-results; `npm run report` builds the site).
 * Under CI=true the guard reporter turns any skipped test into a failed run.
 */
import { defineConfig } from "@playwright/test";

// See bin/zt-hil.js: the SDK's Node 22 notice is noise for a harness that pins Node-20-capable SDKs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// `--list` runs nothing: it must not overwrite the last run's reports with "skipped".
const listing = process.argv.includes("--list");

export default defineConfig({
  timeout: 60_000,
  forbidOnly: Boolean(process.env.CI),
  workers: 2,
  reporter: listing
    ? [["list"]]
    : [
        ["list"],
        ["html", { outputFolder: "reports/html", open: "never" }],
        ["json", { outputFile: "reports/results.json" }],
        ["junit", { outputFile: "reports/junit.xml" }],
        ["allure-playwright", { resultsDir: "reports/allure-results" }],
        ["./reports/ci-guard-reporter.ts"],
      ],
  outputDir: "test-results",
  projects: [
    {
      name: "unit",
      testDir: ".",
      testMatch: ["harness/**/*.test.ts", "rigs/**/*.test.ts"],
      fullyParallel: true,
    },
    {
      name: "hil",
      testDir: "specs",
      testMatch: "**/*.spec.ts",
      // Tests of one spec file share the worker's rig, in order; files spread over the rigs.
      fullyParallel: false,
      timeout: 180_000,
    },
  ],
});
