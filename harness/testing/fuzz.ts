/**
 * Seeded, reproducible mutation fuzzing for the harness's own tests and `npm run fuzz`: byte flips,
 * truncations, insertions and splices of valid inputs, fed in-process to a target that must either
 * succeed or raise one of the errors it is allowed to raise. Anything else is a crash, reported with
 * the seed and the input's index so it can be replayed.
 */
export interface FuzzResult {
  target: string;
  inputs: number;
  seconds: number;
  perSecond: number;
  accepted: number;
  refused: number;
  crashes: { index: number; error: string }[];
}

/** xorshift32: the same seed gives the same inputs on every machine. */
export function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** One mutant of `src`: up to 8 byte changes, sometimes a cut, an insertion or a duplicated run. */
export function mutate(src: Buffer, rand: (n: number) => number): Buffer {
  let m = Buffer.from(src);
  const edits = 1 + rand(8);
  for (let e = 0; e < edits; e++) {
    if (!m.length) break;
    switch (rand(6)) {
      case 0:
        m = m.subarray(0, rand(m.length));
        break;
      case 1: {
        const at = rand(m.length);
        m = Buffer.concat([m.subarray(0, at), Buffer.from([rand(256), rand(256)]), m.subarray(at)]);
        break;
      }
      case 2: {
        const at = rand(m.length);
        const len = 1 + rand(Math.min(64, m.length - at));
        m = Buffer.concat([m.subarray(0, at + len), m.subarray(at, at + len), m.subarray(at + len)]);
        break;
      }
      case 3:
        m[rand(m.length)] = [0x00, 0xff, 0x7f, 0x80][rand(4)]!;
        break;
      default:
        m[rand(m.length)] = rand(256);
    }
  }
  return m;
}

/**
 * Run `target` on mutants of `seeds` until `inputs` ran or `seconds` passed. `allowed(err)` says which
 * errors are a clean refusal; any other error is a crash.
 */
export async function fuzz(
  name: string,
  seeds: Buffer[],
  target: (input: Buffer) => unknown,
  opts: { seed: number; inputs: number; seconds: number; allowed: (err: unknown) => boolean; concurrency?: number },
): Promise<FuzzResult> {
  const rand = prng(opts.seed);
  const r: FuzzResult = { target: name, inputs: 0, seconds: 0, perSecond: 0, accepted: 0, refused: 0, crashes: [] };
  const t0 = performance.now();
  const deadline = t0 + opts.seconds * 1000;
  let next = 0;
  // Inputs are made in order from one generator, so a run is the same whatever the concurrency.
  const lane = async () => {
    for (let i = next++; i < opts.inputs && performance.now() < deadline; i = next++) {
      const input = mutate(seeds[i % seeds.length]!, rand);
      try {
        await target(input);
        r.accepted++;
      } catch (err) {
        if (opts.allowed(err)) r.refused++;
        else r.crashes.push({ index: i, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      }
      r.inputs++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, lane));
  r.seconds = (performance.now() - t0) / 1000;
  r.perSecond = Math.round(r.inputs / r.seconds);
  return r;
}
