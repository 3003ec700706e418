/**
 * Crypto latency, measured where it happens and where a host sees it:
 * - on the ATECC508A's I2C bus (a logic analyzer on a real rig, the twin's own trace on a virtual one),
 *   decoded by sigrok-cli's i2c decoder: every command the firmware runs while it is provisioned and
 *   connects (GenKey, Random, Nonce, Sign, Verify, ECDH, Read, Write, ...), its execution time from the
 *   end of the command write to the first acknowledged read, p50/p95/max against the chip budgets
 *   (`atecc` in rigs/budgets.yaml), and a timeline of the TLS handshake above its ATECC commands;
 * - as the host can ask a v2.2.5 kit, whose `d:t` never reaches the chip:
 * - the JSON methods whose work is ATECC work — init (serial number, GenKey public), genCsr (GenKey
 *   public, Random, Nonce, Sign), genKey (GenKey, a 416-byte slot-8 write) — each round trip including
 *   the firmware's 100 ms USB tick and its console dumps, N samples (ZT_LATENCY_SAMPLES, default 20);
 * - each TLS handshake phase from the capture, where the WINC hands every asymmetric operation to the
 *   ATECC (one ECC request per 100 ms Wi-Fi task tick).
 * Budgets: rigs/budgets.yaml (kitMethods, handshake) of the rig's class; ZT_BUDGET_SCALE scales them.
 */
import { analyzeFile } from "../harness/analysis/analyze-capture.ts";
import { ateccTransactions } from "../harness/bus/atecc-bus.ts";
import { decodeI2c } from "../harness/bus/i2c-decode.ts";
import { handshakeTimelineSvg } from "../harness/bus/timeline.ts";
import { ATECC_OPERATIONS, HANDSHAKE_PHASES, KIT_METHODS } from "../harness/config/budget-schema.ts";
import { expect, test } from "../harness/fixtures.ts";
import { waitStep } from "../harness/steps.ts";
import { latencyChart, latencyCsv, latencyHtml, type latencyTable, summarize, type Summary } from "../harness/latency/stats.ts";
import { connectedKit } from "../harness/rig/flows.ts";

const N = Number(process.env.ZT_LATENCY_SAMPLES ?? 20);

async function report(title: string, rows: { summary: Summary; budget: Parameters<typeof latencyTable>[0][number]["budget"] }[], note?: string) {
  await test.info().attach(`${title} (table)`, { body: latencyHtml(note ? `${title} — ${note}` : title, rows), contentType: "text/html" });
  await test.info().attach(`${title} (CSV)`, { body: latencyCsv(rows), contentType: "text/csv" });
  await test.info().attach(`${title} (chart)`, { body: latencyChart(`${title} (ms)`, rows), contentType: "image/svg+xml" });
}

test("the kit's ATECC-bound JSON methods meet the rig's budgets", async ({ rig, budgets }) => {
  // A quiet kit: unprovisioned (no Wi-Fi task work between our requests; the slot-8 poll goes on, as on a real kit).
  await test.step("kit resetKit: the kit forgets its provisioning", () => rig.kit.app("resetKit"));
  const from = rig.console.mark();
  await rig.power.cycle();
  await waitStep("console: the kit boots unprovisioned", () => rig.console.expect(/has not been provisioned/, { from, timeoutMs: 15_000 }));
  const rows = [];
  for (const method of KIT_METHODS) {
    const values = await test.step(`kit ${method} × ${N}`, async () => {
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

// Runs on variants whose rigs record the bus (`bus:` in the lab file); the others leave it out.
test("ATECC508A commands on the I2C bus and the handshake phases meet the rig's budgets", { tag: "@needs-bus" }, async ({ rig, pki, capture, bus, budgets }) => {
  expect(bus, "the variant's rigs record the ATECC bus").not.toBeNull();
  await connectedKit(rig, pki);
  await capture.stop();
  await bus!.stop();
  const network = await analyzeFile(capture.file);
  const connections = network.connections.filter((c) => c.handshakeComplete);
  expect(connections.length).toBeGreaterThan(0);
  const chip = await test.step("decode the bus with sigrok's i2c decoder", async () => ateccTransactions(await decodeI2c(bus!.file, bus!.channels)));
  await test.info().attach("ATECC transactions (JSON)", { body: JSON.stringify({ transactions: chip.transactions, stats: chip.stats, problems: chip.problems }), contentType: "application/json" });
  await test.step("every transaction on the bus is well formed (count, CRC, a response to each command)", () => expect(chip.problems).toEqual([]));
  const seen = new Set(Object.keys(chip.stats).map((op) => op.toLowerCase()));
  await test.step("provisioning and the handshake ran GenKey, Random, Nonce, Sign, Verify and ECDH on the chip", () => expect([...seen]).toEqual(expect.arrayContaining(["genkey", "random", "nonce", "sign", "verify", "ecdh"])));
  const atecc = ATECC_OPERATIONS.filter((op) => seen.has(op)).map((op) => ({ summary: { ...Object.values(chip.stats).find((s) => s.name.toLowerCase() === op)!, name: op }, budget: budgets.atecc[op] }));
  await report("ATECC508A execution times on the I2C bus", atecc, `n = commands seen on the bus; execution = command written → first ACKed read (polled every 2 ms).`);
  const phases = HANDSHAKE_PHASES.map((phase) => ({ summary: summarize(phase, connections.map((c) => c.phases[phase]!).filter((v) => v !== undefined)), budget: budgets.handshake[phase] }));
  await report("TLS handshake phases", phases);
  await test.info().attach("TLS handshake and ATECC commands (timeline)", { body: handshakeTimelineSvg({ connection: connections.at(-1)!, captureStart: network.startTime, transactions: chip.transactions, busStart: bus!.startedAt }), contentType: "image/svg+xml" });
  for (const r of [...atecc, ...phases]) await test.step(`${r.summary.name} within budget`, () => expect.soft(r.summary).toMeetBudget(r.budget));
});
