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
  /** Close a device's connection right after its CONNACK (a broker that drops sessions). */
  dropAfterConnack: boolean;
  /** Policy actions denied to every device whatever its policies say (a policy that names another client ID or topic). */
  policyDeny: ("iot:Connect" | "iot:Subscribe" | "iot:Publish")[];
  /** The service's clock, offset from the host's, in ms: certificates look expired (positive) or not yet valid (negative). */
  clockOffsetMs: number;
  /** An operator revokes every certificate once it is ACTIVE: its next connection is refused. */
  revokeOnActivate: boolean;
  /** This long after a device subscribes, another connection takes its client ID over (AWS drops the older one); null: never. */
  takeoverAfterMs: number | null;
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
  dropAfterConnack: false,
  policyDeny: [],
  clockOffsetMs: 0,
  revokeOnActivate: false,
  takeoverAfterMs: null,
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
    if (["requireSni", "withholdConnack", "withholdSuback", "withholdPuback", "dropAfterHandshake", "dropAfterConnack", "revokeOnActivate"].includes(k) && typeof v !== "boolean") throw new Error(`fault ${k} must be true or false`);
    if (k === "clockOffsetMs" && (typeof v !== "number" || !Number.isFinite(v))) throw new Error("fault clockOffsetMs must be a number of ms");
    if (k === "takeoverAfterMs" && v !== null && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) throw new Error("fault takeoverAfterMs must be a number of ms or null");
    if (k === "policyDeny" && (!Array.isArray(v) || v.some((a) => !["iot:Connect", "iot:Subscribe", "iot:Publish"].includes(a)))) throw new Error("fault policyDeny must be a list of iot:Connect, iot:Subscribe, iot:Publish");
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
