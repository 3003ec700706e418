/**
 * Verdicts for many connections on both cores: the signature checks (ServerKeyExchange and
 * CertificateVerify, ~65 µs each here) dominate a large capture, so past a few hundred connections
 * half of them go to a worker thread while this thread does the other half. Inputs cross the thread
 * boundary as plain data (stream bytes with the offsets and times of their chunks).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { KeyLog } from "../tls/keylog.ts";
import { analyzeConnection, type AnalyzedConnection, type ConnectionInput, type TimedStream } from "../tls/verdict.ts";

/** One direction's contiguous bytes, and at which stream offset each received chunk began and when. */
export interface StreamData {
  data: Buffer;
  offsets: number[];
  times: number[];
  gapAt?: number;
}

export interface WorkItem extends Omit<ConnectionInput, "toServer" | "toClient" | "keyLog"> {
  toServer: StreamData;
  toClient: StreamData;
}

/** Below this many connections a worker's start-up costs more than it saves. */
export const PARALLEL_MIN = 300;

/** The worker starts ~250 ms late (its TypeScript loader), so it takes less than half. */
const WORKER_SHARE = 0.4;

export function timedStream(s: StreamData): TimedStream {
  return {
    data: s.data,
    ...(s.gapAt !== undefined ? { gapAt: s.gapAt } : {}),
    timeAt(offset: number): number {
      let lo = 0;
      let hi = s.offsets.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (s.offsets[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return s.times[lo] ?? NaN;
    },
  };
}

/**
 * One connection's verdicts. Whatever in its bytes the decoders did not foresee stays with that
 * connection: its verdict is the empty one, with the error as a problem, and the others are unaffected.
 */
export function analyzeItem(item: WorkItem, keyLog: KeyLog | undefined): AnalyzedConnection {
  try {
    return analyzeConnection({ ...item, toServer: timedStream(item.toServer), toClient: timedStream(item.toClient), ...(keyLog ? { keyLog } : {}) });
  } catch (err) {
    const empty = { data: Buffer.alloc(0), offsets: [], times: [] };
    const r = analyzeConnection({ ...item, toServer: timedStream(empty), toClient: timedStream(empty) });
    r.verdict.problems.push(`this connection could not be analyzed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return r;
  }
}

export async function analyzeAll(items: WorkItem[], keyLog: KeyLog | undefined): Promise<AnalyzedConnection[]> {
  if (items.length < PARALLEL_MIN || availableParallelism() < 2) return items.map((i) => analyzeItem(i, keyLog));
  const split = Math.floor(items.length * (1 - WORKER_SHARE));
  const worker = new Worker(new URL("./verdict-worker.js", import.meta.url), {
    workerData: { items: items.slice(split), keys: keyLog ? [...keyLog] : null },
  });
  const theirs = new Promise<AnalyzedConnection[]>((resolve, reject) => {
    worker.once("message", (m: AnalyzedConnection[]) => resolve(m));
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`verdict worker exited ${code}`)));
  });
  const mine = items.slice(0, split).map((i) => analyzeItem(i, keyLog));
  const rest = (await theirs).map((r) => ({ ...r, applicationData: r.applicationData.map((a) => ({ ...a, data: Buffer.from(a.data) })) }));
  await worker.terminate();
  return [...mine, ...rest];
}
