/**
 * The cryptoauthlib calls firmware v2.2.5 makes (submodule af81877 = tag 20190903), as command
 * sequences on the chip: each atcab_* command is its own wake → command → idle (atca_execute_command),
 * so the chip's traffic — and a bus trace of it — has the shape the real kit's has:
 * - atcab_read_bytes_zone / atcab_write_bytes_zone over slot 8: 13 × 32-byte blocks (416 bytes);
 * - atcab_read_pubkey / atcab_write_pubkey: three 32-byte blocks of the 72-byte padded key
 *   (atca_basic_read.c / atca_basic_write.c), block 2 included;
 * - atcab_sign: Random (to update the RNG seed), Nonce pass-through, Sign external (atca_basic_sign.c);
 * - atcab_verify_extern: Nonce pass-through, Verify external.
 */
import { AteccClient } from "../../../harness/kit/atecc-client.ts";
import { ZONE } from "../../../harness/kit/atecc-packet.ts";
import { dataAddress } from "../../../harness/kit/atecc-packet.ts";
import { OPCODE } from "../../../harness/kit/atecc-packet.ts";

export class Cryptoauthlib {
  constructor(readonly atecc: AteccClient) {}

  /** atcab_read_bytes_zone(DATA, slot, 0, buf, length) for block-aligned lengths. */
  readBytes(slot: number, length: number): Promise<Buffer> {
    return this.atecc.readSlot(slot, length);
  }

  writeBytes(slot: number, data: Buffer): Promise<void> {
    return this.atecc.writeSlot(slot, data);
  }

  /** Whole 32-byte blocks of a slot (atcacert and the pubkey helpers round to blocks). */
  async readBlocks(slot: number, blocks: number): Promise<Buffer> {
    const out: Buffer[] = [];
    for (let b = 0; b < blocks; b++) out.push(await this.atecc.read(ZONE.data, dataAddress(slot, b), 32));
    return Buffer.concat(out);
  }

  async writeBlocks(slot: number, data: Buffer): Promise<void> {
    const padded = Buffer.concat([data, Buffer.alloc((32 - (data.length % 32)) % 32)]);
    for (let at = 0; at < padded.length; at += 32) await this.atecc.command(OPCODE.write, ZONE.data | ZONE.size32, dataAddress(slot, at / 32), padded.subarray(at, at + 32));
  }

  /** atcab_read_pubkey: 00000000‖X‖00000000‖Y from three blocks. */
  async readPubkey(slot: number): Promise<Buffer> {
    const b = await this.readBlocks(slot, 3);
    return Buffer.concat([b.subarray(4, 36), b.subarray(40, 72)]);
  }

  /** atcab_write_pubkey: the padded form written as three 32-byte blocks. */
  writePubkey(slot: number, xy: Buffer): Promise<void> {
    return this.writeBlocks(slot, Buffer.concat([Buffer.alloc(4), xy.subarray(0, 32), Buffer.alloc(4), xy.subarray(32, 64)]));
  }

  /** atcab_sign: Random first, then Nonce load and Sign external. Raw R‖S. */
  async sign(slot: number, digest: Buffer): Promise<Buffer> {
    await this.atecc.random();
    return this.atecc.sign(slot, digest);
  }

  verifyExtern(digest: Buffer, signature: Buffer, publicKey: Buffer): Promise<boolean> {
    return this.atecc.verify(digest, signature, publicKey);
  }

  /** atcab_get_pubkey / atcab_genkey_base(GENKEY_MODE_PUBLIC). */
  publicKey(slot: number): Promise<Buffer> {
    return this.atecc.genKey(slot);
  }

  /** atcab_genkey: a new private key in the slot; its public key. */
  genKey(slot: number): Promise<Buffer> {
    return this.atecc.genKey(slot, true);
  }

  ecdh(slot: number, peer: Buffer): Promise<Buffer> {
    return this.atecc.ecdh(slot, peer);
  }

  serialNumber(): Promise<Buffer> {
    return this.atecc.serialNumber();
  }

  info(): Promise<Buffer> {
    return this.atecc.info();
  }
}
