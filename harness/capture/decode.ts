/**
 * From a link-layer frame to a TCP segment: Ethernet (with VLAN tags), Linux cooked capture v1 and v2,
 * raw IP, BSD loopback (NULL and LOOP); IPv4 and IPv6 (extension headers skipped); TCP.
 * Frames that are not TCP, or are too short, decode to null; IP fragments are reported, not reassembled.
 */
import { LINKTYPE } from "./packet.ts";

export interface TcpSegment {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  payload: Buffer;
}

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export type DecodeResult = { segment: TcpSegment } | { skip: string } | null;

function ipPayloadOffset(linkType: number, f: Buffer): number | null {
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      let at = 12;
      let ethertype = f.length >= 14 ? f.readUInt16BE(at) : 0;
      while ((ethertype === 0x8100 || ethertype === 0x88a8) && f.length >= at + 6) {
        at += 4;
        ethertype = f.readUInt16BE(at);
      }
      return ethertype === 0x0800 || ethertype === 0x86dd ? at + 2 : null;
    }
    case LINKTYPE.LINUX_SLL: {
      if (f.length < 16) return null;
      const proto = f.readUInt16BE(14);
      return proto === 0x0800 || proto === 0x86dd ? 16 : null;
    }
    case LINKTYPE.LINUX_SLL2: {
      if (f.length < 20) return null;
      const proto = f.readUInt16BE(0);
      return proto === 0x0800 || proto === 0x86dd ? 20 : null;
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (f.length < 4) return null;
      // NULL stores the family in the capturing host's byte order; LOOP in network order.
      const family = linkType === LINKTYPE.LOOP ? f.readUInt32BE(0) : Math.min(f.readUInt32LE(0), f.readUInt32BE(0));
      return family === 2 || family === 10 || family === 24 || family === 28 || family === 30 ? 4 : null;
    }
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case 12:
    case 14:
      return 0;
    default:
      return null;
  }
}

function ipv6Text(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 prints addresses.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

export function decodeFrame(linkType: number, frame: Buffer): DecodeResult {
  const ipAt = ipPayloadOffset(linkType, frame);
  if (ipAt === null || frame.length < ipAt + 20) return null;
  const version = frame[ipAt]! >> 4;
  let src: string;
  let dst: string;
  let tcpAt: number;
  let tcpEnd: number;
  if (version === 4) {
    const ihl = (frame[ipAt]! & 0x0f) * 4;
    const total = frame.readUInt16BE(ipAt + 2);
    if (frame[ipAt + 9] !== 6) return null;
    const frag = frame.readUInt16BE(ipAt + 6);
    if (frag & 0x3fff) return { skip: "IPv4 fragment (not reassembled)" };
    src = `${frame[ipAt + 12]}.${frame[ipAt + 13]}.${frame[ipAt + 14]}.${frame[ipAt + 15]}`;
    dst = `${frame[ipAt + 16]}.${frame[ipAt + 17]}.${frame[ipAt + 18]}.${frame[ipAt + 19]}`;
    tcpAt = ipAt + ihl;
    tcpEnd = Math.min(frame.length, ipAt + (total || frame.length - ipAt));
  } else if (version === 6) {
    if (frame.length < ipAt + 40) return null;
    let next = frame[ipAt + 6]!;
    const payloadLength = frame.readUInt16BE(ipAt + 4);
    src = ipv6Text(frame, ipAt + 8);
    dst = ipv6Text(frame, ipAt + 24);
    tcpAt = ipAt + 40;
    tcpEnd = Math.min(frame.length, ipAt + 40 + (payloadLength || frame.length - ipAt - 40));
    while (next !== 6) {
      if (next === 44) return { skip: "IPv6 fragment (not reassembled)" };
      if (![0, 43, 60].includes(next) || tcpAt + 8 > tcpEnd) return null;
      next = frame[tcpAt]!;
      tcpAt += (frame[tcpAt + 1]! + 1) * 8;
    }
  } else {
    return null;
  }
  if (tcpAt + 20 > tcpEnd) return { skip: "truncated TCP header" };
  const dataOffset = (frame[tcpAt + 12]! >> 4) * 4;
  if (dataOffset < 20 || tcpAt + dataOffset > tcpEnd) return { skip: "bad TCP data offset" };
  return {
    segment: {
      src,
      dst,
      srcPort: frame.readUInt16BE(tcpAt),
      dstPort: frame.readUInt16BE(tcpAt + 2),
      seq: frame.readUInt32BE(tcpAt + 4),
      ack: frame.readUInt32BE(tcpAt + 8),
      flags: frame[tcpAt + 13]!,
      window: frame.readUInt16BE(tcpAt + 14),
      payload: frame.subarray(tcpAt + dataOffset, tcpEnd),
    },
  };
}
