/** The worker side of verdict-pool.ts (started through verdict-worker.js): analyze its share and post the results. */
import { parentPort, workerData } from "node:worker_threads";
import { analyzeItem, type WorkItem } from "./verdict-pool.ts";

const { items, keys } = workerData as { items: WorkItem[]; keys: [string, Uint8Array][] | null };
const keyLog = keys ? new Map(keys.map(([k, v]) => [k, Buffer.from(v)])) : undefined;
const revive = (s: WorkItem["toServer"]) => ({ ...s, data: Buffer.from(s.data) });
parentPort!.postMessage(items.map((i) => analyzeItem({ ...i, toServer: revive(i.toServer), toClient: revive(i.toClient) }, keyLog)));
