/** The human-readable form of a capture report: one block per TLS connection, a timeline of messages. */
import { EXTENSION_NAMES, suiteName } from "../tls/constants.ts";
import type { CaptureReport, TlsConnectionReport } from "./analyze-capture.ts";

const sec = (t: number) => `+${t.toFixed(6)} s`;
const hex4 = (n: number) => `0x${n.toString(16).padStart(4, "0")}`;

function connectionBlock(c: TlsConnectionReport): string[] {
  const lines = [`connection ${c.index}  ${c.client} → ${c.server}  ${c.version ?? "no ServerHello"}  ${c.negotiatedSuite === null ? "" : suiteName(c.negotiatedSuite)}`.trimEnd()];
  lines.push(`  offered: ${c.offeredSuites.length} suite(s) ${c.offeredSuites.map(hex4).join(" ")}`);
  lines.push(`  extensions: ${c.extensions.map((e) => EXTENSION_NAMES[e.type] ?? e.type).join(", ") || "none"}; SNI ${c.sni ?? "none"}; groups ${c.groupNames.join(", ") || "none"}; sigalgs ${c.sigalgs.map(hex4).join(" ") || "none"}`);
  if (c.serverCertificates.length) lines.push(`  server chain: ${c.serverCertificates.map((s) => s.subject).join(" ← ")}`);
  if (c.serverKeyExchange) lines.push(`  ServerKeyExchange: ${c.serverKeyExchange.curve}, signature ${hex4(c.serverKeyExchange.signatureAlgorithm)} ${c.serverKeyExchange.signature}`);
  const a = c.clientAuth;
  lines.push(
    a.requested
      ? `  client auth: requested (types ${a.certificateTypes.join(",")}; ${a.certificateAuthorities} CA name(s)); client chain ${a.clientCertificates} cert(s)${a.clientChain.length ? ` [${a.clientChain.map((s) => s.subject).join(" ← ")}]` : ""}; CertificateVerify ${a.certificateVerify}`
      : "  client auth: not requested",
  );
  for (const m of c.messages) lines.push(`  ${sec(m.time)}  ${m.from.padEnd(6)}  ${m.type}${m.encrypted ? " (encrypted)" : ""}`);
  for (const al of c.alerts) lines.push(`  alert from ${al.from}: ${al.encrypted && !al.level ? "encrypted" : `${al.level} ${al.description}`}${al.encrypted && al.level ? " (decrypted)" : ""} at ${sec(al.time)}`);
  for (const p of c.mqtt) lines.push(`  mqtt ${sec(p.time)}  ${p.from.padEnd(6)}  ${p.cmd.toUpperCase()} ${JSON.stringify(p.detail)}`);
  if (c.closed) lines.push(`  closed by ${c.closed.by} (${c.closed.how}) at ${sec(c.closed.time)}`);
  const phases = Object.entries(c.phases).map(([k, v]) => `${k} ${v} ms`);
  if (phases.length) lines.push(`  phases: ${phases.join("; ")}`);
  lines.push(`  handshake ${c.handshakeComplete ? "complete" : "NOT complete"}; Finished client ${c.finished.client}, server ${c.finished.server}`);
  for (const p of c.problems) lines.push(`  problem: ${p}`);
  return lines;
}

export function formatTimeline(r: CaptureReport): string {
  const lines = [`${r.file}: ${r.format}, ${r.packets} packet(s), ${r.tcpConnections} TCP connection(s), ${r.connections.length} TLS`];
  for (const p of r.problems) lines.push(`problem: ${p}`);
  for (const c of r.connections) lines.push("", ...connectionBlock(c));
  return lines.join("\n");
}
