/**
 * Execution-time profiles for the ATECC508A model. `datasheet` takes cryptoauthlib's maximum
 * execution times (KIT-FACTS §3) as upper bounds and spreads each execution uniformly between 60 % and
 * 100 % of them; `typical` takes a fixed half of the maximum; `instant` takes none (fast tests).
 */
import { OPCODE } from "../../../harness/kit/atecc-packet.ts";

export type TimingProfile = "datasheet" | "typical" | "instant";

export const MAX_EXECUTION_MS: Record<number, number> = {
  [OPCODE.ecdh]: 58,
  [OPCODE.genKey]: 115,
  [OPCODE.info]: 2,
  [OPCODE.lock]: 32,
  [OPCODE.nonce]: 29,
  [OPCODE.random]: 23,
  [OPCODE.read]: 5,
  [OPCODE.sha]: 9,
  [OPCODE.sign]: 60,
  [OPCODE.verify]: 72,
  [OPCODE.write]: 26,
};

export function executionMs(profile: TimingProfile, opcode: number, random: () => number = Math.random): number {
  const max = MAX_EXECUTION_MS[opcode] ?? 5;
  if (profile === "instant") return 0;
  if (profile === "typical") return max / 2;
  return max * (0.6 + 0.4 * random());
}
