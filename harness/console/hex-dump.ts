/**
 * The hex dump firmware v2.2.5 prints on its console (utilities/hex_dump.c), written by the twin and read
 * back by the harness: the twin prints request and reply dumps, and the harness must find (and mask) a
 * secret in them even when a dump line splits it.
 */
/**
 * hex_dump.c:print_hex_dump(buffer, length, true, true, 16): address, 16 bytes in two groups of 8, then
 * the printable characters. The ASCII buffer starts as 16 spaces and is zeroed after each line, so a
 * short first line is padded with spaces and a short later line is not (the NUL ends the string).
 */
export function hexDump(data: Uint8Array): string {
  if (data.length === 0) return "";
  let out = "";
  const ascii: number[] = new Array<number>(16).fill(0x20);
  for (let pos = 0; pos < data.length; pos += 16) {
    out += `${pos.toString(16).toUpperCase().padStart(8, "0")}  `;
    for (let i = 0; i < 16; i++) {
      if (i > 0 && i % 8 === 0) out += " ";
      if (pos + i < data.length) {
        const b = data[pos + i]!;
        out += `${b.toString(16).toUpperCase().padStart(2, "0")} `;
        ascii[i] = b >= 0x20 && b <= 0x7e ? b : 0x2e;
      } else out += "   ";
    }
    const nul = ascii.indexOf(0);
    out += ` ${String.fromCharCode(...ascii.slice(0, nul < 0 ? 16 : nul))}\r\n`;
    ascii.fill(0);
  }
  return out;
}


/** A dump line: the bytes it shows (the ASCII column is not needed: the hex is the data). */
const DUMP_LINE = /^([0-9A-F]{8})  ((?:[0-9A-F]{2} ?|   | ){1,49}) /;

export function dumpLineBytes(line: string): number[] | null {
  const m = DUMP_LINE.exec(line);
  if (!m) return null;
  return [...m[2]!.matchAll(/[0-9A-F]{2}/g)].map((h) => parseInt(h[0], 16));
}
