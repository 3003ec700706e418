/**
 * The I2C bus between the twin's SAM G55 and its ATECC508A, as a logic analyzer on SDA/SCL would record
 * it, written as a VCD that sigrok reads. Each chip interaction becomes the transfers cryptoauthlib
 * 20190903's SAM G55 HAL (hal_samg55_i2c_asf.c) and atca_execute_command make on the wire:
 * - wake: at 100 kHz a write of 0x00 (START, address 0x00, NACK, STOP: SDA low ≥ 60 µs), the wake delay
 *   rounded up to 2 ms, then at 400 kHz a 4-byte read of the wake status;
 * - command: a write of word address 0x03 and the packet; reads polled 1 ms after it and every 2 ms,
 *   NACKed while the chip executes, then the ACKed read of the response;
 * - idle 0x02, sleep 0x01 (one-byte writes).
 * The device address is the kit's configured 0xB0 (7-bit 0x58; AWS_ECCx08A_I2C_ADDRESS). Transfers are
 * placed at the time the model performs them, one after another on the bus; execution times are the
 * model's own. That the wake token is a 0x00 address write is inferred from the HAL's twi_write_byte.
 * Hand-written: the VCD format is four lines of header and "#time value" pairs; no package writes I2C.
 */
import { writeFileSync } from "node:fs";

export const ATECC_I2C_ADDRESS = 0x58;
const BIT_NS_FAST = 2500; // 400 kHz
const BIT_NS_SLOW = 10_000; // 100 kHz
const TIMESCALE_NS = 250; // 4 MHz sampling

type Transfer = { at: number; addr: number; read: boolean; bytes: number[]; ack: boolean; bitNs: number };

export class BusTrace {
  private transfers: Transfer[] = [];
  private busFree = 0;
  private readonly t0 = performance.now();

  /** Bus time in ns since the trace began, not before the bus is free. */
  private slot(atMs: number = performance.now()): number {
    return Math.max(Math.round((atMs - this.t0) * 1e6), this.busFree);
  }

  private push(t: Omit<Transfer, "at">, at: number): number {
    const bits = (1 + (t.ack || t.read ? t.bytes.length : 0)) * 9;
    this.transfers.push({ ...t, at });
    this.busFree = at + (bits + 3) * t.bitNs;
    return this.busFree;
  }

  wake(response: Buffer | null): void {
    const at = this.slot();
    const after = this.push({ addr: 0x00, read: false, bytes: [], ack: false, bitNs: BIT_NS_SLOW }, at);
    this.push({ addr: ATECC_I2C_ADDRESS, read: true, bytes: response ? [...response] : [], ack: response !== null, bitNs: BIT_NS_FAST }, after + 2_000_000);
  }

  /** A command write (begun at `atMs`), the polls while it executes, the response read. */
  command(packet: Buffer, execMs: number, response: Buffer, atMs: number): void {
    const written = this.push({ addr: ATECC_I2C_ADDRESS, read: false, bytes: [0x03, ...packet], ack: true, bitNs: BIT_NS_FAST }, this.slot(atMs));
    const ready = written + execMs * 1e6;
    let poll = written + 1_000_000;
    while (poll < ready) {
      this.push({ addr: ATECC_I2C_ADDRESS, read: true, bytes: [], ack: false, bitNs: BIT_NS_FAST }, poll);
      poll += 2_000_000;
    }
    this.push({ addr: ATECC_I2C_ADDRESS, read: true, bytes: [...response], ack: true, bitNs: BIT_NS_FAST }, Math.max(poll, this.busFree));
  }

  /** A word-address write alone (v2.2.5's `d:t`: txsize 0), then the read of what the chip holds. */
  emptyCommand(response: Buffer): void {
    const written = this.push({ addr: ATECC_I2C_ADDRESS, read: false, bytes: [0x03], ack: true, bitNs: BIT_NS_FAST }, this.slot());
    this.push({ addr: ATECC_I2C_ADDRESS, read: true, bytes: [...response], ack: true, bitNs: BIT_NS_FAST }, written + 1_000_000);
  }

  /** A write the chip does not acknowledge (it is not awake). */
  nack(): void {
    this.push({ addr: ATECC_I2C_ADDRESS, read: false, bytes: [], ack: false, bitNs: BIT_NS_FAST }, this.slot());
  }

  /** idle (0x02) or sleep (0x01); a chip that is not awake does not acknowledge. */
  wordAddress(word: 0x01 | 0x02, acked: boolean): void {
    this.push({ addr: ATECC_I2C_ADDRESS, read: false, bytes: [word], ack: acked, bitNs: BIT_NS_FAST }, this.slot());
  }

  get transferCount(): number {
    return this.transfers.length;
  }

  /** The waveform as VCD (timescale 250 ns: sigrok reads it as 4 MHz samples). */
  toVcd(): string {
    const out: string[] = ["$date zt-hil virtual kit $end", "$timescale 250 ns $end", "$scope module atecc_i2c $end", "$var wire 1 ! scl $end", '$var wire 1 " sda $end', "$upscope $end", "$enddefinitions $end", "#0", "1!", '1"'];
    let scl = 1;
    let sda = 1;
    let last = 0;
    const set = (tNs: number, c: 0 | 1, d: 0 | 1) => {
      const t = Math.max(last + 1, Math.round(tNs / TIMESCALE_NS));
      const changes = [...(c !== scl ? [`${c}!`] : []), ...(d !== sda ? [`${d}"`] : [])];
      if (!changes.length) return;
      out.push(`#${t}`, ...changes);
      last = t;
      scl = c;
      sda = d;
    };
    for (const tr of this.transfers) {
      const q = tr.bitNs / 4;
      let t = Math.max(tr.at, (last + 1) * TIMESCALE_NS);
      set(t, 1, 0); // START: SDA falls while SCL is high
      t += q;
      set(t, 0, 0);
      const bit = (b: 0 | 1) => {
        set(t + q, 0, b);
        set(t + 2 * q, 1, b);
        set(t + 3 * q, 0, b);
        t += tr.bitNs;
      };
      const byte = (v: number, ackBit: 0 | 1) => {
        for (let i = 7; i >= 0; i--) bit(((v >> i) & 1) as 0 | 1);
        bit(ackBit);
      };
      byte((tr.addr << 1) | (tr.read ? 1 : 0), tr.ack ? 0 : 1);
      if (tr.ack) tr.bytes.forEach((v, i) => byte(v, tr.read && i === tr.bytes.length - 1 ? 1 : 0)); // the master NACKs the last byte it reads
      set(t + q, 0, 0); // STOP: SDA rises while SCL is high
      set(t + 2 * q, 1, 0);
      set(t + 3 * q, 1, 1);
    }
    out.push(`#${last + 40}`, "1!");
    return out.join("\n") + "\n";
  }

  write(file: string): void {
    writeFileSync(file, this.toVcd());
  }
}
