/**
 * kit_protocol/kit_protocol_utilities.c as the firmware uses it: hex text to binary in place, with no
 * validation (a character that is not a hex digit is nibble 0; an odd last digit pairs with the NUL
 * after it; fewer than two characters convert to nothing). The firmware feeds host data through this
 * everywhere (kit-protocol data, saveCredentials' certificates and keys), so the twin does too.
 */

/** KIT_PROTOCOL_MESSAGE_MAX in the firmware's build (AWS_IoT_Zero_Touch_SAMG55.cproj). */
export const MESSAGE_SIZE_MAX = 6000;

function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return 0;
}

/** kit_protocol_convert_hex_to_binary(length, buffer): returns the binary length. */
export function hexToBinaryInPlace(buf: Buffer, length: number): number {
  if (length < 2) return 0;
  let out = 0;
  for (let i = 0; i < length; i += 2, out++) {
    const hi = nibble(buf[i] ?? 0);
    const lo = nibble(buf[i + 1] ?? 0);
    buf[out] = (hi << 4) | lo;
  }
  return out;
}

/** The same conversion of a host string (copied into a zeroed buffer, as the firmware's stack buffers are). */
export function hexToBinary(text: string): Buffer {
  const buf = Buffer.alloc(text.length + 1);
  buf.write(text, 0, "latin1");
  return Buffer.from(buf.subarray(0, hexToBinaryInPlace(buf, text.length)));
}
