/**
 * The ATECC508A as the kit's firmware and host see it: command packets in, response packets out, with
 * the kit's configuration and access rules, wake/idle/sleep and the watchdog, and execution times from
 * a timing profile. Private keys are generated inside and no command returns them: Read of a secret
 * slot answers an execution error, exactly as the chip does.
 *
 * Non-volatile state (config, OTP, data slots, locks) lives in one file per rig, replaced atomically
 * (write temporary, fsync, rename) after every NVM change, so a power cut during a write leaves the
 * old or the new content. Volatile state (TempKey, SHA context, awake) is lost on sleep or power off.
 */
import { createECDH, createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { p256 } from "@noble/curves/nist.js";
import { decodeCommand, encodeResponse, OPCODE, STATUS, statusResponse, ZONE } from "../../../harness/kit/atecc-packet.ts";
import { removeStaleTemps, writeFileAtomic } from "../../../harness/atomic-file.ts";
import { ZtError } from "../../../harness/errors.ts";
import { genKeyAllowed, isPrivateKeySlot, isSecret, KEY_SLOTS, kitConfigZone, readKeyBits, SLOT_SIZES, writableInClear } from "./kit-config.ts";
import type { BusTrace } from "./bus-trace.ts";
import { executionMs, type TimingProfile } from "./timing.ts";

/** The chip's answer to a wake token: status 0x11 "after wake" (with its CRC). */
export const WAKE_RESPONSE = Buffer.from([0x04, 0x11, 0x33, 0x43]);
/** Power-on self-test failure, byte for byte as cryptoauthlib's hal_check_wake compares it. */
export const SELFTEST_FAIL_RESPONSE = Buffer.from([0x04, 0x07, 0xc4, 0x40]);
export const WATCHDOG_MS = 1300;

export class AteccAsleepError extends ZtError {}

interface Nvm {
  config: string;
  otp: string;
  slots: string[];
  configLocked: boolean;
  dataLocked: boolean;
}

export interface AteccFaults {
  /** Multiply every execution time. */
  slowFactor: number;
  /** Corrupt the CRC of the next N responses. */
  crcErrors: number;
  /** Answer the next N wakes with a self-test failure. */
  wakeFailures: number;
}

export class Atecc508a {
  private nvm: Nvm;
  private mode: "asleep" | "idle" | "awake" = "asleep";
  private awakeSince = 0;
  /** The chip's I/O buffer: what a read on the bus returns (the wake status, then each response). */
  private output: Buffer = Buffer.alloc(0);
  /** Supply on or off; each power-on is a new epoch (commands of an earlier one are refused). */
  powered = false;
  powerEpoch = 0;
  private tempKey: Buffer | null = null;
  private sha: ReturnType<typeof createHash> | null = null;
  readonly faults: AteccFaults = { slowFactor: 1, crcErrors: 0, wakeFailures: 0 };
  /** Called with each command's opcode as it starts executing (the twin's fault hooks; not a chip behaviour). */
  onCommand: ((opcode: number) => void) | null = null;
  /** Where the chip's bus traffic is recorded while a bus capture runs (null: not recording). */
  trace: BusTrace | null = null;

  /** `stateFile` null: NVM in memory (lost with the process). */
  constructor(
    private readonly stateFile: string | null,
    public timing: TimingProfile = "datasheet",
    private readonly now: () => number = () => performance.now(),
  ) {
    this.nvm = this.load() ?? this.factory();
  }

  private factory(): Nvm {
    const sn = Buffer.concat([Buffer.from([0x01, 0x23]), randomBytes(6), Buffer.from([0xee])]);
    const slots = SLOT_SIZES.map((size) => Buffer.alloc(size));
    for (const slot of KEY_SLOTS) this.newKey(slots[slot]!);
    const nvm: Nvm = { config: kitConfigZone(sn).toString("hex"), otp: Buffer.alloc(64).toString("hex"), slots: slots.map((s) => s.toString("hex")), configLocked: true, dataLocked: true };
    this.nvm = nvm;
    this.persist();
    return nvm;
  }

  private load(): Nvm | null {
    if (!this.stateFile) return null;
    removeStaleTemps(this.stateFile);
    try {
      return JSON.parse(readFileSync(this.stateFile, "utf8")) as Nvm;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new ZtError(this.stateFile, `ATECC508A state cannot be read: ${(err as Error).message}`);
    }
  }

  private persist(): void {
    if (this.stateFile) writeFileAtomic(this.stateFile, JSON.stringify(this.nvm));
  }

  private newKey(slot: Buffer): void {
    // ECDH's key generation, not generateKeyPairSync + a JWK export: on Node 20 the latter can deadlock
    // (the export holds the key's mutex while GC destroys the key job, which takes the same mutex).
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    const d = ecdh.getPrivateKey();
    slot.fill(0);
    d.copy(slot, 4 + 32 - d.length); // private keys are stored after 4 bytes of padding; big-endian, leading zeros dropped by getPrivateKey
  }

  private get config(): Buffer {
    return Buffer.from(this.nvm.config, "hex");
  }

  private slot(n: number): Buffer {
    return Buffer.from(this.nvm.slots[n]!, "hex");
  }

  private setSlot(n: number, b: Buffer): void {
    this.nvm.slots[n] = b.toString("hex");
  }

  private privateKey(n: number): Buffer {
    return this.slot(n).subarray(4, 36);
  }

  /** Wake token: returns the chip's 4-byte answer. */
  wake(): Buffer {
    if (!this.powered) throw new AteccAsleepError("ATECC508A", "no power");
    if (this.faults.wakeFailures > 0) {
      this.faults.wakeFailures--;
      this.output = SELFTEST_FAIL_RESPONSE;
      this.trace?.wake(SELFTEST_FAIL_RESPONSE);
      return SELFTEST_FAIL_RESPONSE;
    }
    this.isAwake(); // lets the watchdog put an awake chip to sleep first
    if (this.mode === "asleep") {
      this.tempKey = null;
      this.sha = null;
    }
    this.mode = "awake";
    this.awakeSince = this.now();
    this.output = WAKE_RESPONSE;
    this.trace?.wake(WAKE_RESPONSE);
    return WAKE_RESPONSE;
  }

  /** A read of the I/O buffer without a command before it (an awake chip ACKs its address). */
  readOutput(): Buffer {
    if (!this.isAwake()) {
      this.trace?.nack();
      throw new AteccAsleepError("ATECC508A", "the chip does not acknowledge (not awake)");
    }
    this.trace?.emptyCommand(this.output);
    return this.output;
  }

  private isAwake(): boolean {
    if (this.mode !== "awake") return false;
    if (this.now() - this.awakeSince > WATCHDOG_MS) {
      this.goToSleep();
      return false;
    }
    return true;
  }

  /** Idle keeps TempKey; the watchdog stops until the next wake. False: no ACK (not awake). */
  idle(): boolean {
    const acked = this.isAwake();
    this.trace?.wordAddress(0x02, acked);
    if (acked) this.mode = "idle";
    return acked;
  }

  /** Sleep loses TempKey and the SHA context. False: no ACK (not awake). */
  sleep(): boolean {
    const acked = this.isAwake();
    this.trace?.wordAddress(0x01, acked);
    this.goToSleep();
    return acked;
  }

  private goToSleep(): void {
    this.mode = "asleep";
    this.tempKey = null;
    this.sha = null;
  }

  /** Power applied: the chip starts asleep. */
  powerOn(): void {
    if (this.powered) return;
    this.powered = true;
    this.powerEpoch++;
    this.goToSleep();
  }

  /** Power removed: everything volatile is gone; NVM stays. */
  powerOff(): void {
    this.powered = false;
    this.goToSleep();
  }

  /** The chip's serial number (config bytes 0–3 and 8–12). */
  get serialNumber(): Buffer {
    const c = this.config;
    return Buffer.concat([c.subarray(0, 4), c.subarray(8, 13)]);
  }

  /**
   * Execute one command packet; resolves with the whole response packet after the execution time.
   * Rejects with AteccAsleepError when the chip is not awake (no ACK on the bus).
   */
  async execute(packet: Buffer): Promise<Buffer> {
    if (!this.isAwake()) {
      this.trace?.nack();
      throw new AteccAsleepError("ATECC508A", "the chip is asleep (wake it first; the watchdog sends it to sleep 1.3 s after wake)");
    }
    const startedAt = performance.now();
    const cmd = decodeCommand(packet);
    if ("opcode" in cmd) this.onCommand?.(cmd.opcode);
    let response: Buffer;
    let opcode = -1;
    if ("status" in cmd) response = statusResponse(cmd.status);
    else {
      opcode = cmd.opcode;
      response = this.run(cmd.opcode, cmd.param1, cmd.param2, cmd.data);
    }
    const ms = opcode >= 0 ? executionMs(this.timing, opcode) * this.faults.slowFactor : 0;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    if (!this.powered) throw new AteccAsleepError("ATECC508A", "no power");
    if (this.faults.crcErrors > 0) {
      this.faults.crcErrors--;
      response = Buffer.from(response);
      response[response.length - 1]! ^= 0xff;
    }
    this.output = response;
    this.trace?.command(packet, ms, response, startedAt);
    return response;
  }

  private run(opcode: number, p1: number, p2: number, data: Buffer): Buffer {
    const err = (s: number = STATUS.executionError) => statusResponse(s);
    switch (opcode) {
      case OPCODE.info:
        return p1 === 0 ? encodeResponse(Buffer.from([0x00, 0x00, 0x50, 0x00])) : err(STATUS.parseError);
      case OPCODE.random:
        return encodeResponse(this.nvm.dataLocked ? randomBytes(32) : Buffer.from("ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000", "hex"));
      case OPCODE.nonce: {
        const mode = p1 & 0x03;
        if (mode === 0x03) {
          if (data.length !== 32) return err(STATUS.parseError);
          this.tempKey = Buffer.from(data);
          return statusResponse(STATUS.success);
        }
        if (mode > 1 || data.length !== 20) return err(STATUS.parseError);
        const rand = randomBytes(32);
        this.tempKey = createHash("sha256").update(Buffer.concat([rand, data, Buffer.from([0x16, mode, 0x00])])).digest();
        return encodeResponse(rand);
      }
      case OPCODE.genKey: {
        const slot = p2;
        if (slot > 15 || !isPrivateKeySlot(this.config, slot)) return err();
        if (p1 & 0x04) {
          if (!genKeyAllowed(this.config, slot)) return err();
          const b = this.slot(slot);
          this.newKey(b);
          this.setSlot(slot, b);
          this.persist();
        } else if (p1 !== 0x00) return err(STATUS.parseError);
        return encodeResponse(Buffer.from(p256.getPublicKey(this.privateKey(slot), false)).subarray(1));
      }
      case OPCODE.sign: {
        const slot = p2;
        if (!(p1 & 0x80)) return err(STATUS.parseError); // internal signing (GenDig-based) is not modelled
        if (!this.tempKey) return err();
        if (slot > 15 || !isPrivateKeySlot(this.config, slot) || !(readKeyBits(this.config, slot) & 0x01)) return err();
        const sig = p256.sign(this.tempKey, this.privateKey(slot), { prehash: false, lowS: false });
        this.tempKey = null;
        return encodeResponse(Buffer.from(sig));
      }
      case OPCODE.verify: {
        if ((p1 & 0x07) !== 0x02 || p2 !== 0x0004 || data.length !== 128) return err(STATUS.parseError);
        if (!this.tempKey) return err();
        let ok: boolean;
        try {
          ok = p256.verify(data.subarray(0, 64), this.tempKey, Buffer.concat([Buffer.from([0x04]), data.subarray(64)]), { prehash: false, lowS: false });
        } catch {
          ok = false;
        }
        this.tempKey = null;
        return statusResponse(ok ? STATUS.success : STATUS.checkMacVerifyMiscompare);
      }
      case OPCODE.ecdh: {
        const slot = p2;
        if (data.length !== 64) return err(STATUS.parseError);
        if (slot > 15 || !isPrivateKeySlot(this.config, slot) || !(readKeyBits(this.config, slot) & 0x04)) return err();
        const ecdh = createECDH("prime256v1");
        ecdh.setPrivateKey(this.privateKey(slot));
        let secret: Buffer;
        try {
          secret = ecdh.computeSecret(Buffer.concat([Buffer.from([0x04]), data]));
        } catch {
          return err(STATUS.eccFault);
        }
        if (readKeyBits(this.config, slot) & 0x08) {
          // The secret goes to slot N|1 and never out of the chip.
          const target = slot | 1;
          const b = this.slot(target);
          secret.copy(b, 0);
          this.setSlot(target, b);
          this.persist();
          return statusResponse(STATUS.success);
        }
        return encodeResponse(secret);
      }
      case OPCODE.sha: {
        const mode = p1 & 0x07;
        if (mode === 0x00) {
          this.sha = createHash("sha256");
          return statusResponse(STATUS.success);
        }
        if (!this.sha) return err();
        if (mode === 0x01) {
          if (data.length !== 64) return err(STATUS.parseError);
          this.sha.update(data);
          return statusResponse(STATUS.success);
        }
        if (mode === 0x02) {
          if (data.length > 63) return err(STATUS.parseError);
          const digest = this.sha.update(data).digest();
          this.sha = null;
          return encodeResponse(digest);
        }
        return err(STATUS.parseError);
      }
      case OPCODE.read:
        return this.read(p1, p2);
      case OPCODE.write:
        return this.write(p1, p2, data);
      case OPCODE.lock:
        return err(); // both zones are locked in the kit
      default:
        return err(STATUS.parseError);
    }
  }

  private locate(zone: number, addr: number, size: number): { buf: Buffer; offset: number; slot?: number } | null {
    if (zone === ZONE.config || zone === ZONE.otp) {
      const offset = ((addr >> 3) & 0x03) * 32 + (size === 4 ? (addr & 0x07) * 4 : 0);
      const buf = zone === ZONE.config ? this.config : Buffer.from(this.nvm.otp, "hex");
      return offset + size <= buf.length ? { buf, offset } : null;
    }
    if (zone === ZONE.data) {
      const slot = (addr >> 3) & 0x0f;
      const offset = ((addr >> 8) & 0x0f) * 32 + (size === 4 ? (addr & 0x07) * 4 : 0);
      const buf = this.slot(slot);
      // A 32-byte access to the last, partial block of a slot is accepted (cryptoauthlib's pubkey and
      // atcacert helpers rely on it for the 72-byte slots): reads past the end give 0x00, writes past
      // it are dropped [inferred: the datasheet does not say what those bytes are].
      return offset < buf.length && (offset + size <= buf.length || size === 32) ? { buf, offset, slot } : null;
    }
    return null;
  }

  private read(p1: number, addr: number): Buffer {
    const size = p1 & ZONE.size32 ? 32 : 4;
    const zone = p1 & 0x03;
    const at = this.locate(zone, addr, size);
    if (!at) return statusResponse(STATUS.parseError);
    if (zone === ZONE.data && (!this.nvm.dataLocked || isSecret(this.config, at.slot!))) return statusResponse(STATUS.executionError);
    const out = Buffer.alloc(size);
    at.buf.copy(out, 0, at.offset, Math.min(at.buf.length, at.offset + size));
    return encodeResponse(out);
  }

  private write(p1: number, addr: number, data: Buffer): Buffer {
    const size = p1 & ZONE.size32 ? 32 : 4;
    const zone = p1 & 0x03;
    if (data.length !== size) return statusResponse(STATUS.parseError);
    const at = this.locate(zone, addr, size);
    if (!at) return statusResponse(STATUS.parseError);
    if (zone === ZONE.config && this.nvm.configLocked) return statusResponse(STATUS.executionError);
    if (zone === ZONE.otp && this.nvm.dataLocked) return statusResponse(STATUS.executionError);
    if (zone === ZONE.data && !writableInClear(this.config, at.slot!)) return statusResponse(STATUS.executionError);
    data.copy(at.buf, at.offset, 0, Math.min(size, at.buf.length - at.offset));
    if (zone === ZONE.data) this.setSlot(at.slot!, at.buf);
    else if (zone === ZONE.otp) this.nvm.otp = at.buf.toString("hex");
    this.persist();
    return statusResponse(STATUS.success);
  }
}
