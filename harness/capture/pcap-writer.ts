/**
 * Writing classic pcap (LINKTYPE_RAW: IPv4/IPv6 packets) with synthesized IP and TCP headers whose
 * checksums are right, so tshark and Wireshark read our recordings as they read tcpdump's.
 * Every packet is written to the file as it is recorded (no buffering in memory), so a crash loses
 * nothing already seen. Hand-written: no npm library writes pcap with synthesized TCP flows.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { isIPv4 } from "node:net";
import { LINKTYPE } from "./packet.ts";
import { TCP_FLAGS, type TcpSegment } from "./decode.ts";

export class PcapWriter {
  private fd: number | null;

  constructor(readonly file: string) {
    this.fd = openSync(file, "w", 0o644);
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(LINKTYPE.RAW, 20);
    writeSync(this.fd, h);
  }

  write(time: number, packet: Buffer): void {
    if (this.fd === null) return;
    const h = Buffer.alloc(16);
    const sec = Math.floor(time);
    h.writeUInt32LE(sec, 0);
    h.writeUInt32LE(Math.min(999999, Math.round((time - sec) * 1e6)), 4);
    h.writeUInt32LE(packet.length, 8);
    h.writeUInt32LE(packet.length, 12);
    writeSync(this.fd, Buffer.concat([h, packet]));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function sum16(buf: Buffer, initial = 0): number {
  let s = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) s += buf.readUInt16BE(i);
  if (buf.length % 2) s += buf[buf.length - 1]! << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function addressBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || "0", 16), i * 2));
  return out;
}

/** "::ffff:127.0.0.1" → "127.0.0.1"; anything else unchanged. */
export function plainAddress(ip: string): string {
  return ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/** What tcpPacket() needs of a segment: a decoded segment's fields, window and payload optional. */
export type SegmentSpec = Omit<TcpSegment, "window" | "payload"> & { payload?: Buffer };

/** An IPv4 or IPv6 packet carrying one TCP segment, checksums filled in. */
export function tcpPacket(s: SegmentSpec): Buffer {
  const payload = s.payload ?? Buffer.alloc(0);
  const tcp = Buffer.alloc(20 + payload.length);
  tcp.writeUInt16BE(s.srcPort, 0);
  tcp.writeUInt16BE(s.dstPort, 2);
  tcp.writeUInt32BE(s.seq >>> 0, 4);
  tcp.writeUInt32BE(s.ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = s.flags;
  tcp.writeUInt16BE(65535, 14);
  payload.copy(tcp, 20);
  const src = addressBytes(s.src);
  const dst = addressBytes(s.dst);
  const v4 = src.length === 4;
  const pseudo = Buffer.alloc(v4 ? 12 : 40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, src.length);
  if (v4) {
    pseudo[9] = 6;
    pseudo.writeUInt16BE(tcp.length, 10);
  } else {
    pseudo.writeUInt32BE(tcp.length, 32);
    pseudo[39] = 6;
  }
  tcp.writeUInt16BE(fold(sum16(tcp, sum16(pseudo))), 16);
  if (v4) {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + tcp.length, 2);
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip[8] = 64;
    ip[9] = 6;
    src.copy(ip, 12);
    dst.copy(ip, 16);
    ip.writeUInt16BE(fold(sum16(ip)), 10);
    return Buffer.concat([ip, tcp]);
  }
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(tcp.length, 4);
  ip[6] = 6;
  ip[7] = 64;
  src.copy(ip, 8);
  dst.copy(ip, 24);
  return Buffer.concat([ip, tcp]);
}

const MAX_SEGMENT = 16384;

/** One TCP connection written as it happens: handshake, data both ways, FIN or RST. */
export class SynthesizedFlow {
  private seq: Record<"client" | "server", number>;

  constructor(
    private readonly writer: PcapWriter,
    private readonly client: { ip: string; port: number },
    private readonly server: { ip: string; port: number },
  ) {
    this.seq = { client: (Math.random() * 2 ** 32) >>> 0, server: (Math.random() * 2 ** 32) >>> 0 };
  }

  private send(from: "client" | "server", flags: number, time: number, payload?: Buffer): void {
    const to = from === "client" ? "server" : "client";
    const [a, b] = from === "client" ? [this.client, this.server] : [this.server, this.client];
    this.writer.write(time, tcpPacket({ src: a.ip, dst: b.ip, srcPort: a.port, dstPort: b.port, seq: this.seq[from], ack: flags & TCP_FLAGS.SYN && !(flags & TCP_FLAGS.ACK) ? 0 : this.seq[to], flags, ...(payload ? { payload } : {}) }));
    this.seq[from] = (this.seq[from] + (payload?.length ?? 0) + (flags & (TCP_FLAGS.SYN | TCP_FLAGS.FIN) ? 1 : 0)) >>> 0;
  }

  open(time: number): void {
    this.send("client", TCP_FLAGS.SYN, time);
    this.send("server", TCP_FLAGS.SYN | TCP_FLAGS.ACK, time);
    this.send("client", TCP_FLAGS.ACK, time);
  }

  data(from: "client" | "server", bytes: Buffer, time: number): void {
    for (let i = 0; i < bytes.length; i += MAX_SEGMENT) this.send(from, TCP_FLAGS.PSH | TCP_FLAGS.ACK, time, bytes.subarray(i, i + MAX_SEGMENT));
  }

  /** A transmission of `bytes` that the network lost: written as sent, the sequence number does not move (the next data() retransmits it). */
  lost(from: "client" | "server", bytes: Buffer, time: number): void {
    const seq = this.seq[from];
    this.data(from, bytes, time);
    this.seq[from] = seq;
  }

  fin(from: "client" | "server", time: number): void {
    this.send(from, TCP_FLAGS.FIN | TCP_FLAGS.ACK, time);
  }

  reset(from: "client" | "server", time: number): void {
    this.send(from, TCP_FLAGS.RST | TCP_FLAGS.ACK, time);
  }
}

/** Wall-clock seconds with sub-millisecond resolution. */
export function nowSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}
