/**
 * Latency samples, their summary (nearest-rank percentiles) and the comparison with a budget, plus the
 * report forms: a Markdown table and an SVG chart (min–p95 bar, p50 tick, max dot, budget line).
 * Hand-written SVG: a dozen rows need no charting library.
 */
import type { Budget } from "../config/budget-schema.ts";

export interface Summary {
  name: string;
  n: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarize(name: string, values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return { name, n: s.length, min: round(s[0] ?? NaN), p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), max: round(s.at(-1) ?? NaN), mean: round(s.reduce((a, b) => a + b, 0) / (s.length || 1)) };
}

/** Each statistic over its budget, worded for a failure message. */
export function budgetFailures(s: Summary, budget: Budget | undefined): string[] {
  if (!budget) return [`${s.name}: no budget for it in rigs/budgets.yaml`];
  if (!s.n) return [`${s.name}: no samples`];
  const out: string[] = [];
  for (const k of ["p50", "p95", "max"] as const) {
    const limit = budget[k];
    if (limit !== undefined && s[k] > limit) out.push(`${s.name} ${k} ${s[k]} ms exceeds its budget of ${limit} ms`);
  }
  return out;
}

/** Multiply every figure of a budget (ZT_BUDGET_SCALE). */
export function scaleBudget(b: Budget, scale: number): Budget {
  const out: Budget = {};
  for (const k of ["p50", "p95", "max"] as const) if (b[k] !== undefined) out[k] = b[k]! * scale;
  return out;
}

export function latencyTable(rows: { summary: Summary; budget?: Budget | undefined }[]): string {
  const fmt = (v: number | undefined) => (v === undefined ? "–" : String(Math.round(v * 100) / 100));
  const lines = ["| operation | n | min | p50 | p95 | max | budget p50 / p95 / max | verdict |", "|---|---|---|---|---|---|---|---|"];
  for (const { summary: s, budget: b } of rows) {
    const verdict = budgetFailures(s, b).length ? "over budget" : "ok";
    lines.push(`| ${s.name} | ${s.n} | ${s.min} | ${s.p50} | ${s.p95} | ${s.max} | ${fmt(b?.p50)} / ${fmt(b?.p95)} / ${fmt(b?.max)} | ${verdict} |`);
  }
  return lines.join("\n") + "\n";
}

export function latencyChart(title: string, rows: { summary: Summary; budget?: Budget | undefined }[]): string {
  const rowH = 26;
  const left = 260;
  const width = 760;
  const top = 36;
  const height = top + rows.length * rowH + 30;
  const maxV = Math.max(1, ...rows.flatMap((r) => [r.summary.max, r.budget?.max ?? 0, r.budget?.p95 ?? 0]));
  const x = (v: number) => left + ((width - left - 20) * v) / maxV;
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)} (ms)</text>`,
  ];
  rows.forEach(({ summary: s, budget: b }, i) => {
    const y = top + i * rowH;
    const over = budgetFailures(s, b).length > 0;
    parts.push(`<text x="10" y="${y + 15}">${esc(s.name)}</text>`);
    parts.push(`<rect x="${x(s.min)}" y="${y + 5}" width="${Math.max(1, x(s.p95) - x(s.min))}" height="12" fill="${over ? "#e4572e" : "#4c9f70"}" opacity="0.7"/>`);
    parts.push(`<line x1="${x(s.p50)}" x2="${x(s.p50)}" y1="${y + 3}" y2="${y + 19}" stroke="#000" stroke-width="2"/>`);
    parts.push(`<circle cx="${x(s.max)}" cy="${y + 11}" r="3" fill="#000"/>`);
    const limit = b?.p95 ?? b?.max ?? b?.p50;
    if (limit !== undefined) parts.push(`<line x1="${x(limit)}" x2="${x(limit)}" y1="${y + 1}" y2="${y + 21}" stroke="#1f4e9c" stroke-dasharray="3,2"/>`);
    parts.push(`<text x="${width - 15}" y="${y + 15}" text-anchor="end">${s.p50} / ${s.p95} / ${s.max}</text>`);
  });
  parts.push(`<text x="${left}" y="${height - 8}" fill="#555">bar: min–p95, tick: p50, dot: max, dashed: budget; right: p50 / p95 / max</text>`, "</svg>");
  return parts.join("\n");
}
