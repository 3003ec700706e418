/**
 * JSON from clients as plain data: every object is made with a null prototype, so keys such as
 * `__proto__`, `constructor` or `toString` are ordinary keys — a shadow document or a request body can
 * never reach Object.prototype, and a registry keyed by names can never answer for one it does not hold.
 * (JSON.parse alone keeps `__proto__` as data, but a later merge by assignment would not.)
 */
export type Dict<T> = Record<string, T>;

/** An empty record map with no prototype. */
export function dict<T>(): Dict<T> {
  return Object.create(null) as Dict<T>;
}

/** A deep copy of parsed JSON with null-prototype objects. */
export function asData<T>(v: T): T {
  if (Array.isArray(v)) return v.map(asData) as T;
  if (v !== null && typeof v === "object") {
    const out = dict<unknown>();
    for (const [k, x] of Object.entries(v)) out[k] = asData(x);
    return out as T;
  }
  return v;
}

/** JSON.parse, then asData. Throws SyntaxError as JSON.parse does. */
export function parseData<T = unknown>(text: string): T {
  return asData(JSON.parse(text) as T);
}
