/**
 * The HIL suite's Playwright fixtures. Worker-scoped: the lab, the cloud, the PKI, JITR set-up and a
 * rig (locked for this worker alone, health-checked; an unusable rig fails as an infrastructure error).
 * Test-scoped and automatic for every spec: a capture of the kit's traffic and the console log, both
 * attached to the report; the rig's facts (rig, kit serial, firmware, WINC firmware, lab file, faults,
 * budget scale) as annotations and Allure labels; and on a failure, the diagnosis (the verdict of the
 * kit's last connection, what the cloud refused), the capture's analysis and the cloud's events, which
 * also lead the error of any failing wait (harness/steps.ts). Plus the latency budgets of the rig's
 * class. Matchers read like the spec: toNegotiate, toAuthenticateClient, toOfferOnly,
 * toCompleteHandshake, toMeetBudget.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { mergeExpects, test as base, type TestInfo } from "@playwright/test";
import * as allure from "allure-js-commons";
import lockfile from "proper-lockfile";
import { expect as tlsExpect } from "./analysis/matchers.ts";
import type { Budget, BudgetClass } from "./config/budget-schema.ts";
import type { Lab } from "./config/lab-schema.ts";
import { budgetsFor, labFile, loadBudgets, loadLab } from "./config/load.ts";
import { rigVariant } from "./config/variants.ts";
import { ConfigError } from "./errors.ts";
import { openCloud, type CloudBackend, type CloudEvent } from "./cloud/cloud-backend.ts";
import { expect as latencyExpect, takeMeasurements } from "./latency/matchers.ts";
import { figureSeries, historyDir, MEASUREMENT_ATTACHMENT, readRuns, trendChart } from "./latency/trends.ts";
import { scaleBudget } from "./latency/stats.ts";
import { loadOrInitPki, type Pki } from "./pki/pki-dir.ts";
import { parseLabFaults, type LabFaults } from "./faults/lab-faults.ts";
import { openRig, type OpenRig } from "./rig/rig.ts";
import { acquireRig, rigLockDir } from "./rig/rig-lock.ts";
import type { BusCapture } from "./bus/bus-capture.ts";
import { maskSecrets } from "./console/mask.ts";
import type { CaptureSession } from "./capture/capture-session.ts";
import { analyzeFile, type CaptureReport } from "./analysis/analyze-capture.ts";
import { captureDiagnosis, cloudDiagnosis } from "./analysis/diagnose.ts";
import { findingLine, recognize, unansweredMethod } from "./faults/recognize.ts";
import { parseKeyLog } from "./tls/keylog.ts";
import { diagnoseWith, step } from "./steps.ts";
import { UpdateCACertificateCommand } from "@aws-sdk/client-iot";

export interface WorkerFixtures {
  /** The project's rig variant (playwright.config.ts); null: any rig of the lab. */
  variant: string | null;
  lab: Lab;
  labFaults: LabFaults;
  cloud: CloudBackend;
  pki: Pki;
  jitr: { caCertificateId: string };
  rig: OpenRig;
}

export interface TestFixtures {
  capture: CaptureSession;
  /** The ATECC's I2C bus for this test (null when the rig has none); attached to the report. */
  bus: BusCapture | null;
  budgets: BudgetClass;
  consoleLog: void;
  facts: void;
  trend: void;
}

const root = process.cwd();
/** How long a worker waits for a rig another process holds before failing as [infrastructure]. */
const RIG_WAIT_MS = Number(process.env.ZT_RIG_WAIT_MS ?? 600_000);
const stateRoot = resolve(root, ".zt-hil");
const reportsDir = process.env.ZT_REPORTS_DIR ?? "reports";

const failed = (info: TestInfo) => info.status !== info.expectedStatus;

/** The analysis of a capture so far (both capture bindings write as packets arrive). */
async function analyzeSoFar(file: string, cloud: CloudBackend): Promise<CaptureReport | null> {
  if (!existsSync(file) || statSync(file).size <= 24) return null;
  const keys = await cloud.keyLog();
  return analyzeFile(file, keys?.length ? parseKeyLog(keys) : undefined);
}

function scaledBudgets(b: BudgetClass, scale: number): BudgetClass {
  const map = <K extends string>(r: Partial<Record<K, Budget>>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, scaleBudget(v as Budget, scale)])) as Partial<Record<K, Budget>>;
  return { atecc: map(b.atecc), kitMethods: map(b.kitMethods), handshake: map(b.handshake), jitr: b.jitr.firstAttemptToSubscribed ? { firstAttemptToSubscribed: scaleBudget(b.jitr.firstAttemptToSubscribed, scale) } : {} };
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  variant: [null, { scope: "worker", option: true }],
  lab: [async ({}, use) => use(loadLab(labFile(root))), { scope: "worker" }],
  labFaults: [async ({}, use) => use(parseLabFaults(process.env.ZT_FAULTS)), { scope: "worker" }],
  cloud: [
    async ({ lab, labFaults }, use) => {
      const cloud = await openCloud(lab.cloud, labFaults.cloud);
      await use(cloud);
      await cloud.close();
    },
    { scope: "worker" },
  ],
  pki: [
    async ({ lab }, use) => {
      const dir = resolve(root, lab.pki.dir);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Two workers must not create two different CAs in the same directory.
      const release = await lockfile.lock(dir, { retries: { retries: 50, minTimeout: 100 }, stale: 30_000 });
      let pki: Pki;
      try {
        pki = await loadOrInitPki(dir, lab.pki.signerId?.toUpperCase());
      } finally {
        await release();
      }
      await use(pki);
    },
    { scope: "worker" },
  ],
  // Every HIL spec runs against an account set up for the kit's JITR, so this one is automatic.
  jitr: [
    async ({ cloud, pki, labFaults }, use) => {
      const jitr = await cloud.setupJitr(pki);
      // Fault ca-deactivated: through the cloud's own API, as an operator would (works on AWS too).
      if (labFaults.cloudActions.deactivateSignerCa) await step("fault: the signer CA is set INACTIVE", () => cloud.iot.send(new UpdateCACertificateCommand({ certificateId: jitr.caCertificateId, newStatus: "INACTIVE" })));
      await use(jitr);
    },
    { scope: "worker", auto: true },
  ],
  rig: [
    async ({ lab, cloud, labFaults, variant }, use, workerInfo) => {
      // The variant's pool: any of its rigs will do, whichever is free.
      const pool = variant === null ? lab.rigs : lab.rigs.filter((r) => rigVariant(r) === variant);
      if (!pool.length) throw new ConfigError(labFile(root), `no rig of variant ${variant} (the lab changed since the run started?)`);
      const held = await acquireRig(pool, rigLockDir(root), workerInfo.parallelIndex, RIG_WAIT_MS);
      try {
        const rig = await openRig(held.rig, cloud, { stateRoot: join(stateRoot, "rigs"), faults: labFaults });
        await use(rig);
        await rig.close();
      } finally {
        await held.release();
      }
    },
    // The wait for a busy rig, then opening it and its health check.
    { scope: "worker", timeout: RIG_WAIT_MS + 120_000 },
  ],
  budgets: async ({ rig }, use) => {
    const scale = Number(process.env.ZT_BUDGET_SCALE ?? 1);
    if (!(scale > 0)) throw new Error(`ZT_BUDGET_SCALE must be a positive number, got "${process.env.ZT_BUDGET_SCALE}"`);
    await use(scaledBudgets(budgetsFor(loadBudgets(resolve(root, "rigs/budgets.yaml")), rig.rig.class), scale));
  },
  capture: [
    async ({ rig, cloud }, use, testInfo) => {
      const session = rig.capture(testInfo.outputPath("kit.pcap"));
      const eventsFrom = (await cloud.events())?.length ?? 0;
      await session.start();
      const consoleFrom = rig.console.mark();
      // The capture so far (both bindings write as packets arrive); a capture that cannot be read says why.
      const readCapture = () => analyzeSoFar(session.file, cloud).catch((err: Error) => ({ error: err.message }));
      const diagnose = async (report: Awaited<ReturnType<typeof readCapture>>, events: CloudEvent[] | null) => {
        const analysis = report && "connections" in report ? report : null;
        // Known field failures first (harness/faults/recognize.ts), then the plain verdicts.
        const powered = rig.control ? Boolean((await rig.control({ cmd: "status" }).catch(() => ({ powered: null }))).powered) : null;
        const kit = { unanswered: unansweredMethod(rig.kit.transcript), powered };
        const findings = recognize({ report: analysis, console: rig.console.since(consoleFrom).map((l) => l.text), kit, ...(events ? { events } : {}) });
        const wire = analysis ? `on the wire: ${captureDiagnosis(analysis)}` : report && "error" in report ? `on the wire: the capture cannot be read (${report.error})` : "on the wire: nothing captured";
        return [...findings.map(findingLine), wire, events && cloudDiagnosis(events)].filter(Boolean).join("; ");
      };
      const clear = diagnoseWith(async () => diagnose(await readCapture(), await cloud.events(eventsFrom)));
      try {
        await use(session);
      } finally {
        clear();
        await session.stop();
      }
      if (existsSync(session.file) && statSync(session.file).size > 24) await testInfo.attach("kit capture (pcap)", { path: session.file, contentType: "application/vnd.tcpdump.pcap" });
      const keys = await cloud.keyLog();
      if (keys?.length) {
        const f = testInfo.outputPath("keylog.txt");
        writeFileSync(f, keys.join("\n") + "\n");
        await testInfo.attach("TLS key log (NSS, emulator sessions)", { path: f, contentType: "text/plain" });
      }
      // The cloud's events once, for the Lambda logs and, on a failure, the evidence.
      const events = await cloud.events(eventsFrom);
      // The Lambdas that ran for this test, with their logs (a customer's Lambda prints to CloudWatch on AWS).
      const invocations = (events ?? []).filter((e) => (e.type === "lambda-succeeded" || e.type === "lambda-failed") && Array.isArray(e.detail.log));
      if (invocations.length) {
        const body = invocations.map((e) => `${new Date(e.time).toISOString()} ${String(e.detail.function)} ${e.type === "lambda-failed" ? `FAILED: ${String(e.detail.error)}` : "returned"}\n${(e.detail.log as string[]).map((l) => `  ${l}`).join("\n")}`).join("\n");
        await testInfo.attach("JITR Lambda log", { body, contentType: "text/plain" });
      }
      if (!failed(testInfo)) return;
      // A failure carries its evidence: what went wrong on the wire and in the cloud, not only a timeout.
      const report = await readCapture();
      await testInfo.attach("diagnosis", { body: await diagnose(report, events), contentType: "text/plain" });
      if (report) await testInfo.attach("capture analysis (JSON)", { body: JSON.stringify(report, null, 2), contentType: "application/json" });
      if (events) await testInfo.attach("cloud events (JSON)", { body: JSON.stringify(events, null, 2), contentType: "application/json" });
    },
    { auto: true },
  ],
  bus: async ({ rig }, use, testInfo) => {
    const session = rig.bus(testInfo.outputPath("atecc-bus.vcd"));
    await session?.start();
    await use(session);
    if (!session) return;
    await session.stop();
    if (existsSync(session.file)) await testInfo.attach(`ATECC I2C bus trace (${session.format})`, { path: session.file, contentType: session.format === "vcd" ? "text/plain" : "application/octet-stream" });
  },
  consoleLog: [
    async ({ rig }, use, testInfo) => {
      const from = rig.console.mark();
      const transcriptFrom = rig.kit.transcript.length;
      await use();
      await testInfo.attach(`console ${rig.rig.name}`, { body: rig.console.text(from), contentType: "text/plain" });
      await testInfo.attach(`kit protocol ${rig.rig.name}`, { body: maskSecrets(rig.kit.transcript.slice(transcriptFrom).map((t) => `${new Date(t.time).toISOString()} ${t.dir} ${t.line}`), [rig.rig.wifi.psk]).join("\n"), contentType: "text/plain" });
    },
    { auto: true },
  ],
  facts: [
    async ({ rig, labFaults }, use, testInfo) => {
      await use();
      // After the test: the kit has told its firmware, WINC version and serial by now.
      const facts = { ...rig.facts(), variant: rigVariant(rig.rig), lab: relative(root, labFile(root)), faults: labFaults.names.join(",") || "none", "budget scale": process.env.ZT_BUDGET_SCALE ?? "1" };
      for (const [type, description] of Object.entries(facts)) {
        testInfo.annotations.push({ type, description });
        await allure.label(type.replace(/ /g, "_"), description);
      }
    },
    { auto: true },
  ],
  // What the test held against budgets goes to the trend history (reports/trend-reporter.ts), and the
  // report shows each figure's trend over the runs on record with tonight's value last.
  trend: [
    async ({ rig }, use, testInfo) => {
      await use();
      const measurements = takeMeasurements(testInfo.testId);
      if (!measurements.length) return;
      await testInfo.attach(MEASUREMENT_ATTACHMENT, { body: JSON.stringify(measurements), contentType: "application/json" });
      const variant = rigVariant(rig.rig);
      let runs: ReturnType<typeof readRuns>;
      try {
        runs = readRuns(historyDir(reportsDir));
      } catch (err) {
        await testInfo.attach("latency trends", { body: `no trend: ${(err as Error).message}`, contentType: "text/plain" });
        return;
      }
      const now = new Date().toISOString();
      const charts = measurements.map((m) =>
        trendChart(`${variant} — ${m.operation}`, [...figureSeries(runs, variant, m.operation), { run: "this run", time: now, m }]),
      );
      await testInfo.attach("latency trends (HTML)", { body: `<!doctype html><meta charset="utf-8"><title>latency trends</title>\n${charts.join("\n")}\n`, contentType: "text/html" });
    },
    { auto: true },
  ],
});

export const expect = mergeExpects(tlsExpect, latencyExpect);
