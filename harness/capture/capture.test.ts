import { expect, test } from "@playwright/test";
import { ZtError } from "../errors.ts";
import { decodeFrame, TCP_FLAGS } from "./decode.ts";
import { parseCapture } from "./pcap-file.ts";
import { LINKTYPE, type CapturedPacket } from "./packet.ts";
import { tcpPacket, type SegmentSpec } from "./pcap-writer.ts";
import { reassemble, streamBytes } from "./tcp-reassembly.ts";

const C = { ip: "10.0.0.2", port: 50000 };
const S = { ip: "10.0.0.1", port: 8883 };
const ISN_C = 0xfffffff0; // wraps within the test
const ISN_S = 1000;

let clock = 0;
function seg(from: "c" | "s", seqOff: number, flags: number, payload = ""): CapturedPacket {
  const [a, b, isn, peerIsn] = from === "c" ? [C, S, ISN_C, ISN_S] : [S, C, ISN_S, ISN_C];
  const spec: SegmentSpec = { src: a.ip, dst: b.ip, srcPort: a.port, dstPort: b.port, seq: (isn + seqOff) >>> 0, ack: (peerIsn + 1) >>> 0, flags, payload: Buffer.from(payload) };
  return { time: ++clock, linkType: LINKTYPE.RAW, interfaceId: 0, data: tcpPacket(spec), fileOffset: 0 };
}
const SYN = TCP_FLAGS.SYN;
const ACK = TCP_FLAGS.ACK;
const handshake = () => [seg("c", 0, SYN), seg("s", 0, SYN | ACK), seg("c", 1, ACK)];

test("in-order, retransmitted, out-of-order and overlapping segments reassemble once, across a sequence wrap", () => {
  const packets = [
    ...handshake(),
    seg("c", 1, ACK, "hello "),
    seg("c", 1, ACK, "hello "), // retransmission
    seg("c", 13, ACK, "!!"), // out of order (after "world ")
    seg("c", 7, ACK, "world "),
    seg("c", 10, ACK, "ld !!tail"), // overlaps delivered bytes, adds "tail"
    seg("s", 1, ACK, "reply"),
    seg("c", 19, ACK | TCP_FLAGS.FIN),
  ];
  const { connections } = reassemble(packets);
  expect(connections).toHaveLength(1);
  const c = connections[0]!;
  expect(c.synSeen).toBe(true);
  expect([c.client, c.server]).toEqual([C, S]);
  expect(streamBytes(c.toServer).toString()).toBe("hello world !!tail");
  expect(streamBytes(c.toClient).toString()).toBe("reply");
  expect(c.toServer.retransmissions).toBe(1);
  expect(c.toServer.overlaps).toBe(1);
  expect(c.toServer.gaps).toEqual([]);
  expect(c.toServer.fin).toBeDefined();
  // "world " arrived at t=7 and completed the out-of-order "!!" held since t=6
  expect(c.toServer.chunks.map((k) => [k.offset, k.time])).toEqual([[0, 4], [6, 7], [12, 7], [14, 8]]);
});

test("a hole that never fills is a gap, not a crash", () => {
  const { connections } = reassemble([...handshake(), seg("c", 1, ACK, "abc"), seg("c", 10, ACK, "xyz")]);
  const d = connections[0]!.toServer;
  expect(d.gaps).toEqual([{ offset: 3, length: 6, time: expect.any(Number) }]);
  expect(d.chunks.map((k) => k.data.toString())).toEqual(["abc", "xyz"]);
});

test("a new SYN on a finished 4-tuple is a new connection (port reuse)", () => {
  const first = [...handshake(), seg("c", 1, ACK, "one"), seg("c", 4, ACK | TCP_FLAGS.FIN), seg("s", 1, ACK | TCP_FLAGS.FIN)];
  const second = [...handshake(), seg("c", 1, ACK, "two")];
  const { connections } = reassemble([...first, ...second]);
  expect(connections.map((c) => streamBytes(c.toServer).toString())).toEqual(["one", "two"]);
});

test("without the SYN the first sender is taken as client and data is still followed", () => {
  const { connections } = reassemble([seg("s", 1, ACK, "late"), seg("c", 1, ACK, "join")]);
  expect(connections[0]!.synSeen).toBe(false);
  expect(streamBytes(connections[0]!.toServer).toString()).toBe("late");
});

test("every supported link type decodes to the same TCP segment", () => {
  const ip4 = tcpPacket({ src: "127.0.0.1", dst: "127.0.0.1", srcPort: 1, dstPort: 2, seq: 5, ack: 0, flags: SYN });
  const ip6 = tcpPacket({ src: "::1", dst: "fe80::1:2", srcPort: 1, dstPort: 2, seq: 5, ack: 0, flags: SYN, payload: Buffer.from("x") });
  const u32le = (v: number) => Buffer.from([v, 0, 0, 0]);
  const eth = (type: number, vlan = false) => Buffer.concat([Buffer.alloc(12), ...(vlan ? [Buffer.from([0x81, 0, 0, 5])] : []), Buffer.from([type >> 8, type & 0xff])]);
  const sll = Buffer.concat([Buffer.alloc(14), Buffer.from([0x08, 0x00])]);
  const sll2 = Buffer.concat([Buffer.from([0x86, 0xdd]), Buffer.alloc(18)]);
  const cases: [number, Buffer, string][] = [
    [LINKTYPE.RAW, ip4, "127.0.0.1"],
    [LINKTYPE.IPV6, ip6, "::1"],
    [LINKTYPE.ETHERNET, Buffer.concat([eth(0x0800), ip4]), "127.0.0.1"],
    [LINKTYPE.ETHERNET, Buffer.concat([eth(0x86dd, true), ip6]), "::1"],
    [LINKTYPE.LINUX_SLL, Buffer.concat([sll, ip4]), "127.0.0.1"],
    [LINKTYPE.LINUX_SLL2, Buffer.concat([sll2, ip6]), "::1"],
    [LINKTYPE.NULL, Buffer.concat([u32le(2), ip4]), "127.0.0.1"],
    [LINKTYPE.NULL, Buffer.concat([Buffer.from([0, 0, 0, 30]), ip6]), "::1"],
    [LINKTYPE.LOOP, Buffer.concat([Buffer.from([0, 0, 0, 2]), ip4]), "127.0.0.1"],
  ];
  for (const [lt, frame, src] of cases) {
    const r = decodeFrame(lt, frame);
    expect(r && "segment" in r ? [r.segment.src, r.segment.srcPort, r.segment.dstPort, r.segment.seq] : r).toEqual([src, 1, 2, 5]);
  }
  const r6 = decodeFrame(LINKTYPE.IPV6, ip6);
  expect(r6 && "segment" in r6 ? [r6.segment.dst, r6.segment.payload.toString()] : r6).toEqual(["fe80::1:2", "x"]);
  expect(decodeFrame(LINKTYPE.ETHERNET, Buffer.concat([eth(0x0806), Buffer.alloc(28)]))).toBeNull(); // ARP
  expect(decodeFrame(147, ip4)).toBeNull(); // a link type we do not follow
});

/** A pcapng built by hand: big- or little-endian, with if_tsresol, two interfaces and a key log block. */
function pcapng(le: boolean): Buffer {
  const u16 = (v: number) => { const b = Buffer.alloc(2); le ? b.writeUInt16LE(v) : b.writeUInt16BE(v); return b; };
  const u32 = (v: number) => { const b = Buffer.alloc(4); le ? b.writeUInt32LE(v) : b.writeUInt32BE(v); return b; };
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const block = (type: number, body: Buffer) => Buffer.concat([u32(type), u32(12 + pad(body).length), pad(body), u32(12 + pad(body).length)]);
  const shb = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]));
  const tsresol = (r: number) => Buffer.concat([u16(9), u16(1), Buffer.from([r, 0, 0, 0]), u16(0), u16(0)]);
  const idb0 = block(1, Buffer.concat([u16(LINKTYPE.RAW), u16(0), u32(65535), tsresol(9)])); // nanoseconds
  const idb1 = block(1, Buffer.concat([u16(LINKTYPE.RAW), u16(0), u32(65535)])); // default microseconds
  const pkt = tcpPacket({ src: "127.0.0.1", dst: "127.0.0.1", srcPort: 7, dstPort: 9, seq: 1, ack: 0, flags: SYN });
  const epb = (iface: number, ticks: bigint) => block(6, Buffer.concat([u32(iface), u32(Number(ticks >> 32n)), u32(Number(ticks & 0xffffffffn)), u32(pkt.length), u32(pkt.length), pad(pkt)]));
  const keys = Buffer.from(`CLIENT_RANDOM ${"ab".repeat(32)} ${"cd".repeat(48)}\n`);
  const dsb = block(0x0a, Buffer.concat([u32(0x544c534b), u32(keys.length), pad(keys)]));
  const spb = block(3, Buffer.concat([u32(pkt.length), pad(pkt)]));
  return Buffer.concat([shb, idb0, idb1, epb(0, 1_700_000_000_123_456_789n), epb(1, 1_700_000_001_500_000n), dsb, spb]);
}

test("pcapng in both byte orders: interfaces, timestamp resolution, simple packets and embedded key logs", async () => {
  for (const le of [true, false]) {
    const f = await parseCapture(pcapng(le), le ? "le.pcapng" : "be.pcapng");
    expect(f.format).toBe("pcapng");
    expect(f.problems).toEqual([]);
    expect(f.packets.map((p) => p.interfaceId)).toEqual([0, 1, 0]);
    expect(f.packets[0]!.time).toBeCloseTo(1_700_000_000.123456789, 6);
    expect(f.packets[1]!.time).toBeCloseTo(1_700_000_001.5, 6);
    expect(f.keyLog).toEqual([`CLIENT_RANDOM ${"ab".repeat(32)} ${"cd".repeat(48)}`]);
  }
});

test("damaged pcapng keeps the packets before the damage", async () => {
  const good = pcapng(true);
  const cut = await parseCapture(good.subarray(0, good.length - 10), "cut.pcapng");
  expect(cut.packets).toHaveLength(2);
  expect(cut.problems[0]).toMatch(/cut\.pcapng: block at offset \d+ \(type 0x3\) has length \d+ but \d+ bytes remain; 2 packets kept/);
  await expect(parseCapture(Buffer.concat([Buffer.from("0a0d0d0a", "hex"), Buffer.alloc(20)]), "bad.pcapng")).rejects.toThrow(ZtError);
});
