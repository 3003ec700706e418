import { expect, test } from "@playwright/test";
import { budgetFailures, latencyChart, latencyCsv, latencyHtml, latencyTable, percentile, scaleBudget, summarize } from "./stats.ts";

test("nearest-rank percentiles; a p95 only from 20 samples up", () => {
  const s = [...Array(100).keys()].map((i) => i + 1);
  expect([percentile(s, 50), percentile(s, 95), percentile(s, 100)]).toEqual([50, 95, 100]);
  expect(summarize("sign", [30, 10, 20])).toEqual({ name: "sign", n: 3, min: 10, p50: 20, p95: null, max: 30, mean: 20 });
  expect(summarize("sign", s.slice(0, 20)).p95).toBe(19);
  expect(summarize("sign", s.slice(0, 19)).p95).toBeNull();
});

test("budgets: each statistic is checked, a p95 budget holds the max of a small sample, failures name the operation", () => {
  const s = summarize("verify", [70, 80, 90]);
  expect(budgetFailures(s, { p50: 100, max: 100 })).toEqual([]);
  expect(budgetFailures(s, scaleBudget({ p50: 100, max: 100 }, 0.001))).toEqual(["verify p50 80 ms exceeds its budget of 0.1 ms", "verify max 90 ms exceeds its budget of 0.1 ms"]);
  expect(budgetFailures(s, { p95: 85 })).toEqual(["verify max 90 ms (n=3, too few samples for a p95) exceeds its p95 budget of 85 ms"]);
  expect(budgetFailures(summarize("v", [...Array(40).keys()].map((i) => (i === 39 ? 500 : 50))), { p95: 85 })).toEqual([]);
  expect(budgetFailures(s, undefined)).toEqual(["verify: no budget for it in rigs/budgets.yaml"]);
});

test("report forms: Markdown, HTML and CSV tables, an SVG chart with an axis in ms and every budget line", () => {
  const rows = [{ summary: summarize("verify", [70, 80, 90]), budget: { p50: 60, p95: 85, max: 100 } }];
  expect(latencyTable(rows)).toContain("| verify | 3 | 70 | 80 | – | 90 | 60 / 85 / 100 | over budget |");
  expect(latencyHtml("ATECC", rows)).toMatch(/<table><tr><th>operation<\/th>[\s\S]*<td>verify<\/td><td>3<\/td>[\s\S]*<\/table>/);
  expect(latencyCsv(rows).split("\n")).toEqual(["operation,n,min_ms,p50_ms,p95_ms,max_ms,budget_p50_ms,budget_p95_ms,budget_max_ms,verdict", "verify,3,70,80,,90,60,85,100,over budget", ""]);
  const svg = latencyChart("ATECC", rows);
  expect(svg).toMatch(/^<svg[\s\S]*verify \(n=3\)[\s\S]*<\/svg>$/);
  expect(svg.match(/stroke-dasharray/g)).toHaveLength(3); // p50, p95 and max budget lines
  expect(svg).toContain(">ms</text>");
});
