/**
 * ATECC508A command and response packets as cryptoauthlib frames them: count (whole packet, CRC
 * included), opcode, param1, param2 (little-endian), data, CRC-16 (polynomial 0x8005, bits fed LSB
 * first, CRC stored little-endian). Host code builds commands with this; the virtual kit's model parses
 * them with the same functions, so both sides agree on the wire format by construction and the tests
 * check it against the datasheet's known answers (the wake response 04 11 33 43).
 */
import { ZtError } from "../errors.ts";

export class AteccPacketError extends ZtError {}

export const OPCODE = { read: 0x02, write: 0x12, nonce: 0x16, lock: 0x17, random: 0x1b, info: 0x30, genKey: 0x40, sign: 0x41, ecdh: 0x43, verify: 0x45, sha: 0x47 } as const;

export const OPCODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OPCODE).map(([k, v]) => [v, k]));

export const STATUS = { success: 0x00, checkMacVerifyMiscompare: 0x01, parseError: 0x03, eccFault: 0x05, selfTestError: 0x07, healthTestError: 0x08, executionError: 0x0f, afterWake: 0x11, crcError: 0xff } as const;

export function crc16(data: Uint8Array): Buffer {
  let crc = 0;
  for (const byte of data) {
    for (let bit = 1; bit <= 0x80; bit <<= 1) {
      const dataBit = byte & bit ? 1 : 0;
      const crcBit = crc >> 15;
      crc = (crc << 1) & 0xffff;
      if (dataBit !== crcBit) crc ^= 0x8005;
    }
  }
  return Buffer.from([crc & 0xff, crc >> 8]);
}

export interface AteccCommand {
  opcode: number;
  param1: number;
  param2: number;
  data: Buffer;
}

export function encodeCommand(c: AteccCommand): Buffer {
  const body = Buffer.alloc(6 + c.data.length);
  body[0] = 7 + c.data.length; // count: itself, opcode, param1, param2 (2), data, CRC (2)
  body[1] = c.opcode;
  body[2] = c.param1;
  body.writeUInt16LE(c.param2, 3);
  c.data.copy(body, 5);
  const framed = body.subarray(0, 5 + c.data.length);
  return Buffer.concat([framed, crc16(framed)]);
}

/** Parse a command packet; a bad count or CRC is reported by the status the chip would return. */
export function decodeCommand(packet: Buffer): AteccCommand | { status: number } {
  if (packet.length < 7 || packet[0] !== packet.length) return { status: STATUS.parseError };
  if (!crc16(packet.subarray(0, packet.length - 2)).equals(packet.subarray(packet.length - 2))) return { status: STATUS.crcError };
  return { opcode: packet[1]!, param1: packet[2]!, param2: packet.readUInt16LE(3), data: Buffer.from(packet.subarray(5, packet.length - 2)) };
}

/** A response packet: count, data, CRC. */
export function encodeResponse(data: Uint8Array): Buffer {
  const head = Buffer.concat([Buffer.from([data.length + 3]), data]);
  return Buffer.concat([head, crc16(head)]);
}

export function statusResponse(status: number): Buffer {
  return encodeResponse(Buffer.from([status]));
}

/** Data of a response packet, checked: a 4-byte packet is a status (thrown unless success). */
export function decodeResponse(packet: Buffer, what = "ATECC response"): Buffer {
  if (packet.length < 4 || packet[0] !== packet.length) throw new AteccPacketError(what, `bad count byte in ${packet.toString("hex")}`);
  if (!crc16(packet.subarray(0, packet.length - 2)).equals(packet.subarray(packet.length - 2))) throw new AteccPacketError(what, `CRC mismatch in ${packet.toString("hex")}`);
  return Buffer.from(packet.subarray(1, packet.length - 2));
}

/** Data-zone address of a slot's 32-byte block (Read/Write param2). */
export function dataAddress(slot: number, block: number, word = 0): number {
  return (block << 8) | (slot << 3) | word;
}

export const ZONE = { config: 0, otp: 1, data: 2, size32: 0x80 } as const;
