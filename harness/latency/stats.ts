/**
 * Latency samples, their summary (nearest-rank percentiles) and the comparison with a budget, plus the
 * report forms: a Markdown, HTML and CSV table and an SVG chart with an axis in ms (min–p95 bar, p50
 * tick, max dot, a line per budget figure). Honest for small samples: a p95 of fewer than 20 samples is
 * only the maximum under another name, so it is not given (null), and a p95 budget is then held
 * against the maximum. Hand-written SVG: a dozen rows need no charting library.
 */
import type { Budget } from "../config/budget-schema.ts";

export interface Summary {
  name: string;
  n: number;
  min: number;
  p50: number;
  /** null below P95_MIN_SAMPLES samples. */
  p95: number | null;
  max: number;
  mean: number;
}

/** Fewer samples than this make a nearest-rank p95 equal to the maximum. */
export const P95_MIN_SAMPLES = 20;

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarize(name: string, values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  const p95 = s.length >= P95_MIN_SAMPLES ? round(percentile(s, 95)) : null;
  return { name, n: s.length, min: round(s[0] ?? NaN), p50: round(percentile(s, 50)), p95, max: round(s.at(-1) ?? NaN), mean: round(s.reduce((a, b) => a + b, 0) / (s.length || 1)) };
}

/** Each statistic over its budget, worded for a failure message. */
export function budgetFailures(s: Summary, budget: Budget | undefined): string[] {
  if (!budget) return [`${s.name}: no budget for it in rigs/budgets.yaml`];
  if (!s.n) return [`${s.name}: no samples`];
  const out: string[] = [];
  for (const k of ["p50", "p95", "max"] as const) {
    const limit = budget[k];
    if (limit === undefined) continue;
    const v = s[k];
    if (v === null) {
      if (s.max > limit) out.push(`${s.name} max ${s.max} ms (n=${s.n}, too few samples for a p95) exceeds its p95 budget of ${limit} ms`);
    } else if (v > limit) out.push(`${s.name} ${k} ${v} ms exceeds its budget of ${limit} ms`);
  }
  return out;
}

/** Multiply every figure of a budget (ZT_BUDGET_SCALE). */
export function scaleBudget(b: Budget, scale: number): Budget {
  const out: Budget = {};
  for (const k of ["p50", "p95", "max"] as const) if (b[k] !== undefined) out[k] = b[k]! * scale;
  return out;
}

/** Text for HTML and SVG. */
export const escapeMarkup = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
/** One colour per budget figure, in every chart. */
export const BUDGET_COLOURS = { p50: "#2a9d8f", p95: "#1f4e9c", max: "#b5179e" } as const;

type Row = { summary: Summary; budget?: Budget | undefined };
const fmt = (v: number | null | undefined) => (v === undefined || v === null ? "–" : String(Math.round(v * 100) / 100));
const cells = ({ summary: s, budget: b }: Row) => [s.name, String(s.n), fmt(s.min), fmt(s.p50), fmt(s.p95), fmt(s.max), `${fmt(b?.p50)} / ${fmt(b?.p95)} / ${fmt(b?.max)}`, budgetFailures(s, b).length ? "over budget" : "ok"];
const HEAD = ["operation", "n", "min", "p50", "p95", "max", "budget p50 / p95 / max", "verdict"];
const FOOT = `ms; p95 is given from ${P95_MIN_SAMPLES} samples up ("–" below, where a p95 budget is held against the max)`;

export function latencyTable(rows: Row[]): string {
  const lines = [`| ${HEAD.join(" | ")} |`, `|${HEAD.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${cells(r).join(" | ")} |`)];
  return `${lines.join("\n")}\n\n${FOOT}\n`;
}

/** The same table as HTML, which the HTML report shows as a table. */
export function latencyHtml(title: string, rows: Row[]): string {
  const esc = escapeMarkup;
  const tr = (c: string[], tag: string) => `<tr>${c.map((x) => `<${tag}>${esc(x)}</${tag}>`).join("")}</tr>`;
  return `<!doctype html><meta charset="utf-8"><title>${esc(title)}</title><style>td,th{padding:2px 8px;text-align:right;font-family:sans-serif}td:first-child{text-align:left}</style><h3>${esc(title)}</h3><table>${tr(HEAD, "th")}${rows.map((r) => tr(cells(r), "td")).join("")}</table><p>${esc(FOOT)}</p>\n`;
}

export function latencyCsv(rows: Row[]): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const head = ["operation", "n", "min_ms", "p50_ms", "p95_ms", "max_ms", "budget_p50_ms", "budget_p95_ms", "budget_max_ms", "verdict"];
  const body = rows.map(({ summary: s, budget: b }) => [s.name, s.n, s.min, s.p50, s.p95 ?? "", s.max, b?.p50 ?? "", b?.p95 ?? "", b?.max ?? "", budgetFailures(s, b).length ? "over budget" : "ok"].map((v) => q(String(v))).join(","));
  return [head.join(","), ...body].join("\n") + "\n";
}

/** A row per operation on one axis in ms: min–p95 bar (min–max when p95 is not given), p50 tick, max dot, budget lines. */
export function latencyChart(title: string, rows: Row[]): string {
  const rowH = 26;
  const left = 260;
  const width = 820;
  const top = 40;
  const axisY = top + rows.length * rowH + 6;
  const height = axisY + 56;
  const maxV = Math.max(1, ...rows.flatMap((r) => [r.summary.max, r.budget?.max ?? 0, r.budget?.p95 ?? 0, r.budget?.p50 ?? 0]));
  const x = (v: number) => left + ((width - left - 30) * v) / maxV;
  const esc = escapeMarkup;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`, `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`];
  rows.forEach(({ summary: s, budget: b }, i) => {
    const y = top + i * rowH;
    const over = budgetFailures(s, b).length > 0;
    parts.push(`<text x="10" y="${y + 15}">${esc(s.name)} (n=${s.n})</text>`);
    parts.push(`<rect x="${x(s.min)}" y="${y + 5}" width="${Math.max(1, x(s.p95 ?? s.max) - x(s.min))}" height="12" fill="${over ? "#e4572e" : "#4c9f70"}" opacity="0.7"/>`);
    parts.push(`<line x1="${x(s.p50)}" x2="${x(s.p50)}" y1="${y + 3}" y2="${y + 19}" stroke="#000" stroke-width="2"/>`, `<circle cx="${x(s.max)}" cy="${y + 11}" r="3" fill="#000"/>`);
    for (const k of ["p50", "p95", "max"] as const) {
      const v = b?.[k];
      if (v !== undefined) parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${y + 1}" y2="${y + 21}" stroke="${BUDGET_COLOURS[k]}" stroke-width="1.5" stroke-dasharray="3,2"/>`);
    }
  });
  parts.push(`<line x1="${left}" x2="${width - 30}" y1="${axisY}" y2="${axisY}" stroke="#000"/>`);
  const step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].find((t) => maxV / t <= 10) ?? 10_000;
  for (let t = 0; t <= maxV; t += step) parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${axisY}" y2="${axisY + 5}" stroke="#000"/>`, `<text x="${x(t)}" y="${axisY + 17}" text-anchor="middle">${t}</text>`);
  parts.push(`<text x="${width - 30}" y="${axisY + 32}" text-anchor="end">ms</text>`);
  parts.push(
    `<text x="10" y="${height - 8}" fill="#555">bar: min–p95 (min–max below ${P95_MIN_SAMPLES} samples), tick: p50, dot: max; dashed: budget p50 (green), p95 (blue), max (purple)</text>`,
    "</svg>",
  );
  return parts.join("\n");
}
