/**
 * The device side of the kit protocol (KIT-FACTS §2, firmware kit_protocol_interpreter): a request line
 * `<target>:<command>(<hex>)` in, a reply line `<STATUS>(<HEX>)` out. The target is chosen by its first
 * letter (b board; d, a, e, s device), the command by its first letters, case-insensitively, with an
 * optional device handle `(00)` after the target. `d:t` passes one whole ATECC command packet to the
 * chip; `b:a` carries the JSON application protocol.
 */
import { AteccAsleepError } from "../atecc508a/atecc508a.ts";

export const KIT_STATUS = { success: 0x00, failure: 0x01, commandNotValid: 0x03, notSupported: 0x04, invalidParam: 0xe2, invalidId: 0xe3, invalidSize: 0xe4, commFail: 0xf0 } as const;

export interface KitDevice {
  wake(): Promise<Buffer>;
  idle(): Promise<void>;
  sleep(): Promise<void>;
  execute(packet: Buffer): Promise<Buffer>;
}

export interface KitBoard {
  version: Buffer;
  firmware: Buffer;
  application(json: string): Promise<string>;
}

const reply = (status: number, data: Buffer = Buffer.alloc(0)) => `${status.toString(16).toUpperCase().padStart(2, "0")}(${data.toString("hex").toUpperCase()})`;

function hexData(s: string): Buffer | null {
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) return null;
  return Buffer.from(s, "hex");
}

export async function interpret(line: string, device: KitDevice, board: KitBoard): Promise<string> {
  const m = /^([a-zA-Z]+)(?:\(([0-9a-fA-F]{2})\))?:([a-zA-Z_]+)(?:\(([^)]*)\))?\s*$/.exec(line.trim());
  if (!m) return reply(KIT_STATUS.commandNotValid);
  const target = m[1]!.toLowerCase()[0]!;
  const command = m[3]!.toLowerCase();
  const arg = m[4] ?? "";
  if (target === "b") {
    switch (command[0]) {
      case "v":
        return reply(KIT_STATUS.success, board.version);
      case "f":
        return reply(KIT_STATUS.success, board.firmware);
      case "a": {
        const data = hexData(arg);
        if (!data) return reply(KIT_STATUS.invalidParam);
        return reply(KIT_STATUS.success, Buffer.from(await board.application(data.toString("latin1")), "latin1"));
      }
      case "d":
        if (command[1] === "i") return reply(KIT_STATUS.notSupported);
        return reply(KIT_STATUS.success, Buffer.from("ECC508A", "ascii"));
      case "g":
      case "l":
        return reply(KIT_STATUS.notSupported);
      default:
        return reply(KIT_STATUS.commandNotValid);
    }
  }
  if ("daes".includes(target)) {
    switch (command[0]) {
      case "w":
        return reply(KIT_STATUS.success, await device.wake());
      case "i":
        await device.idle();
        return reply(KIT_STATUS.success);
      case "s":
        if (command[1] === "e") return reply(KIT_STATUS.notSupported);
        await device.sleep();
        return reply(KIT_STATUS.success);
      case "t": {
        const packet = hexData(arg);
        if (!packet || packet.length < 7) return reply(KIT_STATUS.invalidParam);
        try {
          return reply(KIT_STATUS.success, await device.execute(packet));
        } catch (err) {
          if (err instanceof AteccAsleepError) return reply(KIT_STATUS.commFail);
          throw err;
        }
      }
      case "r":
      case "p":
        return reply(KIT_STATUS.notSupported);
      default:
        return reply(KIT_STATUS.commandNotValid);
    }
  }
  return reply(KIT_STATUS.commandNotValid);
}
