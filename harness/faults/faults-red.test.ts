/**
 * Every catalog entry, red: its spec, run in a nested Playwright process on a one-rig virtual lab of its
 * own with ZT_FAULTS=<entry>, fails with a message naming the fault's symptom; and `zt-hil analyze
 * --diagnose` names the entry from what that run recorded (its capture and key log, its console, the
 * cloud's events). Green is the HIL suite itself: the same specs pass on the default lab without
 * faults in every `npm test`. Each run is its own process, lab and emulator, so nothing leaks between
 * entries.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { attachmentBody, nestedRun, onlyResult } from "../testing/nested-run.ts";
import { runStatus } from "../testing/tools.ts";
import { FAULTS } from "./catalog.ts";

test.describe.configure({ mode: "parallel" });

/** Entries whose evidence is not in the capture, console or events (the kit protocol, the I2C bus). */
const KIT_SIDE = new Set(["slow-atecc", "atecc-crc-errors", "atecc-wake-failure", "power-cut-during-save"]);

for (const f of FAULTS) {
  test(`${f.name}: ${f.red.spec} fails naming "${f.red.symptom}"; --diagnose finds it in what the run recorded`, async ({}, info) => {
    test.setTimeout(240_000);
    const latency = f.red.spec === "crypto-latency";
    const env: Record<string, string> = { ZT_FAULTS: f.name, ZT_CONNECT_TIMEOUT_MS: "20000", ZT_JITR_TIMEOUT_MS: f.name === "lambda-delay" ? "30000" : "5000", ZT_POWER_CYCLES: "1" };
    const r = await nestedRun(`specs/${f.red.spec}.spec.ts`, env, info, latency ? { timing: "datasheet", bus: true, extra: ["--grep", "I2C bus"] } : f.red.test ? { extra: ["--grep", f.red.test] } : {});
    expect(r.code, r.output.slice(-2000)).toBe(1);
    const result = onlyResult(r);
    const message = result.errors.map((e) => e.message ?? "").join("\n");
    expect(message).toMatch(f.red.expect);
    expect(result.annotations).toContainEqual({ type: "faults", description: f.name });
    if (KIT_SIDE.has(f.name)) return;

    // What the run recorded, as an engineer gets it from the report: pcap and key log files, the
    // console and the cloud's events from the attachments.
    const pcap = result.attachments.find((a) => a.name === "kit capture (pcap)")?.path;
    const keylog = result.attachments.find((a) => a.name.startsWith("TLS key log"))?.path;
    const consoleFile = info.outputPath("console.log");
    writeFileSync(consoleFile, attachmentBody(result, /^console /) ?? "");
    const eventsFile = info.outputPath("events.json");
    writeFileSync(eventsFile, attachmentBody(result, "cloud events (JSON)") ?? "[]");
    const capture = pcap ?? join(info.outputPath(), "empty.pcap");
    if (!pcap) writeFileSync(capture, Buffer.from("d4c3b2a1020004000000000000000000ffff000065000000", "hex"));
    const d = runStatus(process.execPath, ["bin/zt-hil.js", "analyze", capture, "--diagnose", "--console", consoleFile, "--events", eventsFile, ...(keylog ? ["--keylog", keylog] : [])]);
    expect(d.status, d.stderr).toBe(1);
    expect(d.stdout.split("\n").filter((l) => !l.startsWith(" ")).join("\n")).toMatch(new RegExp(`^(\\S+ / )*${f.name}( / \\S+)*: `, "m"));
  });
}

test("green: without ZT_FAULTS the same specs pass on the same nested lab", async ({}, info) => {
  test.setTimeout(240_000);
  const specs = [...new Set(FAULTS.map((f) => f.red.spec))].filter((s) => s !== "crypto-latency").map((s) => `specs/${s}.spec.ts`);
  const r = await nestedRun(specs, { ZT_CONNECT_TIMEOUT_MS: "20000", ZT_POWER_CYCLES: "1" }, info);
  expect(r.code, r.output.slice(-3000)).toBe(0);
  const stats = (JSON.parse(readFileSync(join(r.reports, "results.json"), "utf8")) as { stats: { expected: number; unexpected: number; skipped: number } }).stats;
  expect(stats).toMatchObject({ unexpected: 0, skipped: 0 });
  expect(stats.expected).toBeGreaterThanOrEqual(specs.length);
});
