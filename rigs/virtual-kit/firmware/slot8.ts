/**
 * Slot 8 of the kit's ATECC508A: the firmware's `struct Eccx08A_Slot8_Metadata` (provisioning_task.h),
 * little-endian, 240 bytes, inside the 416-byte slot the firmware reads and writes whole
 * (SLOT8_SIZE; bytes 240–415 are written as zeros):
 *   u32 provision_flag @0; u32 ssid_size @4; u8 ssid[32] @8; u32 wifi_password_size @40;
 *   u8 wifi_password[64] @44; u32 hostname_size @108; u8 hostname[128] @112.
 * saveCredentials sets the flag's high half to 0xF309, setWifi its low half to 0x72B0; provisioned when
 * both are set (check_provisioned_device). The writers copy strlen() bytes with no bound, exactly as the
 * firmware's memcpy does: an over-long SSID runs into the fields after it (bytes past the struct are
 * lost, as they land on the firmware's stack).
 */
export const SLOT8_SIZE = 416;
export const STRUCT_SIZE = 240;
export const AWS_PROVISIONED = 0xf309;
export const WIFI_PROVISIONED = 0x72b0;

const OFF = { flag: 0, ssidSize: 4, ssid: 8, pwSize: 40, pw: 44, hostSize: 108, host: 112 } as const;

export class Metadata {
  /** The struct as the firmware's local copy holds it. */
  readonly bytes: Buffer;

  constructor(slot: Buffer) {
    this.bytes = Buffer.alloc(STRUCT_SIZE);
    slot.copy(this.bytes, 0, 0, STRUCT_SIZE);
  }

  get flag(): number {
    return this.bytes.readUInt32LE(OFF.flag);
  }
  set flag(v: number) {
    this.bytes.writeUInt32LE(v >>> 0, OFF.flag);
  }

  get provisioned(): boolean {
    return (this.flag & 0xffff) === WIFI_PROVISIONED && this.flag >>> 16 === AWS_PROVISIONED;
  }

  /** memset(field, 0, size); memcpy(field, value, strlen(value)); size field = strlen(value). */
  private put(sizeAt: number, at: number, fieldSize: number, value: Buffer): void {
    this.bytes.fill(0, at, at + fieldSize);
    value.copy(this.bytes, at, 0, Math.max(0, Math.min(value.length, STRUCT_SIZE - at)));
    this.bytes.writeUInt32LE(value.length, sizeAt);
  }

  setSsid(v: Buffer): void {
    this.put(OFF.ssidSize, OFF.ssid, 32, v);
  }
  setPassword(v: Buffer): void {
    this.put(OFF.pwSize, OFF.pw, 64, v);
  }
  setHost(v: Buffer): void {
    this.put(OFF.hostSize, OFF.host, 128, v);
  }

  /** provisioning_get_ssid/_wifi_password/_hostname: `size` bytes from the field into a zeroed buffer. */
  private get(sizeAt: number, at: number, bufferSize: number): Buffer {
    const size = this.bytes.readUInt32LE(sizeAt);
    const out = Buffer.alloc(bufferSize);
    this.bytes.copy(out, 0, at, Math.min(STRUCT_SIZE, at + Math.min(size, bufferSize)));
    return out;
  }
  get ssidSize(): number {
    return this.bytes.readUInt32LE(OFF.ssidSize);
  }
  get ssid(): Buffer {
    return this.get(OFF.ssidSize, OFF.ssid, 32);
  }
  get password(): Buffer {
    return this.get(OFF.pwSize, OFF.pw, 64);
  }
  get host(): Buffer {
    return this.get(OFF.hostSize, OFF.host, 128);
  }

  /** The 416 bytes the firmware writes back: the struct, then zeros. */
  toSlot(): Buffer {
    const b = Buffer.alloc(SLOT8_SIZE);
    this.bytes.copy(b);
    return b;
  }
}

/** A C string: the bytes up to the first NUL. */
export function cString(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString("latin1");
}
