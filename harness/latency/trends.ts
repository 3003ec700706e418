/**
 * Nightly trends: what each run measured, kept so tonight is compared with the nights before.
 *
 * The store is append-only files: one JSON file per run and lab host under reports/history/runs
 * (ZT_HISTORY_DIR), written whole by rename. Why not an embedded database: shards on several lab hosts
 * each write their own file, and a CI job merges the hosts' histories by copying folders — no lock, no
 * server, no native module to build on a lab host; a run killed mid-write leaves nothing half-written;
 * a year of nightly runs is a few hundred small files, read in milliseconds. Records of one run from
 * several shards share its run id (ZT_RUN_ID, e.g. the CI pipeline id) and are read as one run.
 *
 * The gate (ZT_TREND_GATE=20%): a figure that got worse than the median of the same figure over the
 * last ZT_TREND_RUNS runs (default 5) by more than the gate fails the run, naming variant, operation,
 * figure, tonight's value, the median and the runs it came from. p95 is compared where the samples
 * give one, the maximum otherwise (see stats.ts: below 20 samples a p95 is only the maximum).
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import type { Budget } from "../config/budget-schema.ts";
import { ConfigError } from "../errors.ts";
import { BUDGET_COLOURS, escapeMarkup, type Summary } from "./stats.ts";

/** One operation's figures in one run (ms). */
export interface Measurement {
  operation: string;
  n: number;
  p50: number;
  p95: number | null;
  max: number;
  budget?: Budget;
}

export interface VariantRecord {
  passed: number;
  failed: number;
  skipped: number;
  measurements: Record<string, Measurement>;
}

export interface RunRecord {
  run: string;
  /** When the run started (ISO). */
  time: string;
  host: string;
  lab: string;
  sha: string;
  status: string;
  variants: Record<string, VariantRecord>;
}

/** The attachment a test carries its measurements in (the trend reporter reads it). */
export const MEASUREMENT_ATTACHMENT = "measurements (JSON)";

export const measurementOf = (s: Summary, budget: Budget | undefined): Measurement => ({ operation: s.name, n: s.n, p50: s.p50, p95: s.p95, max: s.max, ...(budget ? { budget } : {}) });

export function historyDir(reportsDir: string): string {
  return process.env.ZT_HISTORY_DIR ?? join(reportsDir, "history");
}

export function writeRun(dir: string, record: RunRecord): string {
  const runs = join(dir, "runs");
  mkdirSync(runs, { recursive: true });
  const file = join(runs, `${record.time.replace(/[:.]/g, "-")}_${record.host.replace(/[^A-Za-z0-9-]/g, "_")}_${record.run.replace(/[^A-Za-z0-9-]/g, "_")}.json`);
  writeFileAtomic(file, JSON.stringify(record, null, 1) + "\n", 0o644);
  return file;
}

/** Every run on record, oldest first; the records of one run id (its shards) merged. A broken file is named. */
export function readRuns(dir: string): RunRecord[] {
  const runs = join(dir, "runs");
  let names: string[];
  try {
    names = readdirSync(runs).filter((f) => f.endsWith(".json")).sort();
  } catch {
    return [];
  }
  const byRun = new Map<string, RunRecord>();
  for (const name of names) {
    let r: RunRecord;
    try {
      r = JSON.parse(readFileSync(join(runs, name), "utf8")) as RunRecord;
      if (typeof r.run !== "string" || typeof r.variants !== "object") throw new Error("not a run record");
    } catch (err) {
      throw new ConfigError(join(runs, name), `not a zt-hil run record: ${(err as Error).message}`);
    }
    const seen = byRun.get(r.run);
    if (!seen) byRun.set(r.run, r);
    else {
      seen.variants = { ...seen.variants, ...r.variants };
      if (r.status !== "passed") seen.status = r.status;
    }
  }
  return [...byRun.values()].sort((a, b) => a.time.localeCompare(b.time));
}

/** The figure trends and the gate compare: p95 where the samples give one, else the maximum. */
export const trendFigure = (m: Measurement): { figure: "p95" | "max"; value: number } => (m.p95 !== null ? { figure: "p95", value: m.p95 } : { figure: "max", value: m.max });

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** "20%" or "20" → 0.2; anything else is a ConfigError naming the setting. */
export function parseGate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) throw new ConfigError("ZT_TREND_GATE", `"${text}" is not a percentage such as 20%`);
  return Number(m[1]) / 100;
}

export interface Regression {
  variant: string;
  operation: string;
  figure: "p95" | "max";
  value: number;
  median: number;
  runs: number;
}

/** Each figure of `current` worse than the median of the same figure in the `window` runs before by more than `gate`. */
export function regressions(current: RunRecord, history: RunRecord[], gate: number, window: number): Regression[] {
  const before = history.filter((r) => r.run !== current.run).slice(-window);
  const out: Regression[] = [];
  for (const [variant, rec] of Object.entries(current.variants)) {
    for (const m of Object.values(rec.measurements)) {
      const { figure, value } = trendFigure(m);
      const past = before.map((r) => r.variants[variant]?.measurements[m.operation]).filter((p): p is Measurement => p !== undefined && trendFigure(p).figure === figure);
      if (!past.length) continue;
      const base = median(past.map((p) => trendFigure(p).value));
      if (value > base * (1 + gate)) out.push({ variant, operation: m.operation, figure, value, median: base, runs: past.length });
    }
  }
  return out;
}

export const regressionLine = (r: Regression) =>
  `${r.variant} ${r.operation} ${r.figure} ${r.value} ms is ${Math.round((r.value / r.median - 1) * 100)}% over the median ${r.median} ms of the last ${r.runs} run${r.runs === 1 ? "" : "s"}`;

/**
 * One operation's trend across runs as SVG: p50, p95 (or max) and max per run, the budget figures as
 * dashed lines. Hand-written like stats.ts's chart: a handful of polylines needs no charting library.
 */
export function trendChart(title: string, points: { run: string; time: string; m: Measurement }[]): string {
  const width = 640;
  const height = 260;
  const left = 60;
  const right = 20;
  const top = 36;
  const bottom = 200;
  const budget = points.at(-1)?.m.budget ?? {};
  const values = points.flatMap((p) => [p.m.p50, p.m.p95 ?? p.m.max, p.m.max]);
  const maxV = Math.max(1, ...values, ...Object.values(budget));
  const x = (i: number) => left + (points.length <= 1 ? (width - left - right) / 2 : ((width - left - right) * i) / (points.length - 1));
  const y = (v: number) => bottom - ((bottom - top) * v) / maxV;
  const esc = escapeMarkup;
  const line = (pick: (m: Measurement) => number, colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map((p, i) => `${x(i).toFixed(1)},${y(pick(p.m)).toFixed(1)}`).join(" ")}"/>` +
    points.map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(pick(p.m)).toFixed(1)}" r="3" fill="${colour}"><title>${esc(`${p.time} ${pick(p.m)} ms`)}</title></circle>`).join("");
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${left}" x2="${width - right}" y1="${bottom}" y2="${bottom}" stroke="#000"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#000"/>`,
    `<text x="${left - 6}" y="${y(maxV) + 4}" text-anchor="end">${Math.round(maxV)}</text><text x="${left - 6}" y="${bottom + 4}" text-anchor="end">0 ms</text>`,
  ];
  for (const k of ["p50", "p95", "max"] as const) {
    const v = budget[k];
    if (v !== undefined) parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="${BUDGET_COLOURS[k]}" stroke-dasharray="4,3"/><text x="${width - right}" y="${y(v) - 3}" text-anchor="end" fill="${BUDGET_COLOURS[k]}">budget ${k} ${v}</text>`);
  }
  parts.push(line((m) => m.max, "#999"), line((m) => m.p95 ?? m.max, "#1f4e9c"), line((m) => m.p50, "#000"));
  points.forEach((p, i) => parts.push(`<text x="${x(i)}" y="${bottom + 14}" text-anchor="middle">${i + 1}</text>`));
  parts.push(`<text x="10" y="${height - 12}" fill="#555">runs oldest → newest (${points.length}); black p50, blue p95 (max below 20 samples), grey max; dashed: budgets</text>`, "</svg>");
  return parts.join("\n");
}

/** One variant's figures of one operation across runs, oldest first (runs without it left out). */
export function figureSeries(runs: RunRecord[], variant: string, operation: string): { run: string; time: string; m: Measurement }[] {
  return runs.flatMap((r) => {
    const m = r.variants[variant]?.measurements[operation];
    return m ? [{ run: r.run, time: r.time, m }] : [];
  });
}

/** The trend page: one chart per variant and operation over every run on record. */
export function trendPage(runs: RunRecord[]): string {
  const keys = [...new Set(runs.flatMap((r) => Object.entries(r.variants).flatMap(([variant, rec]) => Object.keys(rec.measurements).map((op) => JSON.stringify([variant, op])))))]
    .map((k) => JSON.parse(k) as [string, string])
    .sort(([a, x], [b, y]) => `${a} — ${x}`.localeCompare(`${b} — ${y}`));
  const esc = escapeMarkup;
  const table = runs.map((r) => `<tr><td>${esc(r.time)}</td><td>${esc(r.run)}</td><td>${esc(r.host)}</td><td>${esc(r.status)}</td><td>${Object.entries(r.variants).map(([v, x]) => `${esc(v)}: ${x.passed} passed, ${x.failed} failed`).join("<br>")}</td></tr>`).join("");
  return `<!doctype html><meta charset="utf-8"><title>zt-hil latency trends</title><style>body{font-family:sans-serif}td,th{padding:2px 8px}</style>
<h2>zt-hil latency trends (${runs.length} runs)</h2>
<table><tr><th>started</th><th>run</th><th>host</th><th>status</th><th>variants</th></tr>${table}</table>
${keys.map(([variant, op]) => trendChart(`${variant} — ${op}`, figureSeries(runs, variant, op))).join("\n")}
`;
}
