/**
 * Crypto latency as a host can measure it on a v2.2.5 kit: its `d:t` never reaches the ATECC
 * (kit_device_talk leaves the packet size 0), so per-operation chip times need the I2C bus itself.
 * What the kit does answer is timed here:
 * - the JSON methods whose work is ATECC work — init (serial number, GenKey public), genCsr (GenKey
 *   public, Random, Nonce, Sign), genKey (GenKey, a 416-byte slot-8 write) — each round trip including
 *   the firmware's 100 ms USB tick and its console dumps, N samples (ZT_LATENCY_SAMPLES, default 20);
 * - each TLS handshake phase from the capture, where the WINC hands every asymmetric operation to the
 *   ATECC (one ECC request per 100 ms Wi-Fi task tick).
 * Budgets: rigs/budgets.yaml (kitMethods, handshake) of the rig's class; ZT_BUDGET_SCALE scales them.
 */
import { analyzeFile } from "../harness/analysis/analyze-capture.ts";
import { HANDSHAKE_PHASES, KIT_METHODS } from "../harness/config/budget-schema.ts";
import { expect, test } from "../harness/fixtures.ts";
import { latencyChart, latencyTable, summarize, type Summary } from "../harness/latency/stats.ts";
import { connectedKit } from "../harness/rig/flows.ts";

const N = Number(process.env.ZT_LATENCY_SAMPLES ?? 20);

async function report(title: string, rows: { summary: Summary; budget: Parameters<typeof latencyTable>[0][number]["budget"] }[], note?: string) {
  await test.info().attach(`${title} (table)`, { body: (note ? `${note}\n\n` : "") + latencyTable(rows), contentType: "text/markdown" });
  await test.info().attach(`${title} (chart)`, { body: latencyChart(title, rows), contentType: "image/svg+xml" });
}

test("the kit's ATECC-bound JSON methods meet the rig's budgets", async ({ rig, budgets }) => {
  // A quiet kit: unprovisioned (no Wi-Fi task work between our requests; the slot-8 poll goes on, as on a real kit).
  await rig.kit.app("resetKit");
  const from = rig.console.mark();
  await rig.power.cycle();
  await rig.console.expect(/has not been provisioned/, { from, timeoutMs: 15_000 });
  const rows = [];
  for (const method of KIT_METHODS) {
    const values = await test.step(`${N} × ${method}`, async () => {
      const out: number[] = [];
      for (let i = 0; i < N; i++) {
        const t0 = performance.now();
        await rig.kit.app(method, method === "init" ? { version: "2.0.0" } : {});
        out.push(performance.now() - t0);
      }
      return out;
    });
    rows.push({ summary: summarize(method, values), budget: budgets.kitMethods[method] });
  }
  await report("Kit JSON methods (host round trip)", rows, "Per-operation ATECC times need the I2C bus: firmware v2.2.5's `d:t` never reaches the chip.");
  for (const r of rows) await test.step(`${r.summary.name} within budget`, () => expect.soft(r.summary).toMeetBudget(r.budget));
});

test("handshake phases from the capture meet the rig's budgets", async ({ rig, pki, capture, budgets }) => {
  await connectedKit(rig, pki);
  await capture.stop();
  const connections = (await analyzeFile(capture.file)).connections.filter((c) => c.handshakeComplete);
  expect(connections.length).toBeGreaterThan(0);
  const rows = HANDSHAKE_PHASES.map((phase) => ({ summary: summarize(phase, connections.map((c) => c.phases[phase]!).filter((v) => v !== undefined)), budget: budgets.handshake[phase] }));
  await report("TLS handshake phases", rows);
  for (const r of rows) await test.step(`${r.summary.name} within budget`, () => expect.soft(r.summary).toMeetBudget(r.budget));
});
