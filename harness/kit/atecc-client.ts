/**
 * ATECC508A operations as cryptoauthlib's atcab_* calls do them (wake, one command, idle), over any
 * port that carries raw command packets: the virtual kit's firmware (through its cryptoauthlib calls)
 * and the chip model's own tests. (A v2.2.5 kit offers a host no such port: its `d:t` never reaches
 * the chip.) A non-zero status is an AteccStatusError naming the command and the status.
 * One client serializes its operations (as the firmware's mutex does): a wake…idle sequence is never
 * interleaved with another operation of the same client.
 */
import { ZtError } from "../errors.ts";
import { dataAddress, decodeResponse, encodeCommand, OPCODE, OPCODE_NAMES, STATUS, ZONE } from "./atecc-packet.ts";

/** A byte link to the chip: wake token, command packet in → response packet out, idle/sleep. */
export interface AteccPort {
  wake(): Promise<Buffer>;
  talk(packet: Buffer): Promise<Buffer>;
  idle(): Promise<void>;
}

export class AteccStatusError extends ZtError {
  constructor(
    readonly command: string,
    readonly status: number,
  ) {
    super(`ATECC ${command}`, `status 0x${status.toString(16).padStart(2, "0")}${STATUS_NAMES[status] ? ` (${STATUS_NAMES[status]})` : ""}`);
  }
}

const STATUS_NAMES: Record<number, string> = { 0x01: "verify miscompare", 0x03: "parse error", 0x05: "ECC fault", 0x07: "self-test error", 0x0f: "execution error", 0x11: "after wake", 0xff: "CRC error" };

export const WAKE_OK = "04113343";

export class AteccClient {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly port: AteccPort) {}

  /** Run `fn` with this client's exclusive use of the chip (cryptoauthlib is not reentrant). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One command with cryptoauthlib's wake/idle around it; returns the response data. */
  command(opcode: number, param1: number, param2: number, data: Buffer = Buffer.alloc(0)): Promise<Buffer> {
    return this.exclusive(() => this.commandNow(opcode, param1, param2, data));
  }

  private async commandNow(opcode: number, param1: number, param2: number, data: Buffer): Promise<Buffer> {
    const name = OPCODE_NAMES[opcode] ?? `0x${opcode.toString(16)}`;
    const wake = await this.port.wake();
    if (wake.toString("hex") !== WAKE_OK) throw new AteccStatusError(`${name} (wake)`, wake[1] ?? 0xff);
    try {
      const res = decodeResponse(await this.port.talk(encodeCommand({ opcode, param1, param2, data })), `ATECC ${name} response`);
      if (res.length === 1 && res[0] !== STATUS.success) throw new AteccStatusError(name, res[0]!);
      return res;
    } finally {
      await this.port.idle();
    }
  }

  info(): Promise<Buffer> {
    return this.command(OPCODE.info, 0, 0);
  }

  random(): Promise<Buffer> {
    return this.command(OPCODE.random, 0, 0);
  }

  async read(zone: number, address: number, size: 4 | 32): Promise<Buffer> {
    return this.command(OPCODE.read, zone | (size === 32 ? ZONE.size32 : 0), address);
  }

  /** `length` bytes of a data slot from offset 0: 32-byte blocks, then 4-byte words for the tail. */
  async readSlot(slot: number, length: number): Promise<Buffer> {
    const out: Buffer[] = [];
    let at = 0;
    for (; at + 32 <= length; at += 32) out.push(await this.read(ZONE.data, dataAddress(slot, at / 32), 32));
    for (; at < length; at += 4) out.push(await this.read(ZONE.data, dataAddress(slot, Math.floor(at / 32), (at % 32) / 4), 4));
    return Buffer.concat(out).subarray(0, length);
  }

  /**
   * Write `data` to a data slot from offset 0, as atcab_write_bytes_zone does: whole 32-byte blocks,
   * then 4-byte words for the tail (zero-padded to a word), so 72-byte slots are written exactly.
   */
  async writeSlot(slot: number, data: Buffer): Promise<void> {
    const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
    let at = 0;
    for (; at + 32 <= padded.length; at += 32) await this.command(OPCODE.write, ZONE.data | ZONE.size32, dataAddress(slot, at / 32), padded.subarray(at, at + 32));
    for (; at < padded.length; at += 4) await this.command(OPCODE.write, ZONE.data, dataAddress(slot, Math.floor(at / 32), (at % 32) / 4), padded.subarray(at, at + 4));
  }

  async configZone(): Promise<Buffer> {
    const out: Buffer[] = [];
    for (let block = 0; block < 4; block++) out.push(await this.read(ZONE.config, block << 3, 32));
    return Buffer.concat(out);
  }

  async serialNumber(): Promise<Buffer> {
    const c = await this.read(ZONE.config, 0, 32);
    return Buffer.concat([c.subarray(0, 4), c.subarray(8, 13)]);
  }

  /** Public key (X‖Y) of a private key slot; `create` makes a new key first. */
  genKey(slot: number, create = false): Promise<Buffer> {
    return this.command(OPCODE.genKey, create ? 0x04 : 0x00, slot);
  }

  /** Sign a 32-byte digest with a slot's key (Nonce pass-through, then Sign external). Raw R‖S. */
  sign(slot: number, digest: Buffer): Promise<Buffer> {
    return this.exclusive(() => this.signNow(slot, digest));
  }

  private async signNow(slot: number, digest: Buffer): Promise<Buffer> {
    const wake = await this.port.wake();
    if (wake.toString("hex") !== WAKE_OK) throw new AteccStatusError("sign (wake)", wake[1] ?? 0xff);
    try {
      await this.talkChecked("nonce", encodeCommand({ opcode: OPCODE.nonce, param1: 0x03, param2: 0, data: digest }));
      return await this.talkChecked("sign", encodeCommand({ opcode: OPCODE.sign, param1: 0x80, param2: slot, data: Buffer.alloc(0) }));
    } finally {
      await this.port.idle();
    }
  }

  /** Verify a P-256 signature (raw R‖S) of a digest against an external public key (X‖Y). */
  verify(digest: Buffer, signature: Buffer, publicKey: Buffer): Promise<boolean> {
    return this.exclusive(() => this.verifyNow(digest, signature, publicKey));
  }

  private async verifyNow(digest: Buffer, signature: Buffer, publicKey: Buffer): Promise<boolean> {
    const wake = await this.port.wake();
    if (wake.toString("hex") !== WAKE_OK) throw new AteccStatusError("verify (wake)", wake[1] ?? 0xff);
    try {
      await this.talkChecked("nonce", encodeCommand({ opcode: OPCODE.nonce, param1: 0x03, param2: 0, data: digest }));
      const res = decodeResponse(await this.port.talk(encodeCommand({ opcode: OPCODE.verify, param1: 0x02, param2: 0x0004, data: Buffer.concat([signature, publicKey]) })));
      if (res.length === 1 && res[0] === STATUS.checkMacVerifyMiscompare) return false;
      if (res.length === 1 && res[0] !== STATUS.success) throw new AteccStatusError("verify", res[0]!);
      return true;
    } finally {
      await this.port.idle();
    }
  }

  /** ECDH of a slot's private key with a peer public key (X‖Y): the 32-byte shared secret. */
  ecdh(slot: number, publicKey: Buffer): Promise<Buffer> {
    return this.command(OPCODE.ecdh, 0x00, slot, publicKey);
  }

  /** SHA-256 computed by the chip (start, 64-byte updates, end). */
  sha256(data: Buffer): Promise<Buffer> {
    return this.exclusive(() => this.sha256Now(data));
  }

  private async sha256Now(data: Buffer): Promise<Buffer> {
    const wake = await this.port.wake();
    if (wake.toString("hex") !== WAKE_OK) throw new AteccStatusError("sha (wake)", wake[1] ?? 0xff);
    try {
      await this.talkChecked("sha start", encodeCommand({ opcode: OPCODE.sha, param1: 0x00, param2: 0, data: Buffer.alloc(0) }));
      let at = 0;
      for (; data.length - at >= 64; at += 64) await this.talkChecked("sha update", encodeCommand({ opcode: OPCODE.sha, param1: 0x01, param2: 64, data: data.subarray(at, at + 64) }));
      return await this.talkChecked("sha end", encodeCommand({ opcode: OPCODE.sha, param1: 0x02, param2: data.length - at, data: data.subarray(at) }));
    } finally {
      await this.port.idle();
    }
  }

  private async talkChecked(name: string, packet: Buffer): Promise<Buffer> {
    const res = decodeResponse(await this.port.talk(packet), `ATECC ${name} response`);
    if (res.length === 1 && res[0] !== STATUS.success) throw new AteccStatusError(name, res[0]!);
    return res;
  }
}
