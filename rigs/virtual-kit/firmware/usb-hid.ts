/**
 * usb_hid.c:usb_hid_report_out_callback of firmware v2.2.5: each 64-byte report is copied byte by byte
 * into a 6000-byte receive buffer; the first `\n` completes a message and the REST OF THAT REPORT IS
 * DISCARDED (one request per report). Padding is stored like any byte. At 5999 bytes the buffer enters
 * an error state that drops everything up to the next `\n`, and that line gets no reply. There is one
 * message buffer: a message completed while the previous one is being handled replaces it, and the
 * task's "done" then discards it (g_usb_message_received = false).
 */
import { MESSAGE_SIZE_MAX } from "./hex.ts";

const NL = 0x0a;

export class UsbHid {
  private rx: number[] = [];
  private error = false;
  private pending: Buffer | null = null;

  reset(): void {
    this.rx = [];
    this.error = false;
    this.pending = null;
  }

  report(report: Buffer): void {
    for (let i = 0; i < report.length; i++) {
      if (this.rx.length >= MESSAGE_SIZE_MAX - 1) {
        this.rx = [];
        this.error = true;
      }
      const b = report[i]!;
      if (!this.error) {
        this.rx.push(b);
        if (b === NL) {
          this.pending = Buffer.from(this.rx);
          this.rx = [];
          break;
        }
      } else if (b === NL) {
        this.error = false;
        this.rx = [];
        break;
      }
    }
  }

  /** The received message (g_usb_message_buffer while g_usb_message_received). */
  get message(): Buffer | null {
    return this.pending;
  }

  /** The provisioning task finished with the message (whatever replaced it meanwhile is dropped too). */
  done(): void {
    this.pending = null;
  }
}
