/**
 * Reading capture files: classic pcap through pcap-parser, pcapng through pcapng.ts. The format is
 * decided by the magic number, not the file name. A file that is not a capture at all is a
 * CaptureError; a truncated or damaged tail keeps every packet before it and is listed in `problems`.
 *
 * pcap-parser knows only the microsecond magic; the nanosecond variant (a1b23c4d) differs in nothing
 * but the unit of the fraction, so its magic is rewritten for the parser and the fraction rescaled.
 */
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import pcapParser from "pcap-parser";
import { ZtError } from "../errors.ts";
import type { CaptureFile, CapturedPacket } from "./packet.ts";
import { readPcapng } from "./pcapng.ts";

export class CaptureError extends ZtError {}

interface ParserPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}

const NANO_MAGICS = new Set(["a1b23c4d", "4d3cb2a1"]);

/** Parse a classic pcap held in memory. */
export function readPcap(buf: Buffer, where: string): Promise<CaptureFile> {
  const magic = buf.toString("hex", 0, 4);
  const nano = NANO_MAGICS.has(magic);
  const input = nano ? Buffer.concat([Buffer.from(magic === "a1b23c4d" ? "a1b2c3d4" : "d4c3b2a1", "hex"), buf.subarray(4)]) : buf;
  const fraction = nano ? 1e-9 : 1e-6;
  return new Promise((resolve, reject) => {
    const packets: CapturedPacket[] = [];
    const problems: string[] = [];
    let linkType = -1;
    let offset = 24;
    let headerSeen = false;
    let snapLength = 0;
    const parser = pcapParser.parse(Readable.from([input]));
    parser.on("globalHeader", (h: { linkLayerType: number; snapshotLength: number }) => {
      headerSeen = true;
      linkType = h.linkLayerType;
      snapLength = h.snapshotLength;
    });
    parser.on("packet", (p: ParserPacket) => {
      const len = p.header.capturedLength;
      if (len > Math.max(snapLength, 262144) || len !== p.data.length) {
        problems.push(`${where}: packet ${packets.length + 1} at offset ${offset} claims ${len} captured bytes; reading stopped there`);
        parser.removeAllListeners("packet");
        return;
      }
      packets.push({ time: p.header.timestampSeconds + p.header.timestampMicroseconds * fraction, linkType, interfaceId: 0, data: p.data, fileOffset: offset });
      offset += 16 + len;
    });
    parser.on("error", (err: Error) => {
      if (!headerSeen) reject(new CaptureError(where, `not a pcap file: ${err.message}`));
      else problems.push(`${where}: ${err.message}`);
    });
    parser.on("end", () => {
      if (!headerSeen) return reject(new CaptureError(where, buf.length < 24 ? "too short for a pcap header" : "not a pcap file"));
      if (offset < buf.length && !problems.length) problems.push(`${where}: truncated packet record at offset ${offset} (${buf.length - offset} trailing bytes); ${packets.length} packets kept`);
      resolve({ format: "pcap", packets, keyLog: [], problems });
    });
  });
}

/** Read a pcap or pcapng file. */
export async function readCaptureFile(file: string): Promise<CaptureFile> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new CaptureError(file, `cannot read capture: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseCapture(buf, file);
}

export async function parseCapture(buf: Buffer, where: string): Promise<CaptureFile> {
  if (buf.length < 4) throw new CaptureError(where, "too short to be a capture file");
  const magic = buf.toString("hex", 0, 4);
  if (magic === "0a0d0d0a") return readPcapng(buf, where);
  if (["a1b2c3d4", "d4c3b2a1", "a1b23c4d", "4d3cb2a1"].includes(magic)) return readPcap(buf, where);
  throw new CaptureError(where, `not a pcap or pcapng file (magic ${magic})`);
}
