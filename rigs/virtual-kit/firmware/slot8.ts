/**
 * Slot 8 of the kit's ATECC508A: the firmware's metadata (KIT-FACTS §3), little-endian:
 * u32 provision_flag; u32 ssid_size; u8 ssid[32]; u32 pw_size; u8 pw[64]; u32 host_size; u8 host[128].
 * saveCredentials sets the flag's high half to 0xF309, setWifi its low half to 0x72B0; the kit is
 * provisioned when the flag reads 0xF30972B0.
 */
export const AWS_PROVISIONED = 0xf309;
export const WIFI_PROVISIONED = 0x72b0;
export const SLOT8_USED = 240;

export interface Slot8 {
  flag: number;
  ssid: string;
  password: string;
  host: string;
}

export function decodeSlot8(b: Buffer): Slot8 {
  const text = (sizeAt: number, max: number) => b.toString("utf8", sizeAt + 4, sizeAt + 4 + Math.min(b.readUInt32LE(sizeAt), max));
  return { flag: b.readUInt32LE(0), ssid: text(4, 32), password: text(40, 64), host: text(108, 128) };
}

export function encodeSlot8(m: Slot8): Buffer {
  const b = Buffer.alloc(SLOT8_USED);
  b.writeUInt32LE(m.flag >>> 0, 0);
  const put = (sizeAt: number, max: number, value: string) => {
    const v = Buffer.from(value, "utf8").subarray(0, max);
    b.writeUInt32LE(v.length, sizeAt);
    v.copy(b, sizeAt + 4);
  };
  put(4, 32, m.ssid);
  put(40, 64, m.password);
  put(108, 128, m.host);
  return b;
}

export function isProvisioned(m: Slot8): boolean {
  return m.flag >>> 0 === ((AWS_PROVISIONED << 16) | WIFI_PROVISIONED) >>> 0;
}
