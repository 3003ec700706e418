/**
 * What went wrong, in one sentence a QA engineer can act on, read from evidence rather than from a
 * timeout: the verdict of the kit's last TLS connection in a capture ("server alert handshake_failure
 * after ClientHello, on all 146 connections") and what the cloud saw (its refusals, a JITR Lambda that
 * never ran or failed). A failing wait leads its error with this (harness/steps.ts `waitStep`), and a
 * failing test attaches it with the capture analysis and the cloud's events (harness/fixtures.ts).
 */
import type { CloudEvent } from "../cloud/cloud-backend.ts";
import type { CaptureReport, TlsConnectionReport } from "./analyze-capture.ts";

/** The last message (not an alert) `side` sent at or before `time`: what an alert answered. */
export function lastMessageBefore(c: TlsConnectionReport, side: "client" | "server", time: number) {
  return c.messages.filter((m) => m.from === side && m.type !== "Alert" && m.time <= time).at(-1);
}

/** One connection in a few words: how far the handshake got and how it ended. */
export function connectionVerdict(c: TlsConnectionReport): string {
  const alert = c.alerts[0];
  if (alert && !c.handshakeComplete) {
    const who = alert.from === "server" ? "server" : "kit";
    const other = alert.from === "server" ? "client" : "server";
    const after = lastMessageBefore(c, other, alert.time)?.type;
    const what = alert.description ?? (alert.encrypted ? "(encrypted)" : "(unreadable)");
    return `${who} alert ${what} after ${after ?? "nothing"}${alert.from === "client" && what === "bad_certificate" ? " (the kit refused the server's chain)" : ""}`;
  }
  if (!c.handshakeComplete) {
    const last = c.messages.filter((m) => m.type !== "Alert").at(-1);
    const end = c.closed ? `${c.closed.by === "server" ? "server" : "kit"} closed (${c.closed.how})` : "the capture ends";
    return `handshake incomplete: ${end} after ${last ? `${last.from === "server" ? "server" : "kit"} ${last.type}` : "no message"}`;
  }
  const cmds = c.mqtt.map((m) => m.cmd);
  const connack = c.mqtt.find((m) => m.cmd === "connack");
  const returnCode = connack?.detail.returnCode;
  if (connack && returnCode !== 0) return `handshake complete; CONNACK refused the connection (return code ${String(returnCode)})`;
  const close = c.closed ? `, then the ${c.closed.by === "server" ? "server" : "kit"} closed (${c.closed.how}${c.alerts.length ? ` after an alert from the ${c.alerts[0]!.from === "server" ? "server" : "kit"}` : ""})` : "";
  if (c.decrypted) {
    if (!connack) return `handshake complete, no CONNACK${close}`;
    return `handshake complete; MQTT ${cmds.filter((x, i) => cmds.indexOf(x) === i).join(", ")}${close}`;
  }
  return `handshake complete${close}`;
}

/**
 * The verdict of the last connection that ended (a connection still in its handshake when the wait gave
 * up says little) and how many ended the same way; the kit's last words when none ended.
 */
export function captureDiagnosis(report: CaptureReport): string {
  const n = report.connections.length;
  if (!n) return report.tcpConnections ? `${report.tcpConnections} TCP connection(s) in the capture, none carried a ClientHello` : "no connection from the kit in the capture";
  const ended = report.connections.filter((c) => c.closed || c.alerts.length);
  const open = n - ended.length;
  const pool = ended.length ? ended : report.connections;
  const verdicts = pool.map(connectionVerdict);
  const last = verdicts.at(-1)!;
  const same = verdicts.filter((v) => v === last).length;
  const scope = n === 1 ? "on its only connection" : same === n ? `on all ${n} connections` : `on ${same} of ${n} connections${open && ended.length ? ` (${open} still open)` : ""}`;
  return `${last}, ${scope}`;
}

/** What the cloud says about a run: its refusals by reason, and a JITR Lambda that never ran or failed. */
export function cloudDiagnosis(events: CloudEvent[]): string | null {
  const parts: string[] = [];
  const refusals = new Map<string, number>();
  for (const e of events) {
    if (e.type !== "refused" && e.type !== "tls-error") continue;
    const why = tidy(String(e.detail.reason ?? e.detail.error ?? e.type));
    refusals.set(why, (refusals.get(why) ?? 0) + 1);
  }
  const skipped = events.filter((e) => e.type === "lambda-skipped");
  const failed = events.filter((e) => e.type === "lambda-failed");
  if (skipped.length) parts.push(`the JITR Lambda ${String(skipped[0]!.detail.function)} did not run (${String(skipped[0]!.detail.reason)}), ${skipped.length} time(s)`);
  if (failed.length) parts.push(`the JITR Lambda ${String(failed[0]!.detail.function)} failed: ${String(failed[0]!.detail.error)}${logTail(failed[0]!)}`);
  // A Lambda that returned while the certificate stayed pending: it forgot to activate it.
  const success = events.find((e) => e.type === "lambda-succeeded");
  if (success && events.some((e) => e.type === "refused" && e.time > success.time && e.detail.reason === "certificate is PENDING_ACTIVATION")) {
    parts.push(`the JITR Lambda ${String(success.detail.function)} returned ${JSON.stringify(success.detail.result ?? null).slice(0, 120)} without activating the certificate${logTail(success)}`);
  }
  if (refusals.size) parts.push(`the cloud refused ${[...refusals].map(([why, k]) => `${k}× ${why}`).join("; ")}`);
  return parts.length ? parts.join("; ") : null;
}

/** OpenSSL's "80DC…:error:0A0000C1:SSL routines:fn:no shared cipher:file:line:" → "TLS: no shared cipher". */
function tidy(reason: string): string {
  const m = /:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):/.exec(reason);
  return m ? `TLS: ${m[1]}` : reason;
}

/** The last lines of an invocation's log, for a message: " (log: … | …)". */
function logTail(e: CloudEvent): string {
  const log = Array.isArray(e.detail.log) ? (e.detail.log as string[]).filter((l) => !/^(START|END) RequestId:/.test(l)) : [];
  return log.length ? ` (log: ${log.slice(-3).join(" | ").slice(0, 400)})` : "";
}
