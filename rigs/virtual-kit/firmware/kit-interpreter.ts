/**
 * The device side of the kit protocol, ported from firmware v2.2.5's kit_protocol/kit_protocol_interpreter.c
 * (kit_interpreter_handle_message, _parse, _parse_target_section, _parse_command_section,
 * _parse_subcommand_section, _serialize) and kit_protocol_utilities.c, quirks included: the reply is
 * built in the request's own buffer, so
 * - `b:v`, `b:f` and `b:d` and every request that fails to parse come back as the request itself (echo),
 *   and status 03 never reaches the wire;
 * - a NOT_SUPPORTED reply (`04()\n`) keeps the request's length: the bytes after it are the rest of the
 *   request (the host reads to the first `\n`);
 * - the interpreter's data buffer persists between requests (physical:select replies with stale data),
 *   hex digits are not validated (a non-hex digit is nibble 0), fewer than two digits convert to nothing.
 * Hand-written: this is the firmware's own parser, byte for byte; no library models it.
 */
import { hexToBinaryInPlace, MESSAGE_SIZE_MAX } from "./hex.ts";

/** kit_protocol_status.h values that reach the wire. */
export const KIT_STATUS = { success: 0x00, commandNotValid: 0x03, notSupported: 0x04, invalidParam: 0xe2, invalidSize: 0xe4, commFail: 0xf0 } as const;

/** The callbacks provisioning_task.c:kit_protocol_init installs (the others are NULL: NOT_SUPPORTED). */
export interface KitCallbacks {
  /** kit_board_application: JSON text in (up to the first NUL), JSON text out. */
  boardApplication(json: Buffer): Promise<Buffer>;
  deviceIdle(): Promise<number>;
  deviceSleep(): Promise<number>;
  deviceWake(): Promise<number>;
  /** kit_device_talk: the request's binary data in; status and, on success, the response packet. */
  deviceTalk(data: Buffer): Promise<{ status: number; response?: Buffer }>;
  /** The I2C address the board commands print (0xB0 once configured). */
  deviceAddress: number;
}

const CMD = {
  unknown: 0,
  board: 1,
  device: 2,
  boardVersion: 3,
  boardFirmware: 4,
  boardGetDevice: 5,
  boardDiscover: 6,
  boardGetDevices: 7,
  boardGetLastError: 8,
  boardApplication: 9,
  physical: 10,
  physicalSelect: 11,
  deviceIdle: 12,
  deviceSleep: 13,
  deviceSend: 14,
  deviceWake: 15,
  deviceReceive: 16,
  deviceTalk: 17,
} as const;

const NL = 0x0a;
const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

/** A C string view: the bytes up to the first NUL. */
function cstr(b: Buffer): Buffer {
  const z = b.indexOf(0);
  return z < 0 ? b : b.subarray(0, z);
}

export class KitInterpreter {
  /** g_message_data: persists from one request to the next, as the firmware's static buffer does. */
  private data = Buffer.alloc(MESSAGE_SIZE_MAX);
  private length = 0;
  private command: number = CMD.unknown;
  private deviceHandle = 0;

  constructor(private readonly cb: KitCallbacks) {}

  /**
   * kit_interpreter_handle_message: `message` is the USB message buffer (the request including its `\n`);
   * returns the bytes the firmware sends back (usb_send_response_message of the same buffer).
   */
  async handle(message: Buffer): Promise<Buffer> {
    const buf = Buffer.alloc(MESSAGE_SIZE_MAX);
    message.copy(buf, 0, 0, Math.min(message.length, MESSAGE_SIZE_MAX - 1));
    let responseLength = message.length;
    const text = cstr(buf);
    if (text.lastIndexOf(NL) < 0) return buf.subarray(0, responseLength); // not complete: echo
    if (!this.parse(text)) return buf.subarray(0, responseLength); // parse failure: echo
    let status: number = KIT_STATUS.success;
    switch (this.command) {
      case CMD.boardVersion:
        this.setMessage(`AWS IoT Zero Touch Demo ECCx08A TWI(${hex2(this.cb.deviceAddress)})\n`);
        break;
      case CMD.boardFirmware:
        this.setMessage("AWS IoT Zero Touch Demo v2.2.5\n");
        break;
      case CMD.boardGetDevice:
        this.setMessage(`ECCx08A TWI(${hex2(this.cb.deviceAddress)})\n`);
        break;
      case CMD.boardApplication: {
        const json = await this.cb.boardApplication(cstr(this.data));
        this.data.fill(0);
        json.copy(this.data, 0, 0, Math.min(json.length, MESSAGE_SIZE_MAX));
        this.length = json.length;
        break;
      }
      case CMD.deviceIdle:
        status = await this.cb.deviceIdle();
        break;
      case CMD.deviceSleep:
        status = await this.cb.deviceSleep();
        break;
      case CMD.deviceWake:
        status = await this.cb.deviceWake();
        break;
      case CMD.deviceTalk: {
        // kit_device_talk: packets over sizeof(ATCAPacket)-1 = 198 bytes are refused before the chip.
        if (this.length > 198) {
          status = KIT_STATUS.invalidSize;
          break;
        }
        const r = await this.cb.deviceTalk(Buffer.from(this.data.subarray(0, this.length)));
        status = r.status;
        if (r.response) {
          r.response.copy(this.data, 0);
          this.length = r.response.length;
        }
        break;
      }
      case CMD.boardGetDevices:
      case CMD.boardDiscover:
      case CMD.boardGetLastError:
      case CMD.deviceReceive:
      case CMD.deviceSend:
        status = KIT_STATUS.notSupported; // NULL callbacks in kit_protocol_init
        break;
      default:
        break; // physical:select has no callback: success with whatever the data buffer holds
    }
    if (status === KIT_STATUS.notSupported) {
      this.length = 0;
      this.data.fill(0);
    }
    if (this.command === CMD.boardVersion || this.command === CMD.boardFirmware || this.command === CMD.boardGetDevice) return buf.subarray(0, responseLength);
    // kit_interpreter_serialize
    let reply: Buffer;
    if (status !== KIT_STATUS.notSupported) {
      const hex = this.data.subarray(0, this.length).toString("hex").toUpperCase();
      this.data.fill(0, 0, Math.min(MESSAGE_SIZE_MAX, hex.length + 1));
      this.data.write(hex, 0, "latin1");
      this.length = hex.length;
      reply = Buffer.from(`${hex2(status)}(${hex})\n`, "latin1");
      responseLength = reply.length;
    } else {
      // sprintf("%02X()\n") into the request buffer; *response_length is left as the request's length.
      reply = Buffer.from(`${hex2(status)}()\n\0`, "latin1");
    }
    reply.copy(buf, 0, 0, Math.min(reply.length, MESSAGE_SIZE_MAX));
    return buf.subarray(0, responseLength);
  }

  private setMessage(s: string): void {
    this.data.fill(0);
    this.data.write(s, 0, "latin1");
    this.length = s.length;
  }

  /** kit_interpreter_parse over the request as a C string; false = KIT_STATUS_COMMAND_NOT_VALID. */
  private parse(msg: Buffer): boolean {
    const colon = msg.indexOf(0x3a);
    if (colon < 0) return false;
    const target = Buffer.from(msg.subarray(0, Math.min(MESSAGE_SIZE_MAX, colon + 1)));
    if (!this.parseTarget(target)) return false;
    const rest = msg.subarray(colon + 1);
    let end = rest.indexOf(0x3a);
    if (end < 0) end = rest.indexOf(NL);
    if (end < 0) return false;
    const section = Buffer.from(rest.subarray(0, end + 1));
    if (!this.parseCommand(section)) return false;
    if (this.command === CMD.physical) {
      const sub = rest.subarray(end + 1);
      const nl = sub.indexOf(NL);
      if (nl <= 0) return false;
      if (!this.parseSubcommand(Buffer.from(sub.subarray(0, nl)))) return false;
    }
    this.length = hexToBinaryInPlace(this.data, this.length);
    return true;
  }

  private parseTarget(section: Buffer): boolean {
    for (let i = 0; i < section.length; i++) section[i] = lower(section[i]!);
    const t = String.fromCharCode(section[0]!);
    if (t === "b") this.command = CMD.board;
    else if ("aesd".includes(t)) this.command = CMD.device;
    else {
      this.command = CMD.unknown;
      return false;
    }
    const begin = section.indexOf(0x28);
    if (begin >= 0) {
      let end = section.indexOf(0x29);
      if (end < 0) end = begin + 8;
      if (end - (begin + 1) !== 8) return false;
      this.deviceHandle = parseInt(section.subarray(begin + 1, begin + 9).toString("latin1"), 16) || 0;
    }
    return true;
  }

  private parseCommand(section: Buffer): boolean {
    let begin = section.indexOf(0x28);
    if (begin < 0) begin = section.indexOf(0x3a);
    if (begin < 0) return false;
    for (let i = 0; i < begin; i++) section[i] = lower(section[i]!);
    const c0 = String.fromCharCode(section[0]!);
    const c1 = String.fromCharCode(section[1] ?? 0);
    if (this.command === CMD.board) {
      this.command =
        c0 === "v" ? CMD.boardVersion
        : c0 === "f" ? CMD.boardFirmware
        : c0 === "d" ? (c1 === "i" ? CMD.boardDiscover : CMD.boardGetDevice)
        : c0 === "g" ? CMD.boardGetDevices
        : c0 === "l" ? CMD.boardGetLastError
        : c0 === "a" ? CMD.boardApplication
        : CMD.unknown;
    } else if (this.command === CMD.device) {
      this.command =
        c0 === "p" ? CMD.physical
        : c0 === "i" ? CMD.deviceIdle
        : c0 === "s" ? (c1 === "e" ? CMD.deviceSend : CMD.deviceSleep)
        : c0 === "w" ? CMD.deviceWake
        : c0 === "r" ? CMD.deviceReceive
        : c0 === "t" ? CMD.deviceTalk
        : CMD.unknown;
    }
    if (this.command === CMD.unknown) return false;
    if (this.command === CMD.physical) return true;
    const end = section.indexOf(0x29, begin + 1);
    if (end < 0) return false;
    this.data.fill(0);
    const inner = section.subarray(begin + 1, end);
    inner.copy(this.data, 0, 0, cstr(inner).length);
    this.length = end - (begin + 1);
    return true;
  }

  private parseSubcommand(section: Buffer): boolean {
    const begin = section.indexOf(0x28);
    if (begin < 0) return false;
    this.command = lower(section[0]!) === 0x73 ? CMD.physicalSelect : CMD.unknown;
    if (this.command !== CMD.physicalSelect) return true; // the firmware lets an unknown subcommand through
    const end = section.indexOf(0x29, begin + 1);
    if (end < 0 || end - (begin + 1) !== 2) return false;
    this.deviceHandle = parseInt(section.subarray(begin + 1, end).toString("latin1"), 16) || 0;
    return true;
  }

  /** The device handle selected by `d(XXXXXXXX):` or physical:select (the kit has one device). */
  get selectedHandle(): number {
    return this.deviceHandle;
  }
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
