/**
 * AWS IoT's MQTT size limit on the emulator's device connections: a packet whose fixed header
 * announces more than the limit is refused as soon as its remaining-length field is read, before its
 * body arrives. Hand-written: aedes exposes no packet-size option, so this watches the same bytes aedes
 * reads and only parses the MQTT fixed header (type byte, 1–4 byte remaining length).
 */

/** AWS IoT's largest message payload, 128 KB, plus room for a topic and properties. */
export const MAX_MQTT_PACKET = 128 * 1024 + 2048;

/** A byte-stream watcher: call it with every chunk; `onTooBig(size)` once when a packet is over `max`. */
export function mqttSizeGuard(max: number, onTooBig: (size: number) => void): (chunk: Buffer) => void {
  let state: "type" | "length" | "body" = "type";
  let length = 0;
  let shift = 0;
  let left = 0;
  let tripped = false;
  return (chunk) => {
    for (let i = 0; i < chunk.length && !tripped; ) {
      if (state === "type") {
        state = "length";
        length = 0;
        shift = 0;
        i++;
      } else if (state === "length") {
        const b = chunk[i++]!;
        length += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (b & 0x80 && shift < 28) continue;
        if (length > max) {
          tripped = true;
          return onTooBig(length);
        }
        left = length;
        state = left ? "body" : "type";
      } else {
        const take = Math.min(left, chunk.length - i);
        i += take;
        left -= take;
        if (!left) state = "type";
      }
    }
  };
}
