/**
 * The ATECC508A configuration the Zero Touch kit ships with (KIT-FACTS §3): I2C address 0xB0,
 * SlotConfig and KeyConfig per slot, config and data zones locked, P-256 keys generated in slots
 * 0, 2, 3 and 7. Slot sizes: 0–7 36 bytes, 8 416 bytes, 9–15 72 bytes.
 */
export const SLOT_SIZES = [36, 36, 36, 36, 36, 36, 36, 36, 416, 72, 72, 72, 72, 72, 72, 72];

export const SLOT_CONFIG = [0x208f, 0x44c4, 0x2087, 0x2087, 0x0f8f, 0x36c4, 0x0f9f, 0x2082, 0x0f0f, 0x44c4, 0x0f0f, 0x0f0f, 0x0f0f, 0x0f0f, 0x0f0f, 0x0f0f];
export const KEY_CONFIG = [0x0033, 0x001c, 0x0013, 0x0013, 0x007c, 0x001c, 0x003c, 0x0033, 0x003c, 0x003c, 0x003c, 0x0030, 0x003c, 0x003c, 0x003c, 0x0030];
export const KEY_SLOTS = [0, 2, 3, 7];
export const REVISION = Buffer.from([0x00, 0x00, 0x50, 0x00]);

/** The 128-byte configuration zone for a chip with serial number `sn` (9 bytes). */
export function kitConfigZone(sn: Buffer): Buffer {
  const c = Buffer.alloc(128);
  sn.copy(c, 0, 0, 4);
  REVISION.copy(c, 4);
  sn.copy(c, 8, 4, 9);
  c[14] = 0x01; // I2C enable
  c[16] = 0xb0; // I2C address
  c[18] = 0xaa; // OTP mode
  SLOT_CONFIG.forEach((v, i) => c.writeUInt16LE(v, 20 + i * 2));
  // Counter0 and Counter1 as ecc_configure.c's aws_config has them: FF FF FF FF 00 00 00 00, twice.
  for (const at of [52, 60]) Buffer.from("ffffffff00000000", "hex").copy(c, at);
  c[86] = 0x00; // data/OTP zone locked
  c[87] = 0x00; // config zone locked
  c.writeUInt16LE(0xffff, 88); // no slot individually locked
  KEY_CONFIG.forEach((v, i) => c.writeUInt16LE(v, 96 + i * 2));
  return c;
}

export const slotConfig = (config: Buffer, slot: number) => config.readUInt16LE(20 + slot * 2);
export const keyConfig = (config: Buffer, slot: number) => config.readUInt16LE(96 + slot * 2);
/** KeyConfig.Private: the slot holds an ECC private key. */
export const isPrivateKeySlot = (config: Buffer, slot: number) => (keyConfig(config, slot) & 0x01) !== 0;
/** SlotConfig.IsSecret: the slot can never be read in the clear. */
export const isSecret = (config: Buffer, slot: number) => (slotConfig(config, slot) & 0x0080) !== 0;
/** SlotConfig.WriteConfig == Always: clear-text writes allowed after the data zone is locked. */
export const writableInClear = (config: Buffer, slot: number) => (slotConfig(config, slot) >> 12) === 0 && !isPrivateKeySlot(config, slot);
/** For private key slots, ReadKey bits: 0 external sign, 2 ECDH, 3 ECDH output to slot N|1 instead of clear. */
export const readKeyBits = (config: Buffer, slot: number) => slotConfig(config, slot) & 0x000f;
/** WriteConfig bit 13: GenKey may create a new random key in this slot. */
export const genKeyAllowed = (config: Buffer, slot: number) => (slotConfig(config, slot) & 0x2000) !== 0;
