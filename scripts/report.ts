/**
 * `npm run report`: the Allure site from the last run's results (reports/allure-results, or
 * ZT_REPORTS_DIR's), with trends: the kept history (allure-history, apart from the results, which every
 * run cleans) is copied into the results before generating, and the new report's history is kept
 * apart again for the next report. Allure's generator is Java: without a JRE this says so in one line (scripts/setup installs one).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";

const reports = process.env.ZT_REPORTS_DIR ?? "reports";
const results = join(reports, "allure-results");
const site = join(reports, "allure-report");
const history = join(reports, "allure-history");

if (!existsSync(results)) {
  console.error(`report: ${results} does not exist: run the suite first (npm run hil)`);
  process.exit(2);
}
if (spawnSync("java", ["-version"], { stdio: "ignore" }).status !== 0) {
  console.error("report: Allure's generator needs Java (a JRE); scripts/setup installs default-jre-headless");
  process.exit(3);
}
if (existsSync(history)) cpSync(history, join(results, "history"), { recursive: true });
const r = spawnSync("npx", ["allure", "generate", results, "--clean", "-o", site], { stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);
if (existsSync(join(site, "history"))) {
  rmSync(history, { recursive: true, force: true });
  cpSync(join(site, "history"), history, { recursive: true });
}
console.log(`report: ${join(site, "index.html")} (open it with: npx allure open ${site})`);
