/**
 * The EDBG console of firmware v2.2.5 (console.c, utilities/hex_dump.c): every print is the firmware's
 * own printf format, byte for byte, and costs the UART's time. The SAM G55's stdio UART at 115200 8N1
 * sends 11.52 bytes per millisecond and printf blocks until the bytes are out, so a task that prints a
 * hex dump is busy for as long as a real kit is (console.c:console_print_kit_protocol_message dumps each
 * kit-protocol message twice before the reply goes out: ~3 s for a saveCredentials).
 */
export const UART_BYTES_PER_MS = 115200 / 10 / 1000;

import { hexDump } from "../../../harness/console/hex-dump.ts";

export const PREFIX = { success: "SUCCESS:  ", error: "ERROR:    ", warning: "WARNING:  " } as const;

export class FirmwareConsole {
  /** `bytesPerMs`: the UART's speed (Infinity: no UART time, for fuzzing the firmware's parsers). */
  constructor(
    private readonly write: (text: string) => void,
    private readonly bytesPerMs = UART_BYTES_PER_MS,
  ) {}

  /** printf: the text goes out at once; the promise resolves when the UART has sent it. */
  printf(text: string): Promise<void> {
    this.write(text);
    const ms = text.length / this.bytesPerMs;
    return ms < 1 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
  }

  message(m: string): Promise<void> {
    return this.printf(`${m}\r\n`);
  }
  success(m: string): Promise<void> {
    return this.printf(`${PREFIX.success}${m}\r\n`);
  }
  error(m: string): Promise<void> {
    return this.printf(`${PREFIX.error}${m}\r\n`);
  }
  warning(m: string): Promise<void> {
    return this.printf(`${PREFIX.warning}${m}\r\n`);
  }
  hexDump(data: Uint8Array): Promise<void> {
    return this.printf(hexDump(data));
  }
  /** console_print_aws_message and console_print_kit_protocol_message share one format. */
  dumpMessage(title: string, data: Uint8Array): Promise<void> {
    return this.printf(`\r\n${title}\r\n${hexDump(data)}\r\n`);
  }
  /** console_print_aws_status. */
  status(title: string, s: { state: number; code: number; message: string }): Promise<void> {
    return this.printf(`\r\nSTATUS: ${title}\r\nCurrent AWS IoT State:   ${s.state}\r\nCurrent AWS IoT Status:  ${s.code}\r\nCurrent AWS IoT Message: ${s.message}\r\n\r\n`);
  }
  /** console_print_version. */
  version(v: string): Promise<void> {
    return this.printf(`\r\nVERSION:  ${v}\r\n\r\n`);
  }
  /** console_print_winc_version. */
  wincVersion(w: { chipId: number; firmware: string; minDriver: string; driver: string }): Promise<void> {
    return this.printf(
      `\r\nWINC1500 Version Information:\r\n  WINC1500: Chip ID: 0x${w.chipId.toString(16).toUpperCase().padStart(8, "0")}\r\n  WINC1500: Firmware Version: ${w.firmware}\r\n  WINC1500: Firmware Min Driver Version: ${w.minDriver}\r\n  WINC1500: Driver Version: ${w.driver}\r\n`,
    );
  }
}
