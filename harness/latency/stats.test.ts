import { expect, test } from "@playwright/test";
import { budgetFailures, latencyChart, latencyTable, percentile, scaleBudget, summarize } from "./stats.ts";

test("nearest-rank percentiles and summaries", () => {
  const s = [...Array(100).keys()].map((i) => i + 1);
  expect([percentile(s, 50), percentile(s, 95), percentile(s, 100)]).toEqual([50, 95, 100]);
  expect(summarize("sign", [30, 10, 20])).toEqual({ name: "sign", n: 3, min: 10, p50: 20, p95: 30, max: 30, mean: 20 });
});

test("budgets: each statistic is checked, scale multiplies, failures name the operation", () => {
  const s = summarize("verify", [70, 80, 90]);
  expect(budgetFailures(s, { p50: 100, max: 100 })).toEqual([]);
  expect(budgetFailures(s, scaleBudget({ p50: 100, max: 100 }, 0.001))).toEqual(["verify p50 80 ms exceeds its budget of 0.1 ms", "verify max 90 ms exceeds its budget of 0.1 ms"]);
  expect(budgetFailures(s, undefined)).toEqual(["verify: no budget for it in rigs/budgets.yaml"]);
  const rows = [{ summary: s, budget: { p95: 85 } }];
  expect(latencyTable(rows)).toContain("| verify | 3 | 70 | 80 | 90 | 90 | – / 85 / – | over budget |");
  expect(latencyChart("ATECC", rows)).toMatch(/^<svg[\s\S]*verify[\s\S]*<\/svg>$/);
});
