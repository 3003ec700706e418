/**
 * One worker per rig, never two, across processes (and hosts sharing the lock directory): each rig
 * has a lock file taken with proper-lockfile (stale locks of dead holders expire). A worker tries the
 * rigs starting from its own index and waits for one to free up.
 */
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import type { Rig } from "../config/lab-schema.ts";
import { ZtError } from "../errors.ts";

/** The rig (or the lab around it) is unusable: not a verdict on the kit. Messages start "[infrastructure]". */
export class InfrastructureError extends ZtError {
  constructor(where: string, message: string) {
    super(`[infrastructure] ${where}`, message);
  }
}

export interface HeldRig {
  rig: Rig;
  release(): Promise<void>;
}

export async function acquireRig(rigs: Rig[], lockDir: string, workerIndex: number, waitMs: number): Promise<HeldRig> {
  mkdirSync(lockDir, { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    for (let k = 0; k < rigs.length; k++) {
      const rig = rigs[(workerIndex + k) % rigs.length]!;
      const file = join(lockDir, `${rig.name}.lock`);
      if (!existsSync(file)) writeFileSync(file, "");
      try {
        const release = await lockfile.lock(file, { stale: 30_000, update: 10_000, retries: 0 });
        return { rig, release };
      } catch (err) {
        if ((err as { code?: string }).code !== "ELOCKED") throw new InfrastructureError(file, `cannot lock rig ${rig.name}: ${(err as Error).message}`);
      }
    }
    if (Date.now() > deadline) throw new InfrastructureError(lockDir, `no rig free within ${waitMs} ms (${rigs.map((r) => r.name).join(", ")} all locked by other workers)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
