/**
 * What allure-playwright leaves to us, so an Allure report tells one run and the lab it ran on:
 * - onBegin: the results directory holds this run only (a failing 1-test run must not show last
 *   night's passes); the trend history is kept apart (allure-history, see scripts/report.ts);
 * - onEnd: environment.properties (lab file, each rig with its kit serial, firmware and WINC firmware
 *   as the kit told them, faults, budget scale, zt-hil version, node, git sha), executor.json (who ran
 *   it: CI or a person's machine) and categories.json (infrastructure, budget, TLS, JITR, fidelity).
 * It must come before allure-playwright in the reporter list: its onBegin cleans what that one writes.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { FullConfig, Reporter, Suite } from "@playwright/test/reporter";
import { FAULTS, type Layer } from "../harness/faults/catalog.ts";

/** A message whose first line names one of these catalog faults (a diagnosed failure leads with them). */
function namingFaults(layers: Layer[]): string {
  const names = FAULTS.filter((f) => layers.includes(f.layer)).map((f) => f.name);
  return `(?s)(DiagnosedError: )?(${names.join("|")})[ :/].*`;
}

/**
 * Allure categories, first match wins. Regexes match the whole message or trace (Java's matches()). A
 * diagnosed failure's first line names the catalog faults it shows (harness/faults/), so it is filed by
 * their layer; what no fault names is filed by its words (TLS looks at the first line only: a JITR wait
 * that timed out after a TLS refusal is a TLS failure).
 */
export const CATEGORIES = [
  { name: "Infrastructure (the rig or lab, not the kit)", matchedStatuses: ["failed", "broken"], messageRegex: "(?s).*\\[infrastructure\\].*" },
  { name: "Latency budget exceeded", matchedStatuses: ["failed", "broken"], messageRegex: "(?s).*exceeds its budget.*" },
  { name: "Network (Wi-Fi, DNS, TCP)", matchedStatuses: ["failed", "broken"], messageRegex: namingFaults(["Wi-Fi", "DNS", "TCP"]) },
  { name: "TLS", matchedStatuses: ["failed", "broken"], messageRegex: namingFaults(["TLS"]) },
  { name: "JITR", matchedStatuses: ["failed", "broken"], messageRegex: namingFaults(["JITR"]) },
  { name: "MQTT and policy", matchedStatuses: ["failed", "broken"], messageRegex: namingFaults(["MQTT", "policy"]) },
  { name: "Secure element and power", matchedStatuses: ["failed", "broken"], messageRegex: namingFaults(["ATECC", "power"]) },
  { name: "TLS", matchedStatuses: ["failed", "broken"], messageRegex: "(?s)[^\\n]*(server alert|kit alert|handshake incomplete|no shared cipher|ClientHello|CertificateVerify|cipher suite).*" },
  { name: "JITR", matchedStatuses: ["failed", "broken"], messageRegex: "(?s).*(JITR|PENDING_ACTIVATION|Lambda).*" },
  { name: "Twin fidelity (the virtual kit departs from firmware v2.2.5)", matchedStatuses: ["failed", "broken"], traceRegex: "(?s).*rigs/virtual-kit/.*" },
];

export default class AllureRunReporter implements Reporter {
  private suite: Suite | undefined;
  private readonly results: string;

  constructor(opts: { resultsDir: string }) {
    this.results = resolve(opts.resultsDir);
  }

  onBegin(_config: FullConfig, suite: Suite): void {
    this.suite = suite;
    rmSync(this.results, { recursive: true, force: true });
    mkdirSync(this.results, { recursive: true });
  }

  onEnd(): void {
    const build = { version: version(), sha: gitSha() };
    mkdirSync(this.results, { recursive: true });
    writeFileSync(join(this.results, "environment.properties"), properties(this.environment(build)));
    writeFileSync(join(this.results, "executor.json"), JSON.stringify(executor(build), null, 2));
    writeFileSync(join(this.results, "categories.json"), JSON.stringify(CATEGORIES, null, 2));
  }

  /** Run facts, and the rigs as the tests' annotations recorded them (one line per rig). */
  private environment(build: Build): Record<string, string> {
    const rigs = new Map<string, Record<string, string>>();
    const run: Record<string, string> = {};
    for (const t of this.suite?.allTests() ?? []) {
      for (const r of t.results) {
        const a = Object.fromEntries(r.annotations.map((x) => [x.type, x.description ?? ""]));
        if (!a.rig) continue;
        rigs.set(a.rig, { ...rigs.get(a.rig), ...a });
        for (const k of ["lab", "faults", "budget scale"]) if (a[k]) run[k] = a[k];
      }
    }
    const env: Record<string, string> = {
      ...run,
      "zt-hil": build.version,
      node: process.version,
      "git sha": build.sha,
    };
    for (const [name, f] of rigs) env[`rig ${name}`] = [f["rig class"], f["kit link"], f["kit serial"] && `kit ${f["kit serial"]}`, f.firmware, f["WINC firmware"] && `WINC ${f["WINC firmware"]}`].filter(Boolean).join(", ");
    return env;
  }
}

function properties(env: Record<string, string>): string {
  const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/([=:# !])/g, "\\$1").replace(/\n/g, "\\n");
  return Object.entries(env).map(([k, v]) => `${esc(k)}=${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`).join("\n") + "\n";
}

/** What was run: zt-hil's version and the commit. */
interface Build {
  version: string;
  sha: string;
}

function executor(build: Build): Record<string, unknown> {
  const ci = Boolean(process.env.CI) && process.env.CI !== "false";
  const url = process.env.GITHUB_SERVER_URL && process.env.GITHUB_RUN_ID ? `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}` : process.env.BUILD_URL;
  return {
    name: ci ? "CI" : `${process.env.USER ?? "someone"}@${hostname()}`,
    type: ci ? "ci" : "local",
    buildName: `zt-hil ${build.version} @ ${build.sha} ${new Date().toISOString()}`,
    ...(url ? { buildUrl: url } : {}),
    reportName: "zt-hil HIL suite",
  };
}

export function version(): string {
  return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

export function gitSha(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || "unknown";
  } catch {
    return "unknown";
  }
}
