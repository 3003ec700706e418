/**
 * One worker per rig, never two, across processes (and hosts sharing the lock directory): each rig
 * has a lock file taken with proper-lockfile (stale locks of dead holders expire). A worker tries the
 * rigs starting from its own index and waits for one to free up.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import type { Rig } from "../config/lab-schema.ts";
import { InfrastructureError } from "../errors.ts";

/** Where a project's rig locks live: the suite's workers, `zt-hil rig` and other hosts sharing the folder agree on it. */
export function rigLockDir(root = process.cwd()): string {
  return join(root, ".zt-hil", "locks");
}

export interface HeldRig {
  rig: Rig;
  release(): Promise<void>;
}

export async function acquireRig(rigs: Rig[], lockDir: string, workerIndex: number, waitMs: number, waitSetting = "ZT_RIG_WAIT_MS"): Promise<HeldRig> {
  mkdirSync(lockDir, { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    for (let k = 0; k < rigs.length; k++) {
      const rig = rigs[(workerIndex + k) % rigs.length]!;
      const file = join(lockDir, `${rig.name}.lock`);
      if (!existsSync(file)) writeFileSync(file, "");
      try {
        const release = await lockfile.lock(file, { stale: 30_000, update: 10_000, retries: 0 });
        // Who holds it, for whoever waits for it.
        writeFileSync(file, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
        return { rig, release };
      } catch (err) {
        if ((err as { code?: string }).code !== "ELOCKED") throw new InfrastructureError(file, `cannot lock rig ${rig.name}: ${(err as Error).message}`);
      }
    }
    if (Date.now() > deadline) throw new InfrastructureError(lockDir, `no rig free within ${waitMs} ms (${waitSetting}): ${rigs.map((r) => `${r.name} held by ${holder(join(lockDir, `${r.name}.lock`))}`).join("; ")}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Who holds each rig's lock now ("free" or "pid P on HOST since T"), for `zt-hil rig lock --list`. */
export async function rigHolders(rigs: Rig[], lockDir: string): Promise<{ rig: string; holder: string }[]> {
  const out = [];
  for (const rig of rigs) {
    const file = join(lockDir, `${rig.name}.lock`);
    const locked = existsSync(file) && (await lockfile.check(file, { stale: 30_000 }));
    out.push({ rig: rig.name, holder: locked ? `held by ${holder(file)}` : "free" });
  }
  return out;
}

/** "pid P on HOST since T" from a lock file, as its holder wrote it. */
function holder(file: string): string {
  try {
    const h = JSON.parse(readFileSync(file, "utf8")) as { pid?: number; host?: string; since?: string };
    return `pid ${h.pid} on ${h.host} since ${h.since}`;
  } catch {
    return "an unknown holder";
  }
}
