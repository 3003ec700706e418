/**
 * pcapng reader (IETF draft-ietf-opsawg-pcapng): Section Header, Interface Description (with
 * if_tsresol and if_tsoffset), Enhanced, Simple and obsolete Packet blocks, Decryption Secrets blocks
 * (TLS key logs), both byte orders, several sections and interfaces.
 *
 * Hand-written: pcap-parser reads classic pcap only, and the npm pcapng readers are unmaintained or
 * stream-only without timestamp resolution handling. Damage keeps every packet before it.
 */
import { ZtError } from "../errors.ts";
import type { CaptureFile, CapturedPacket } from "./packet.ts";

class PcapngError extends ZtError {}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const OPB = 2;
const SPB = 3;
const EPB = 6;
const DSB = 0x0a;
const TLS_KEY_LOG = 0x544c534b;

interface Interface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second (10^n or 2^n from if_tsresol; 10^6 by default). */
  ticksPerSecond: bigint;
  offsetSeconds: number;
}

export function readPcapng(buf: Buffer, where: string): CaptureFile {
  const packets: CapturedPacket[] = [];
  const keyLog: string[] = [];
  const problems: string[] = [];
  let le = true;
  let interfaces: Interface[] = [];
  let at = 0;
  let lastTime = 0;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));

  while (at < buf.length) {
    if (at + 12 > buf.length) {
      problems.push(`${where}: truncated block header at offset ${at}; ${packets.length} packets kept`);
      break;
    }
    let type = buf.readUInt32LE(at);
    if (type === SHB) {
      const bom = buf.readUInt32LE(at + 8);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else {
        if (at === 0) throw new PcapngError(where, `section header at offset ${at} has no valid byte-order magic`);
        problems.push(`${where}: section header at offset ${at} has a bad byte-order magic; reading stopped`);
        break;
      }
      interfaces = [];
    } else {
      type = u32(at);
    }
    const total = u32(at + 4);
    if (total < 12 || total % 4 !== 0 || at + total > buf.length) {
      if (at === 0) throw new PcapngError(where, "not a pcapng file: bad first block length");
      problems.push(`${where}: block at offset ${at} (type 0x${type.toString(16)}) has length ${total} but ${buf.length - at} bytes remain; ${packets.length} packets kept`);
      break;
    }
    if (u32(at + total - 4) !== total) {
      problems.push(`${where}: block at offset ${at} has mismatched trailing length; reading stopped, ${packets.length} packets kept`);
      break;
    }
    const body = at + 8;
    const end = at + total - 4;
    try {
      if (type === IDB) {
        const iface: Interface = { linkType: u16(body), snapLength: u32(body + 4), ticksPerSecond: 1_000_000n, offsetSeconds: 0 };
        for (let o = body + 8; o + 4 <= end; ) {
          const code = u16(o);
          const len = u16(o + 2);
          if (code === 0) break;
          if (code === 9 && len >= 1) {
            const r = buf[o + 4]!;
            iface.ticksPerSecond = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r);
          } else if (code === 14 && len >= 8) {
            iface.offsetSeconds = Number(le ? buf.readBigInt64LE(o + 4) : buf.readBigInt64BE(o + 4));
          }
          o += 4 + ((len + 3) & ~3);
        }
        interfaces.push(iface);
      } else if (type === EPB || type === OPB) {
        const ifId = type === EPB ? u32(body) : u16(body);
        const iface = interfaces[ifId];
        const tsAt = body + 4;
        const capLen = u32(tsAt + 8);
        if (!iface) {
          problems.push(`${where}: packet block at offset ${at} names interface ${ifId}, which was not described; skipped`);
        } else if (tsAt + 16 + capLen > end) {
          problems.push(`${where}: packet block at offset ${at} claims ${capLen} bytes beyond its block; skipped`);
        } else {
          const ticks = (BigInt(u32(tsAt)) << 32n) | BigInt(u32(tsAt + 4));
          const tps = iface.ticksPerSecond;
          const time = Number(ticks / tps) + Number(ticks % tps) / Number(tps) + iface.offsetSeconds;
          lastTime = time;
          packets.push({ time, linkType: iface.linkType, interfaceId: ifId, data: buf.subarray(tsAt + 16, tsAt + 16 + capLen), fileOffset: at });
        }
      } else if (type === SPB) {
        const iface = interfaces[0];
        if (!iface) problems.push(`${where}: simple packet block at offset ${at} before any interface; skipped`);
        else {
          const capLen = Math.min(u32(body), iface.snapLength || Infinity, end - body - 4);
          packets.push({ time: lastTime, linkType: iface.linkType, interfaceId: 0, data: buf.subarray(body + 4, body + 4 + capLen), fileOffset: at });
        }
      } else if (type === DSB) {
        const secretsType = u32(body);
        const len = u32(body + 4);
        if (secretsType === TLS_KEY_LOG && body + 8 + len <= end) keyLog.push(...buf.toString("utf8", body + 8, body + 8 + len).split(/\r?\n/).filter(Boolean));
      }
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      // A block whose declared length is shorter than its own fixed fields.
      problems.push(`${where}: block at offset ${at} (type 0x${type.toString(16)}) is shorter than its fields; skipped`);
    }
    at += total;
  }
  return { format: "pcapng", packets, keyLog, problems };
}
