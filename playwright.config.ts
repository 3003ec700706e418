/**
 * One Playwright configuration for both kinds of test:
 * - `unit`: the harness's own tests, beside the code they test (harness/**\/*.test.ts);
 * - the HIL suite in specs/ (added as the rigs, drivers and fixtures land).
 * Under CI=true the guard reporter turns any skipped test into a failed run.
 */
import { defineConfig } from "@playwright/test";

export default defineConfig({
  timeout: 60_000,
  fullyParallel: true,
  forbidOnly: Boolean(process.env.CI),
  workers: process.env.CI ? 2 : undefined,
  reporter: [["list"], ["./reports/ci-guard-reporter.ts"]],
  outputDir: "test-results",
  projects: [
    {
      name: "unit",
      testDir: "harness",
      testMatch: "**/*.test.ts",
    },
  ],
});
