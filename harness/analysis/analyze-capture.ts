/**
 * The analyzer: a capture file (and optionally a key log) in, one verdict per TLS connection out.
 * TLS is found by content (a ClientHello at the start of either direction), never by port; MQTT inside
 * decrypted sessions is decoded with mqtt-packet so a report can show CONNECT/CONNACK/SUBSCRIBE.
 */
import mqttPacket from "mqtt-packet";
import { reassemble, endpointText, swapRoles, type Direction, type TcpConnection } from "../capture/tcp-reassembly.ts";
import { parseCapture, readCaptureFile } from "../capture/pcap-file.ts";
import type { CaptureFile } from "../capture/packet.ts";
import { parseKeyLog, type KeyLog } from "../tls/keylog.ts";
import { startsWithClientHello, type ConnectionInput, type ConnectionVerdict, type Side } from "../tls/verdict.ts";
import { analyzeAll, type StreamData, type WorkItem } from "./verdict-pool.ts";

export interface MqttPacketSummary {
  from: Side;
  time: number;
  cmd: string;
  detail: Record<string, unknown>;
}

export interface TlsConnectionReport extends ConnectionVerdict {
  index: number;
  tcp: {
    synSeen: boolean;
    retransmissions: number;
    overlaps: number;
    gaps: number;
    /** Segments that carried new data, their bytes and the largest payload, per direction (tiny segments show a tiny-MTU link). */
    segments: { client: number; server: number };
    bytes: { client: number; server: number };
    largestSegment: { client: number; server: number };
  };
  mqtt: MqttPacketSummary[];
}

export interface CaptureReport {
  file: string;
  format: "pcap" | "pcapng";
  /** Wall-clock time (epoch seconds) of the first packet: message times are relative to it. */
  startTime: number;
  packets: number;
  tcpConnections: number;
  connections: TlsConnectionReport[];
  problems: string[];
}

/** One direction as plain data: its contiguous bytes (up to the first capture gap) and chunk times. */
function streamData(dir: Direction): StreamData {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  const times: number[] = [];
  const start = dir.chunks[0]?.offset ?? 0;
  let end = start;
  let gapAt: number | undefined;
  for (const c of dir.chunks) {
    if (c.offset !== end) {
      gapAt = end - start;
      break;
    }
    parts.push(c.data);
    offsets.push(c.offset - start);
    times.push(c.time);
    end += c.data.length;
  }
  return { data: Buffer.concat(parts), offsets, times, ...(gapAt !== undefined ? { gapAt } : {}) };
}

type Close = NonNullable<ConnectionInput["closed"]>;

/** The first FIN or RST of a connection, with capture-relative time. */
function closeOf(c: TcpConnection, t0: number): Close | undefined {
  const events: Close[] = [];
  if (c.toServer.fin !== undefined) events.push({ by: "client", how: "FIN", time: c.toServer.fin });
  if (c.toClient.fin !== undefined) events.push({ by: "server", how: "FIN", time: c.toClient.fin });
  if (c.toServer.rst !== undefined) events.push({ by: "client", how: "RST", time: c.toServer.rst });
  if (c.toClient.rst !== undefined) events.push({ by: "server", how: "RST", time: c.toClient.rst });
  events.sort((a, b) => a.time - b.time);
  return events[0] && { ...events[0], time: events[0].time - t0 };
}

function decodeMqtt(data: { from: Side; data: Buffer; time: number }[], problems: string[]): MqttPacketSummary[] {
  const out: MqttPacketSummary[] = [];
  const parsers: Partial<Record<Side, ReturnType<typeof mqttPacket.parser>>> = {};
  for (const d of data) {
    let parser = parsers[d.from];
    if (!parser) {
      parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on("error", (err: Error) => problems.push(`MQTT from ${d.from}: ${err.message}`));
      parsers[d.from] = parser;
    }
    parser.removeAllListeners("packet");
    parser.on("packet", (p: mqttPacket.Packet) => {
      const { cmd, ...rest } = p as mqttPacket.Packet & Record<string, unknown>;
      const detail: Record<string, unknown> = {};
      for (const k of ["clientId", "keepalive", "clean", "returnCode", "topic", "qos", "messageId", "subscriptions", "granted"]) if (k in rest && rest[k] !== undefined) detail[k] = rest[k];
      if (Buffer.isBuffer(rest.payload) && rest.payload.length) detail.payload = rest.payload.toString("utf8");
      out.push({ from: d.from, time: d.time, cmd, detail });
    });
    parser.parse(d.data);
  }
  return out;
}

export async function analyzeCapture(capture: CaptureFile, file: string, keyLog?: KeyLog): Promise<CaptureReport> {
  const problems = [...capture.problems];
  const embedded = capture.keyLog.length ? parseKeyLog(capture.keyLog, `${file} (embedded secrets)`) : undefined;
  const keys: KeyLog | undefined = embedded || keyLog ? new Map([...(embedded ?? []), ...(keyLog ?? [])]) : undefined;
  const { connections, skipped } = reassemble(capture.packets);
  for (const [why, n] of skipped) problems.push(`${n} packet(s) skipped: ${why}`);
  const t0 = capture.packets[0]?.time ?? 0;
  const tls: TcpConnection[] = [];
  const items: WorkItem[] = [];
  for (let c of connections) {
    let toServer = streamData(c.toServer);
    let toClient = streamData(c.toClient);
    if (!startsWithClientHello(toServer.data)) {
      if (!startsWithClientHello(toClient.data)) continue;
      c = swapRoles(c);
      [toServer, toClient] = [toClient, toServer];
    }
    const closed = closeOf(c, t0);
    tls.push(c);
    items.push({ client: endpointText(c.client), server: endpointText(c.server), toServer, toClient, t0, ...(closed ? { closed } : {}) });
  }
  const analyzed = await analyzeAll(items, keys);
  const reports: TlsConnectionReport[] = analyzed.map(({ verdict, applicationData }, i) => {
    const c = tls[i]!;
    const mqtt = applicationData.length ? decodeMqtt(applicationData, verdict.problems) : [];
    return {
      index: i + 1,
      ...verdict,
      tcp: {
        synSeen: c.synSeen,
        retransmissions: c.toServer.retransmissions + c.toClient.retransmissions,
        overlaps: c.toServer.overlaps + c.toClient.overlaps,
        gaps: c.toServer.gaps.length + c.toClient.gaps.length,
        segments: { client: c.toServer.chunks.length, server: c.toClient.chunks.length },
        bytes: { client: c.toServer.chunks.reduce((n, k) => n + k.data.length, 0), server: c.toClient.chunks.reduce((n, k) => n + k.data.length, 0) },
        largestSegment: { client: c.toServer.chunks.reduce((m, k) => Math.max(m, k.data.length), 0), server: c.toClient.chunks.reduce((m, k) => Math.max(m, k.data.length), 0) },
      },
      mqtt,
    };
  });
  return { file, format: capture.format, startTime: t0, packets: capture.packets.length, tcpConnections: connections.length, connections: reports, problems };
}

export async function analyzeFile(file: string, keyLog?: KeyLog): Promise<CaptureReport> {
  return analyzeCapture(await readCaptureFile(file), file, keyLog);
}

export async function analyzeBuffer(buf: Buffer, name: string, keyLog?: KeyLog): Promise<CaptureReport> {
  return analyzeCapture(await parseCapture(buf, name), name, keyLog);
}
