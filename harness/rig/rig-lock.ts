/**
 * One worker per rig, never two, across processes (and hosts sharing the lock directory): each rig
 * has a lock file taken with proper-lockfile, whose holder refreshes it every 10 s. A killed run's lock
 * is recovered: at once when its holder was a process of this host that no longer exists, otherwise
 * once it has not been refreshed for 30 s (a holder on another host). A worker tries the rigs of its
 * pool starting from its own index and waits for one to free up.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
        // The holder's note goes before the lock does: a note always belongs to a live lock or a dead holder.
        return { rig, release: async () => (writeFileSync(file, ""), await release()) };
      } catch (err) {
        if ((err as { code?: string }).code !== "ELOCKED") throw new InfrastructureError(file, `cannot lock rig ${rig.name}: ${(err as Error).message}`);
        if (recoverFromDeadHolder(file)) k--; // try this rig again now
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

/**
 * A lock whose holder was a process of this host that is gone (kill -9, a crashed runner) is removed
 * now rather than after the stale time; says so on stderr, which the run's log keeps.
 */
function recoverFromDeadHolder(file: string): boolean {
  let h: { pid?: number; host?: string; since?: string };
  try {
    h = JSON.parse(readFileSync(file, "utf8")) as typeof h;
  } catch {
    return false;
  }
  if (h.host !== hostname() || typeof h.pid !== "number" || h.pid === process.pid || alive(h.pid)) return false;
  rmSync(`${file}.lock`, { recursive: true, force: true });
  writeFileSync(file, "");
  process.stderr.write(`zt-hil: recovered the lock ${file} of pid ${h.pid} (gone) held since ${h.since}\n`);
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
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
