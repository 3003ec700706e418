/**
 * What "the kit's handshake" means, as checks that name what failed: TLS 1.2, suite 0xC02B,
 * a CertificateRequest, the client's chain, a CertificateVerify that verifies, a completed handshake.
 * Shared by `zt-hil analyze --expect kit` and the Playwright matchers.
 */
import { suiteName, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 } from "../tls/constants.ts";
import type { ConnectionVerdict } from "../tls/verdict.ts";

export function negotiationFailures(c: ConnectionVerdict, suite: number, version = "TLS1.2"): string[] {
  const out: string[] = [];
  if (c.version !== version) out.push(`version is ${c.version ?? "not negotiated (no ServerHello)"}, expected ${version}`);
  if (c.negotiatedSuite !== suite) out.push(`negotiated suite is ${c.negotiatedSuite === null ? "none" : suiteName(c.negotiatedSuite)}, expected ${suiteName(suite)}`);
  return out;
}

export function clientAuthFailures(c: ConnectionVerdict): string[] {
  const out: string[] = [];
  if (!c.clientAuth.requested) out.push("the server sent no CertificateRequest");
  if (c.clientAuth.clientCertificates === 0) out.push("the client sent no certificate chain");
  if (c.clientAuth.certificateVerify !== "valid") out.push(`the client's CertificateVerify is ${c.clientAuth.certificateVerify}`);
  return out;
}

export function completionFailures(c: ConnectionVerdict): string[] {
  if (c.handshakeComplete) return [];
  const fatal = c.alerts.find((a) => a.level === "fatal" || a.encrypted);
  const why = fatal ? ` (${fatal.from} alert ${fatal.description ?? "encrypted"})` : "";
  const missing = [
    !c.changeCipherSpec.client && "client ChangeCipherSpec",
    c.finished.client === "absent" && "client Finished",
    !c.changeCipherSpec.server && "server ChangeCipherSpec",
    c.finished.server === "absent" && "server Finished",
  ].filter(Boolean);
  const invalid = (["client", "server"] as const).filter((s) => c.finished[s] === "invalid").map((s) => `${s} Finished does not verify`);
  return [`the handshake did not complete${why}${missing.length ? `: missing ${missing.join(", ")}` : ""}${invalid.length ? `: ${invalid.join(", ")}` : ""}`];
}

export function offerFailures(c: ConnectionVerdict, suites: readonly number[]): string[] {
  const extra = c.offeredSuites.filter((s) => !suites.includes(s));
  const missing = suites.filter((s) => !c.offeredSuites.includes(s));
  const out: string[] = [];
  if (extra.length) out.push(`the ClientHello also offers ${extra.map(suiteName).join(", ")}`);
  if (missing.length) out.push(`the ClientHello does not offer ${missing.map(suiteName).join(", ")}`);
  return out;
}

/** Every expectation of the kit's connection, as failures (empty when all hold). */
export function kitFailures(c: ConnectionVerdict): string[] {
  return [...negotiationFailures(c, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), ...clientAuthFailures(c), ...completionFailures(c)];
}
