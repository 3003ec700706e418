/**
 * TCP stream reassembly per connection and direction: retransmissions dropped, out-of-order segments
 * held until the hole fills, overlaps trimmed (first copy wins, as most stacks deliver), holes that never
 * fill recorded as gaps (never a crash), and a new SYN on a finished 4-tuple starting a new connection
 * (port reuse). Each delivered byte range carries the time of the segment that completed it.
 */
import { decodeFrame, TCP_FLAGS, type TcpSegment } from "./decode.ts";
import type { CapturedPacket } from "./packet.ts";

export interface Endpoint {
  ip: string;
  port: number;
}

export interface StreamChunk {
  /** Offset of the chunk in the reassembled stream. */
  offset: number;
  data: Buffer;
  time: number;
}

export interface Gap {
  offset: number;
  length: number;
  time: number;
}

export interface Direction {
  chunks: StreamChunk[];
  gaps: Gap[];
  bytes: number;
  retransmissions: number;
  overlaps: number;
  fin?: number;
  rst?: number;
}

export interface TcpConnection {
  index: number;
  client: Endpoint;
  server: Endpoint;
  /** True when the SYN was captured (so client and server are known, not guessed). */
  synSeen: boolean;
  start: number;
  end: number;
  toServer: Direction;
  toClient: Direction;
}

const endpointText = (e: Endpoint) => (e.ip.includes(":") ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);
export { endpointText };

class DirectionState {
  readonly out: Direction = { chunks: [], gaps: [], bytes: 0, retransmissions: 0, overlaps: 0 };
  private base: number | null = null;
  /** Stream offset of the next byte to deliver. */
  private next = 0;
  private pending = new Map<number, { data: Buffer; time: number }>();

  setIsn(seq: number): void {
    if (this.base === null) this.base = (seq + 1) >>> 0;
  }

  private rel(seq: number): number {
    if (this.base === null) this.base = seq;
    // Sequence numbers wrap at 2^32; offsets are relative to the first byte.
    const d = (seq - this.base) >>> 0;
    return d > 0x80000000 ? d - 0x100000000 : d;
  }

  data(seq: number, payload: Buffer, time: number): void {
    let off = this.rel(seq);
    let data = payload;
    const end = off + data.length;
    if (end <= this.next) {
      this.out.retransmissions++;
      return;
    }
    if (off < this.next) {
      this.out.overlaps++;
      data = data.subarray(this.next - off);
      off = this.next;
    }
    if (off > this.next) {
      const held = this.pending.get(off);
      if (!held || held.data.length < data.length) this.pending.set(off, { data, time });
      else this.out.retransmissions++;
      return;
    }
    this.deliver(off, data, time);
    this.drain(time);
  }

  private deliver(off: number, data: Buffer, time: number): void {
    this.out.chunks.push({ offset: off, data, time });
    this.next = off + data.length;
    this.out.bytes += data.length;
  }

  /** Deliver held segments that are now contiguous; they became readable at `time`. */
  private drain(time: number): void {
    for (let progressed = true; progressed && this.pending.size; ) {
      progressed = false;
      for (const [off, held] of this.pending) {
        if (off > this.next) continue;
        this.pending.delete(off);
        progressed = true;
        const end = off + held.data.length;
        if (end <= this.next) {
          this.out.retransmissions++;
          continue;
        }
        if (off < this.next) this.out.overlaps++;
        this.deliver(this.next, held.data.subarray(this.next - off), Math.max(time, held.time));
      }
    }
  }

  fin(seq: number, payloadLength: number, time: number): void {
    this.out.fin ??= time;
    const finOff = this.rel(seq) + payloadLength;
    if (finOff > this.next && !this.pending.size) this.out.gaps.push({ offset: this.next, length: finOff - this.next, time });
  }

  /** At the end of the capture: skip over holes that never filled, recording each as a gap. */
  finish(): void {
    while (this.pending.size) {
      const first = Math.min(...this.pending.keys());
      const held = this.pending.get(first)!;
      this.out.gaps.push({ offset: this.next, length: first - this.next, time: held.time });
      this.next = first;
      this.drain(held.time);
    }
  }
}

interface ConnState {
  conn: TcpConnection;
  toServer: DirectionState;
  toClient: DirectionState;
  clientKey: string;
  closed: boolean;
}

/** Reassemble every TCP connection in a list of captured packets. */
export function reassemble(packets: readonly CapturedPacket[]): { connections: TcpConnection[]; skipped: Map<string, number> } {
  const live = new Map<string, ConnState>();
  const all: ConnState[] = [];
  const skipped = new Map<string, number>();

  const open = (seg: TcpSegment, time: number, clientIsSrc: boolean, synSeen: boolean): ConnState => {
    const a = { ip: seg.src, port: seg.srcPort };
    const b = { ip: seg.dst, port: seg.dstPort };
    const [client, server] = clientIsSrc ? [a, b] : [b, a];
    const s: ConnState = {
      conn: { index: all.length + 1, client, server, synSeen, start: time, end: time, toServer: undefined!, toClient: undefined! },
      toServer: new DirectionState(),
      toClient: new DirectionState(),
      clientKey: endpointText(client),
      closed: false,
    };
    s.conn.toServer = s.toServer.out;
    s.conn.toClient = s.toClient.out;
    all.push(s);
    return s;
  };

  for (const p of packets) {
    const r = decodeFrame(p.linkType, p.data);
    if (!r) continue;
    if ("skip" in r) {
      skipped.set(r.skip, (skipped.get(r.skip) ?? 0) + 1);
      continue;
    }
    const seg = r.segment;
    const ends = [`${seg.src}|${seg.srcPort}`, `${seg.dst}|${seg.dstPort}`].sort();
    const key = ends.join("~");
    const isSyn = (seg.flags & TCP_FLAGS.SYN) !== 0 && (seg.flags & TCP_FLAGS.ACK) === 0;
    let s = live.get(key);
    if (isSyn && s && (s.closed || s.conn.toServer.bytes > 0 || s.conn.toClient.bytes > 0)) s = undefined; // port reuse
    if (!s) {
      s = open(seg, p.time, isSyn || !(seg.flags & TCP_FLAGS.SYN) ? true : false, isSyn);
      live.set(key, s);
    }
    const fromClient = endpointText({ ip: seg.src, port: seg.srcPort }) === s.clientKey;
    const dir = fromClient ? s.toServer : s.toClient;
    s.conn.end = p.time;
    if (seg.flags & TCP_FLAGS.SYN) dir.setIsn(seg.seq);
    if (seg.payload.length) dir.data(seg.flags & TCP_FLAGS.SYN ? (seg.seq + 1) >>> 0 : seg.seq, seg.payload, p.time);
    if (seg.flags & TCP_FLAGS.FIN) dir.fin(seg.seq, seg.payload.length, p.time);
    if (seg.flags & TCP_FLAGS.RST) {
      dir.out.rst ??= p.time;
      s.closed = true;
    }
    if (s.conn.toServer.fin !== undefined && s.conn.toClient.fin !== undefined) s.closed = true;
  }
  for (const s of all) {
    s.toServer.finish();
    s.toClient.finish();
  }
  return { connections: all.map((s) => s.conn), skipped };
}

/** Swap the roles of a connection whose client was guessed wrong (no SYN captured). */
export function swapRoles(c: TcpConnection): TcpConnection {
  return { ...c, client: c.server, server: c.client, toServer: c.toClient, toClient: c.toServer };
}

/** The whole reassembled stream of one direction (gaps left out). */
export function streamBytes(dir: Direction): Buffer {
  return Buffer.concat(dir.chunks.map((c) => c.data));
}
