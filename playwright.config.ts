/**
 * One Playwright configuration for both kinds of test:
 * - `unit`: the harness's and the virtual kit's own tests, beside the code they test (*.test.ts);
 * - the HIL suite in specs/ (added as the rigs, drivers and fixtures land).
 * Under CI=true the guard reporter turns any skipped test into a failed run.
 */
import { defineConfig } from "@playwright/test";

// See bin/zt-hil.js: the SDK's Node 22 notice is noise for a harness that pins Node-20-capable SDKs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

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
      testDir: ".",
      testMatch: ["harness/**/*.test.ts", "rigs/**/*.test.ts"],
    },
  ],
});
