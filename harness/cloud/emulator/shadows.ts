/**
 * Classic device shadows with AWS's semantics (KIT-FACTS §10): partial updates merged, null deletes,
 * version checked and incremented, metadata timestamps mirroring state, and a delta holding every
 * desired field that differs from reported. The same logic serves MQTT ($aws/things/x/shadow/...)
 * and HTTP (iot-data GetThingShadow/UpdateThingShadow/DeleteThingShadow).
 */
import { asData, dict, parseData } from "./json-data.ts";
import type { ShadowRecord, Store } from "./store.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const nowSec = () => Math.floor(Date.now() / 1000);

export interface ShadowRejection {
  code: number;
  message: string;
}

export type ShadowResult = { ok: true; response: Obj; publish: { suffix: string; payload: Obj }[] } | { ok: false; error: ShadowRejection };

function merge(target: Obj, patch: Obj, meta: Obj, t: number): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete target[k];
      delete meta[k];
    } else if (isObj(v)) {
      const sub = isObj(target[k]) ? (target[k] as Obj) : dict<unknown>();
      const subMeta = isObj(meta[k]) && !("timestamp" in (meta[k] as Obj)) ? (meta[k] as Obj) : dict<unknown>();
      merge(sub, v, subMeta, t);
      target[k] = sub;
      meta[k] = subMeta;
    } else {
      target[k] = v;
      meta[k] = asData({ timestamp: t });
    }
  }
}

/** Metadata for exactly the fields present in `patch`. */
function metaFor(patch: Obj, t: number): Obj {
  const out: Obj = dict();
  for (const [k, v] of Object.entries(patch)) out[k] = isObj(v) ? metaFor(v, t) : { timestamp: t };
  return out;
}

export function delta(desired: Obj | undefined, reported: Obj | undefined): Obj {
  const out: Obj = dict();
  for (const [k, v] of Object.entries(desired ?? {})) {
    const r = reported?.[k];
    if (isObj(v) && isObj(r)) {
      const d = delta(v, r);
      if (Object.keys(d).length) out[k] = d;
    } else if (JSON.stringify(v) !== JSON.stringify(r)) {
      out[k] = v;
    }
  }
  return out;
}

function pick(meta: Obj | undefined, shape: Obj): Obj {
  const out: Obj = dict();
  for (const [k, v] of Object.entries(shape)) {
    const m = meta?.[k];
    if (isObj(v) && isObj(m) && !("timestamp" in m)) out[k] = pick(m, v);
    else if (m !== undefined) out[k] = m;
  }
  return out;
}

const clone = <T>(v: T): T => parseData<T>(JSON.stringify(v));

export class Shadows {
  constructor(private readonly store: Store) {}

  private get all() {
    return this.store.state.shadows;
  }

  get(thing: string, clientToken?: string): ShadowResult {
    const s = this.all[thing];
    if (!s) return { ok: false, error: { code: 404, message: `No shadow exists with name: '${thing}'` } };
    const d = delta(s.state.desired, s.state.reported);
    const state: Obj = { ...clone(s.state), ...(Object.keys(d).length ? { delta: d } : {}) };
    return { ok: true, response: { state, metadata: clone(s.metadata), version: s.version, timestamp: nowSec(), ...(clientToken ? { clientToken } : {}) }, publish: [] };
  }

  update(thing: string, payload: Buffer | string): ShadowResult {
    let req: Obj;
    try {
      req = parseData<Obj>(payload.toString());
      if (!isObj(req)) throw new Error("not an object");
    } catch {
      return { ok: false, error: { code: 400, message: "Payload contains invalid json" } };
    }
    const clientToken = typeof req.clientToken === "string" ? req.clientToken : undefined;
    const tok = clientToken ? { clientToken } : {};
    if (!isObj(req.state)) return { ok: false, error: { code: 400, message: "Missing required node: state" } };
    const existing = this.all[thing];
    if (req.version !== undefined && req.version !== (existing?.version ?? 0)) return { ok: false, error: { code: 409, message: "Version conflict" } };
    const t = nowSec();
    const previous = existing ? clone(existing) : null;
    const s: ShadowRecord = existing ?? { state: dict(), metadata: dict(), version: 0, timestamp: t };
    for (const section of ["desired", "reported"] as const) {
      if (!(section in req.state)) continue;
      const patch = req.state[section];
      if (patch === null) {
        delete s.state[section];
        delete s.metadata[section];
      } else if (isObj(patch)) {
        const target = (s.state[section] ??= dict());
        const meta = (s.metadata[section] ??= dict());
        merge(target, patch, meta, t);
      } else {
        return { ok: false, error: { code: 400, message: `State node ${section} must be an object` } };
      }
    }
    s.version++;
    s.timestamp = t;
    this.all[thing] = s;
    this.store.save();
    const reqState = req.state as Obj;
    const accepted: Obj = { state: reqState, metadata: Object.fromEntries(Object.entries(reqState).filter(([, v]) => isObj(v)).map(([k, v]) => [k, metaFor(v as Obj, t)])), version: s.version, timestamp: t, ...tok };
    const publish: { suffix: string; payload: Obj }[] = [{ suffix: "update/accepted", payload: accepted }];
    publish.push({
      suffix: "update/documents",
      payload: { previous: previous ? { state: previous.state, metadata: previous.metadata, version: previous.version } : null, current: { state: clone(s.state), metadata: clone(s.metadata), version: s.version }, timestamp: t, ...tok },
    });
    if ("desired" in reqState) {
      const d = delta(s.state.desired, s.state.reported);
      if (Object.keys(d).length) publish.push({ suffix: "update/delta", payload: { state: d, metadata: pick(s.metadata.desired, d), version: s.version, timestamp: t, ...tok } });
    }
    return { ok: true, response: accepted, publish };
  }

  delete(thing: string, clientToken?: string): ShadowResult {
    const s = this.all[thing];
    if (!s) return { ok: false, error: { code: 404, message: `No shadow exists with name: '${thing}'` } };
    delete this.all[thing];
    this.store.save();
    return { ok: true, response: { version: s.version, timestamp: nowSec(), ...(clientToken ? { clientToken } : {}) }, publish: [] };
  }
}
