/**
 * Fault knobs: ways the emulator misbehaves on purpose so a rig's firmware can be tested against what
 * the field does to it. All can be set at start (options, CLI flags) and at run time
 * (`emulator.setFaults()`, or `POST /_zt/faults` with a JSON body on the control-plane port).
 */
export interface Faults {
  /** JITR Lambda: run it (`on`), never invoke it (`off`), or make it throw (`fail`). */
  lambda: "on" | "off" | "fail";
  /** Delay before each Lambda invocation, in ms (a slow cold start). */
  lambdaDelayMs: number;
  /** Refuse ClientHellos without SNI (unrecognized_name), as AWS documents for JITR without the CA in the chain. */
  requireSni: boolean;
  /** Device-facing TLS for new connections: `aws` (accepts the kit's seed ClientHello) or `openssl` (Node tls, strict). */
  tlsStack: "aws" | "openssl";
  /** Never answer CONNECT / SUBSCRIBE / QoS 1 PUBLISH (the client must time out and retry). */
  withholdConnack: boolean;
  withholdSuback: boolean;
  withholdPuback: boolean;
  /** Close every connection right after the TLS handshake, before MQTT. */
  dropAfterHandshake: boolean;
  /** Most CONNECTs per second per client id (AWS throttles reconnect storms); null: unlimited. */
  connectRatePerSecond: number | null;
}

export const DEFAULT_FAULTS: Faults = {
  lambda: "on",
  lambdaDelayMs: 0,
  requireSni: false,
  tlsStack: "aws",
  withholdConnack: false,
  withholdSuback: false,
  withholdPuback: false,
  dropAfterHandshake: false,
  connectRatePerSecond: null,
};

const KEYS = Object.keys(DEFAULT_FAULTS) as (keyof Faults)[];

/** Validate a partial fault setting (from JSON); throws naming the bad key. */
export function parseFaults(input: unknown): Partial<Faults> {
  if (typeof input !== "object" || input === null) throw new Error("faults must be a JSON object");
  const out: Partial<Faults> = {};
  for (const [k, v] of Object.entries(input)) {
    if (!KEYS.includes(k as keyof Faults)) throw new Error(`unknown fault "${k}" (known: ${KEYS.join(", ")})`);
    const expected = k === "lambda" ? ["on", "off", "fail"] : k === "tlsStack" ? ["aws", "openssl"] : null;
    if (expected && !expected.includes(v as string)) throw new Error(`fault ${k} must be one of ${expected.join(", ")}`);
    if ((k === "lambdaDelayMs" && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) || (k === "connectRatePerSecond" && v !== null && (typeof v !== "number" || v <= 0))) throw new Error(`fault ${k} must be a positive number`);
    if (["requireSni", "withholdConnack", "withholdSuback", "withholdPuback", "dropAfterHandshake"].includes(k) && typeof v !== "boolean") throw new Error(`fault ${k} must be true or false`);
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
