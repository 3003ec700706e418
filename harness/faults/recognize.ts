/**
 * `--diagnose`: name the known failures of the catalog (harness/faults/catalog.ts) that a capture, and
 * optionally the kit's console log and the cloud's events, show — each finding with its evidence
 * (connection number, alert, message times) so an engineer can check it in Wireshark. Recognisers read
 * what any peer writes (an alert is an alert, whoever sent it), so they work on captures of AWS,
 * OpenSSL or zt-hil's emulator alike. Several faults look the same on the wire (a JITR Lambda that is
 * off, one that fails and a revoked certificate all end in the server's alert after the handshake): a
 * finding then names them all, and the cloud's events, when given, pick one.
 */
import type { CloudEvent } from "../cloud/cloud-backend.ts";
import type { CaptureReport, TlsConnectionReport } from "../analysis/analyze-capture.ts";
import { lastMessageBefore } from "../analysis/diagnose.ts";

export interface Finding {
  /** Catalog entries this evidence fits, most likely first. */
  faults: string[];
  /** One sentence: what the evidence shows and what it means. */
  summary: string;
  evidence: string[];
}

export interface DiagnoseInput {
  report: CaptureReport | null;
  /** Console lines (text only), oldest first. */
  console?: string[];
  events?: CloudEvent[];
  /** The kit-protocol side: the method a request is still waiting on, and whether the kit has power (null: unknown). */
  kit?: { unanswered: string | null; powered: boolean | null };
}

/** A duration in milliseconds (handshake phases are kept in ms). */
const ms = (t: number) => `${Math.round(t)} ms`;
/** A capture time (seconds from the first packet) as the evidence shows it: "+1.234 s". */
const at = (t: number) => `+${t.toFixed(3)} s`;
const conn = (c: TlsConnectionReport) => `connection #${c.index} (${c.client} → ${c.server})`;
/**
 * The server's refusal of a completed handshake: a fatal alert that says "not this certificate" (or one
 * that could not be decrypted), not the close_notify of an orderly close, not certificate_expired
 * (recognised on its own).
 */
const refusal = (c: TlsConnectionReport) => {
  // The server speaks first: an alert answering the kit's own close_notify is an orderly close.
  const a = [...c.alerts].sort((x, y) => x.time - y.time)[0];
  return a && a.from === "server" && (a.description === null || ["certificate_unknown", "certificate_revoked", "access_denied", "unknown_ca"].includes(a.description)) ? a : undefined;
};
const clientSentData = (c: TlsConnectionReport) => c.messages.some((m) => m.from === "client" && m.type === "ApplicationData") || c.mqtt.some((m) => m.from === "client");

/** Connections whose first alert is `name` from `side`, with what the other side last sent. */
function alerted(report: CaptureReport, side: "client" | "server", names: string[]): { c: TlsConnectionReport; alert: string; after: string; time: number }[] {
  const out = [];
  for (const c of report.connections) {
    const a = c.alerts[0];
    if (!a || a.from !== side || !a.description || !names.includes(a.description)) continue;
    out.push({ c, alert: a.description, after: lastMessageBefore(c, side === "server" ? "client" : "server", a.time)?.type ?? "nothing", time: a.time });
  }
  return out;
}

function fromCapture(report: CaptureReport): Finding[] {
  const found: Finding[] = [];
  const all = report.connections;

  const strict = alerted(report, "server", ["handshake_failure", "protocol_version", "illegal_parameter", "insufficient_security"]).filter((x) => x.after === "ClientHello");
  if (strict.length) {
    const noGroups = strict.filter((x) => !x.c.extensions.some((e) => e.name === "supported_groups"));
    const x = strict[0]!;
    found.push({
      faults: ["strict-tls"],
      summary: `server alert ${x.alert} right after a ClientHello${noGroups.length ? " without supported_groups" : ""}: a strict TLS stack refuses the kit's hello`,
      evidence: strict.slice(0, 3).map((y) => `${conn(y.c)}: ClientHello (extensions: ${y.c.extensions.map((e) => e.name).join(", ") || "none"}), server alert ${y.alert} at ${at(y.time)}`).concat(strict.length > 3 ? [`… and ${strict.length - 3} more connection(s) the same`] : []),
    });
  }

  const sni = alerted(report, "server", ["unrecognized_name"]);
  if (sni.length) {
    found.push({
      faults: ["require-sni"],
      summary: `server alert unrecognized_name after a ClientHello ${sni[0]!.c.sni ? `for "${sni[0]!.c.sni}"` : "without server_name"}: the endpoint needs SNI (v2.2.5 never sends it)`,
      evidence: sni.slice(0, 3).map((y) => `${conn(y.c)}: SNI ${y.c.sni ?? "absent"}, server alert unrecognized_name at ${at(y.time)}`),
    });
  }

  // decrypt_error: OpenSSL's answer when a CA of the same name but another key "issued" the chain.
  const untrusted = alerted(report, "client", ["unknown_ca", "bad_certificate", "certificate_unknown", "unsupported_certificate", "decrypt_error"]).filter((x) => x.c.serverCertificates.length > 0 && !x.c.handshakeComplete);
  if (untrusted.length) {
    const y = untrusted[0]!;
    found.push({
      faults: ["untrusted-server-chain"],
      summary: `the kit refused the server's chain (client alert ${y.alert} after ${y.after}): it does not trust "${y.c.serverCertificates.at(-1)!.issuer}"`,
      evidence: untrusted.slice(0, 3).map((z) => `${conn(z.c)}: server chain ${z.c.serverCertificates.map((s) => `"${s.subject}"`).join(" ← ")}, client alert ${z.alert} at ${at(z.time)}`),
    });
  }

  // OpenSSL's alerts for a client certificate outside its validity: certificate_expired past notAfter,
  // bad_certificate before notBefore (bad_certificate also covers a malformed one).
  for (const [alert, fault, meaning] of [
    ["certificate_expired", "device-cert-expired", "past its notAfter by the server's clock"],
    ["bad_certificate", "device-cert-not-yet-valid", "refused as bad: before its notBefore by the server's clock, or malformed"],
  ] as const) {
    const hits = alerted(report, "server", [alert]).filter((x) => x.c.clientAuth.clientChain.length > 0);
    if (!hits.length) continue;
    const leaf = hits[0]!.c.clientAuth.clientChain[0]!;
    found.push({
      faults: [fault],
      summary: `server alert ${alert} after the kit's ${hits[0]!.after}: the device certificate "${leaf.subject}" is ${meaning}`,
      evidence: hits.slice(0, 3).map((y) => `${conn(y.c)}: client certificate "${y.c.clientAuth.clientChain[0]!.subject}" sent, server alert ${alert} at ${at(y.time)}`),
    });
  }

  const resets = all.filter((c) => !c.handshakeComplete && c.closed?.how === "RST");
  if (resets.length) {
    const c = resets[0]!;
    found.push({
      faults: ["link-reset"],
      summary: `TCP reset before the TLS handshake completed (by the ${c.closed!.by === "server" ? "server side" : "kit"}), on ${resets.length} of ${all.length} connection(s): a middlebox or the link resets the kit`,
      evidence: resets.slice(0, 3).map((r) => `${conn(r)}: last message ${r.messages.filter((m) => m.type !== "Alert").at(-1)?.type ?? "none"}, RST from the ${r.closed!.by} at ${at(r.closed!.time)}`),
    });
  }

  const lossy = all.filter((c) => c.tcp.retransmissions > 0);
  if (lossy.length) {
    const n = lossy.reduce((k, c) => k + c.tcp.retransmissions, 0);
    found.push({
      faults: ["link-loss"],
      summary: `${n} retransmitted segment(s) on ${lossy.length} of ${all.length} connection(s): the link loses packets, and each loss costs a retransmission timeout (200 ms or more)`,
      evidence: lossy.slice(0, 3).map((c) => `${conn(c)}: ${c.tcp.retransmissions} retransmission(s)`),
    });
  }

  // A normal peer fills segments up to its MSS: a direction that carried a certificate chain (512 bytes
  // or more) in segments of at most 64 bytes crossed a tiny-MTU link. (Small MQTT packets alone do not count.)
  const slivers = all.filter((c) => (["client", "server"] as const).some((side) => c.tcp.bytes[side] >= 512 && c.tcp.largestSegment[side] <= 64));
  if (slivers.length) {
    const c = slivers[0]!;
    found.push({
      faults: ["link-fragment"],
      summary: `TLS records crossed in tiny TCP segments (at most ${Math.max(c.tcp.largestSegment.client, c.tcp.largestSegment.server)} bytes) on ${slivers.length} connection(s): a tiny-MTU link, every flight paced by its segments`,
      evidence: slivers.slice(0, 3).map((k) => `${conn(k)}: kit ${k.tcp.segments.client} segment(s) of ≤ ${k.tcp.largestSegment.client} bytes, server ${k.tcp.segments.server} of ≤ ${k.tcp.largestSegment.server} bytes`),
    });
  }

  const slow = all.filter((c) => (c.phases.clientHelloToServerHelloDone ?? 0) >= 1000);
  if (slow.length) {
    found.push({
      faults: ["link-latency"],
      summary: `the server's first flight came ${ms(Math.min(...slow.map((c) => c.phases.clientHelloToServerHelloDone!)))} or more after the ClientHello: a slow link`,
      evidence: slow.slice(0, 3).map((c) => `${conn(c)}: ClientHello → ServerHelloDone ${ms(c.phases.clientHelloToServerHelloDone!)}`),
    });
  }

  // A flow that died silently: the kit keeps sending, nothing comes back, nobody closes.
  const silent = all.flatMap((c) => {
    if (!c.handshakeComplete || c.closed) return [];
    const lastServer = c.messages.filter((m) => m.from === "server").at(-1)?.time ?? 0;
    const after = c.messages.filter((m) => m.from === "client" && m.type === "ApplicationData" && m.time > lastServer);
    return after.length > 0 && after.at(-1)!.time - lastServer >= 2 ? [{ c, lastServer, after }] : [];
  });
  if (silent.length) {
    const { c, lastServer, after } = silent.at(-1)!;
    found.push({
      faults: ["keepalive-lost"],
      summary: `the kit kept sending into a silent connection: ${after.length} record(s) up to ${ms((after.at(-1)!.time - lastServer) * 1000)} after the server's last, no answer and no close — a NAT or firewall dropped the idle flow (v2.2.5 never times out a missing PINGRESP)`,
      evidence: [`${conn(c)}: server's last record at ${at(lastServer)}, kit records at ${after.slice(0, 5).map((m) => at(m.time)).join(", ")}${after.length > 5 ? ", …" : ""}, no FIN or RST`],
    });
  }

  // After a completed handshake: who closed, and what MQTT said (when the session was decrypted).
  const done = all.filter((c) => c.handshakeComplete);
  const refusedCert = done.filter((c) => refusal(c) && !c.mqtt.some((m) => m.cmd === "connack") && c.closed?.by === "server" && !(c.decrypted && clientSentData(c)));
  if (refusedCert.length) {
    // A later connection the server did not refuse at once means the certificate got accepted: the
    // refusals before it are JITR's (one is the normal first attempt; more mean a slow activation).
    const accepted = done.find((d) => d.index > refusedCert[0]!.index && !refusal(d) && !d.alerts.some((a) => a.from === "server" && (a.description === "certificate_expired" || a.description === "bad_certificate")));
    const before = accepted ? refusedCert.filter((c) => c.index < accepted.index) : refusedCert;
    if (accepted && before.length > 1) {
      found.push({
        faults: ["lambda-delay"],
        summary: `${before.length} attempts were refused after the handshake before connection #${accepted.index} got through: the JITR Lambda activated the certificate late (in time, the kit's second attempt connects)`,
        evidence: before.slice(0, 4).map((c) => `${conn(c)}: handshake complete, server alert and close, no CONNACK`),
      });
    } else if (!accepted) {
      found.push({
        faults: ["jitr-lambda-off", "jitr-lambda-fail", "ca-deactivated", "cert-revoked", "lambda-delay"],
        summary: `every completed handshake (${refusedCert.length}) was followed by a server alert and close, no CONNACK: the cloud does not accept the kit's certificate — JITR never activated it (Lambda off, failing or slow), or its CA is inactive, or it was revoked`,
        evidence: refusedCert.slice(0, 3).map((c) => `${conn(c)}: client chain ${c.clientAuth.clientChain.map((x) => `"${x.subject}"`).join(" ← ")}, CertificateVerify ${c.clientAuth.certificateVerify}, server alert ${refusal(c)!.description ?? "(encrypted)"} at ${at(refusal(c)!.time)}`),
      });
    }
  }

  const droppedBeforeMqtt = done.filter((c) => !c.alerts.length && c.closed?.by === "server" && !c.messages.some((m) => m.type === "ApplicationData" && m.from === "server") && !c.mqtt.some((m) => m.from === "server"));
  if (droppedBeforeMqtt.length && !refusedCert.length) {
    found.push({
      faults: ["broker-drop-after-handshake"],
      summary: `the server closed ${droppedBeforeMqtt.length} connection(s) right after the handshake, without an alert or any MQTT`,
      evidence: droppedBeforeMqtt.slice(0, 3).map((c) => `${conn(c)}: handshake complete, server ${c.closed!.how} at ${at(c.closed!.time)}`),
    });
  }

  const decrypted = done.filter((c) => c.decrypted);
  const noConnack = decrypted.filter((c) => c.mqtt.some((m) => m.cmd === "connect") && !c.mqtt.some((m) => m.cmd === "connack") && c.closed?.by === "server");
  if (noConnack.length) {
    found.push({
      faults: ["policy-deny-connect", "connect-throttled"],
      summary: `the kit's CONNECT was answered by a close, no CONNACK, on ${noConnack.length} connection(s) with an accepted certificate: the policy denies iot:Connect for client ID "${String(noConnack[0]!.mqtt.find((m) => m.cmd === "connect")!.detail.clientId)}", or connects are throttled`,
      evidence: noConnack.slice(0, 3).map((c) => `${conn(c)}: CONNECT at ${at(c.mqtt.find((m) => m.cmd === "connect")!.time)}, server ${c.closed!.how} at ${at(c.closed!.time)}`),
    });
  }
  const deniedSub = decrypted.filter((c) => c.mqtt.some((m) => m.cmd === "suback" && Array.isArray(m.detail.granted) && (m.detail.granted as number[]).includes(128)));
  if (deniedSub.length) {
    found.push({
      faults: ["policy-deny-subscribe"],
      summary: `SUBACK refused the kit's subscription (return code 128) on ${deniedSub.length} connection(s): the policy does not allow it`,
      evidence: deniedSub.slice(0, 3).map((c) => `${conn(c)}: SUBSCRIBE ${JSON.stringify(c.mqtt.find((m) => m.cmd === "subscribe")?.detail.subscriptions ?? [])}, SUBACK ${JSON.stringify(c.mqtt.find((m) => m.cmd === "suback")!.detail.granted)}`),
    });
  }
  const afterConnack = decrypted.filter((c) => {
    const ack = c.mqtt.find((m) => m.cmd === "connack" && m.detail.returnCode === 0);
    return ack && c.closed?.by === "server" && c.closed.time - ack.time < 0.2 && !c.mqtt.some((m) => m.cmd === "suback");
  });
  if (afterConnack.length) {
    found.push({
      faults: ["broker-drop-after-connack"],
      summary: `the server accepted the session (CONNACK 0) and closed it within 200 ms, on ${afterConnack.length} connection(s)`,
      evidence: afterConnack.slice(0, 3).map((c) => `${conn(c)}: CONNACK at ${at(c.mqtt.find((m) => m.cmd === "connack")!.time)}, server ${c.closed!.how} at ${at(c.closed!.time)}`),
    });
  }
  const takenOver = decrypted.filter(
    (c) =>
      c.mqtt.some((m) => m.cmd === "suback" && Array.isArray(m.detail.granted) && !(m.detail.granted as number[]).includes(128)) &&
      c.closed?.by === "server" &&
      !c.mqtt.some((m) => m.from === "client" && m.cmd === "disconnect") &&
      !c.alerts.some((a) => a.from === "client"),
  );
  if (takenOver.length) {
    found.push({
      faults: ["duplicate-client-id"],
      summary: `${takenOver.length} subscribed session(s) were closed by the server without a word (no alert, no DISCONNECT from the kit): another connection took the client ID over`,
      evidence: takenOver.slice(0, 3).map((c) => `${conn(c)}: SUBACK at ${at(c.mqtt.find((m) => m.cmd === "suback")!.time)}, server ${c.closed!.how} at ${at(c.closed!.time)}`),
    });
  }
  return found;
}

function fromConsole(lines: string[]): Finding[] {
  const found: Finding[] = [];
  const has = (re: RegExp) => lines.filter((l) => re.test(l));
  const dns = has(/^ERROR:\s+WINC1500 DNS lookup failed\.$/);
  if (dns.length) found.push({ faults: ["dns-failure"], summary: "the WINC could not resolve the endpoint name", evidence: [`console: "${dns[0]}" ×${dns.length}`] });
  const joined = has(/^WINC1500 WIFI: Connected to the WIFI access point\.$/).length;
  const left = has(/^WINC1500 WIFI: Disconnected from the WIFI access point\.$/);
  if (left.length && !joined) found.push({ faults: ["wifi-wrong-psk"], summary: "the kit never joined the access point (wrong passphrase or SSID)", evidence: [`console: "${left[0]}" ×${left.length}, never "Connected to the WIFI access point."`] });
  const atecc = has(/^ERROR:\s+An ATECCx08A initialization error has occurred\.$/);
  if (atecc.length) found.push({ faults: ["atecc-wake-failure", "atecc-crc-errors"], summary: "the kit's ATECC508A failed its initialization (no wake, or garbled responses)", evidence: [`console: "${atecc[0]}"`] });
  return found;
}

/** Events name the cause the wire cannot: the reason the cloud refused, a Lambda that did not run. */
function fromEvents(events: CloudEvent[], found: Finding[]): Finding[] {
  const reasons = events.filter((e) => e.type === "refused").map((e) => String(e.detail.reason));
  const pick = (faults: string[], why: string) => {
    const f = found.find((x) => x.faults.some((n) => faults.includes(n)));
    if (f) {
      f.faults = faults.filter((n) => f.faults.includes(n)).concat(f.faults.filter((n) => !faults.includes(n)));
      f.evidence.push(`cloud events: ${why}`);
    }
  };
  if (events.some((e) => e.type === "lambda-skipped")) pick(["jitr-lambda-off"], "the rule's Lambda did not run");
  const failed = events.find((e) => e.type === "lambda-failed");
  if (failed) pick(["jitr-lambda-fail"], `the Lambda failed: ${String(failed.detail.error)}`);
  const ca = reasons.find((r) => /^CA \S+ is INACTIVE$/.test(r));
  if (ca) pick(["ca-deactivated"], ca);
  if (reasons.includes("certificate is REVOKED")) pick(["cert-revoked"], "certificate is REVOKED");
  if (reasons.includes("connect rate limit")) pick(["connect-throttled"], "connect rate limit");
  if (reasons.includes("iot:Connect not allowed")) pick(["policy-deny-connect"], "iot:Connect not allowed");
  if (reasons.includes("certificate not yet valid")) pick(["device-cert-not-yet-valid"], "certificate not yet valid");
  if (reasons.includes("certificate expired")) pick(["device-cert-expired"], "certificate expired");
  return found;
}

function fromKit(kit: NonNullable<DiagnoseInput["kit"]>): Finding[] {
  const m = kit.unanswered;
  if (!m) return [];
  if (kit.powered === false) {
    return [{ faults: m === "saveCredentials" ? ["power-cut-during-save"] : [], summary: `the kit lost power while it handled ${m}${m === "saveCredentials" ? ": its credentials are half written" : ""}`, evidence: [`kit protocol: ${m} sent, never answered; the kit has no power`] }].filter((f) => f.faults.length);
  }
  if (["init", "genCsr", "genKey", "saveCredentials"].includes(m)) {
    return [{ faults: ["atecc-wake-failure", "atecc-crc-errors", "slow-atecc"], summary: `the kit never answered ${m}, an ATECC508A operation: the secure element does not wake or its responses are garbled (the I2C bus trace tells which: zt-hil bus decode)`, evidence: [`kit protocol: ${m} sent, never answered; the kit has power`] }];
  }
  return [];
}

/** The method of the last kit-protocol request if no reply followed it (transcript lines as KitClient keeps them). */
export function unansweredMethod(transcript: { dir: ">" | "<"; line: string }[]): string | null {
  const last = transcript.at(-1);
  if (!last || last.dir !== ">") return null;
  const hex = /^board:app\(([0-9a-fA-F]+)/.exec(last.line)?.[1];
  if (!hex) return last.line.slice(0, 40);
  return /"method":\s*"([^"]+)"/.exec(Buffer.from(hex.slice(0, hex.length - (hex.length % 2)), "hex").toString("latin1"))?.[1] ?? "board:app";
}

export function recognize(input: DiagnoseInput): Finding[] {
  const found = [...(input.kit ? fromKit(input.kit) : []), ...(input.report ? fromCapture(input.report) : []), ...fromConsole(input.console ?? [])];
  return input.events ? fromEvents(input.events, found) : found;
}

/** A finding as one line: "fault-a / fault-b: summary". */
export function findingLine(f: Finding): string {
  return `${f.faults.join(" / ")}: ${f.summary}`;
}
