/**
 * Crypto latency: each ATECC508A operation timed over the kit protocol (`d:t`, one command packet, the
 * time from request to reply, so it includes the firmware's USB polling as the host sees it), N samples
 * each, p50/p95/max against the rig class's budgets; and the handshake phases from a capture. A chart
 * and a table are attached. ZT_BUDGET_SCALE multiplies every budget; ZT_LATENCY_SAMPLES sets N.
 */
import { createECDH, createHash, randomBytes } from "node:crypto";
import { analyzeFile } from "../harness/analysis/analyze-capture.ts";
import { ATECC_OPERATIONS, HANDSHAKE_PHASES } from "../harness/config/budget-schema.ts";
import { expect, test } from "../harness/fixtures.ts";
import { dataAddress, decodeResponse, encodeCommand, OPCODE, ZONE } from "../harness/kit/atecc-packet.ts";
import { latencyChart, latencyTable, summarize, type Summary } from "../harness/latency/stats.ts";
import type { KitClient } from "../harness/kit/kit-client.ts";
import { connectedKit } from "../harness/rig/flows.ts";

const N = Number(process.env.ZT_LATENCY_SAMPLES ?? 12);

type Op = (typeof ATECC_OPERATIONS)[number];

/** For each operation: what to send first (untimed), and the timed command packet. */
function operations(publicKey: Buffer): Record<Op, () => { prepare: Buffer[]; timed: Buffer }> {
  const digest = () => createHash("sha256").update(randomBytes(32)).digest();
  const nonce = (d: Buffer) => encodeCommand({ opcode: OPCODE.nonce, param1: 0x03, param2: 0, data: d });
  const peer = createECDH("prime256v1").generateKeys().subarray(1);
  return {
    sign: () => ({ prepare: [nonce(digest())], timed: encodeCommand({ opcode: OPCODE.sign, param1: 0x80, param2: 0, data: Buffer.alloc(0) }) }),
    // Verify of a wrong signature takes the chip as long as a right one; the reply (miscompare) is expected.
    verify: () => ({ prepare: [nonce(digest())], timed: encodeCommand({ opcode: OPCODE.verify, param1: 0x02, param2: 0x0004, data: Buffer.concat([randomBytes(64), publicKey]) }) }),
    ecdh: () => ({ prepare: [], timed: encodeCommand({ opcode: OPCODE.ecdh, param1: 0x00, param2: 2, data: peer }) }),
    genkey: () => ({ prepare: [], timed: encodeCommand({ opcode: OPCODE.genKey, param1: 0x04, param2: 2, data: Buffer.alloc(0) }) }),
    sha: () => ({ prepare: [encodeCommand({ opcode: OPCODE.sha, param1: 0x00, param2: 0, data: Buffer.alloc(0) })], timed: encodeCommand({ opcode: OPCODE.sha, param1: 0x02, param2: 32, data: randomBytes(32) }) }),
    random: () => ({ prepare: [], timed: encodeCommand({ opcode: OPCODE.random, param1: 0, param2: 0, data: Buffer.alloc(0) }) }),
    read: () => ({ prepare: [], timed: encodeCommand({ opcode: OPCODE.read, param1: ZONE.data | ZONE.size32, param2: dataAddress(10, 0), data: Buffer.alloc(0) }) }),
  };
}

async function sample(kit: KitClient, op: { prepare: Buffer[]; timed: Buffer }): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sampleOnce(kit, op);
    } catch (err) {
      // F0: the chip went idle between our commands (the firmware used it); measure again.
      if (attempt >= 3 || !/status F0/.test(String(err))) throw err;
    }
  }
}

async function sampleOnce(kit: KitClient, op: { prepare: Buffer[]; timed: Buffer }): Promise<number> {
  await kit.ok("d:w()");
  try {
    for (const p of op.prepare) decodeResponse(await kit.ok(`d:t(${p.toString("hex")})`));
    const t0 = performance.now();
    const reply = await kit.ok(`d:t(${op.timed.toString("hex")})`);
    const ms = performance.now() - t0;
    decodeResponse(reply, "ATECC reply");
    return ms;
  } finally {
    await kit.ok("d:i()");
  }
}

async function report(title: string, rows: { summary: Summary; budget: Parameters<typeof latencyTable>[0][number]["budget"] }[]) {
  await test.info().attach(`${title} (table)`, { body: latencyTable(rows), contentType: "text/markdown" });
  await test.info().attach(`${title} (chart)`, { body: latencyChart(title, rows), contentType: "image/svg+xml" });
}

test("ATECC508A operations over the kit protocol meet the rig's budgets", async ({ rig, budgets }) => {
  // A quiet kit: unprovisioned before it boots, so the firmware does not use the chip between our commands.
  await rig.kit.app("resetKit");
  await rig.power.cycle();
  const publicKey = await rig.atecc.genKey(0);
  const ops = operations(publicKey);
  const rows = [];
  for (const name of ATECC_OPERATIONS) {
    const values = await test.step(`${N} × ${name}`, async () => {
      const out: number[] = [];
      for (let i = 0; i < N; i++) out.push(await sample(rig.kit, ops[name]()));
      return out;
    });
    rows.push({ summary: summarize(name, values), budget: budgets.atecc[name] });
  }
  await report("ATECC508A latency over d:t", rows);
  for (const r of rows) expect.soft(r.summary).toMeetBudget(r.budget);
});

test("handshake phases from the capture meet the rig's budgets", async ({ rig, pki, capture, budgets }) => {
  await connectedKit(rig, pki);
  await capture.stop();
  const connections = (await analyzeFile(capture.file)).connections.filter((c) => c.handshakeComplete);
  expect(connections.length).toBeGreaterThan(0);
  const rows = HANDSHAKE_PHASES.map((phase) => ({ summary: summarize(phase, connections.map((c) => c.phases[phase]!).filter((v) => v !== undefined)), budget: budgets.handshake[phase] }));
  await report("TLS handshake phases", rows);
  for (const r of rows) expect.soft(r.summary).toMeetBudget(r.budget);
});
