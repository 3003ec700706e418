/**
 * AES-128-GCM record protection for TLS 1.2 (RFC 5288): nonce = 4-byte implicit salt ‖ 8-byte explicit
 * nonce carried in the record, additional data = seq_num ‖ type ‖ version ‖ plaintext length.
 * One instance per direction; it counts sequence numbers itself.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { TlsDecodeError } from "./bytes.ts";

export class GcmRecordCipher {
  private seq = 0n;

  constructor(
    private readonly key: Buffer,
    private readonly salt: Buffer,
  ) {}

  private aad(type: number, version: number, length: number): Buffer {
    const a = Buffer.alloc(13);
    a.writeBigUInt64BE(this.seq, 0);
    a[8] = type;
    a.writeUInt16BE(version, 9);
    a.writeUInt16BE(length, 11);
    return a;
  }

  /** Protect one record's plaintext; the explicit nonce defaults to the sequence number. */
  seal(type: number, version: number, plaintext: Uint8Array, explicitNonce?: Buffer): Buffer {
    const explicit = explicitNonce ?? Buffer.alloc(8);
    if (!explicitNonce) explicit.writeBigUInt64BE(this.seq);
    const cipher = createCipheriv("aes-128-gcm", this.key, Buffer.concat([this.salt, explicit]));
    cipher.setAAD(this.aad(type, version, plaintext.length));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    this.seq++;
    return Buffer.concat([explicit, body, cipher.getAuthTag()]);
  }

  /** Open one protected record; a bad tag is a TlsDecodeError (bad_record_mac). */
  open(type: number, version: number, fragment: Buffer): Buffer {
    if (fragment.length < 8 + 16) throw new TlsDecodeError("protected record", `fragment of ${fragment.length} bytes is shorter than nonce and tag`);
    const explicit = fragment.subarray(0, 8);
    const tag = fragment.subarray(fragment.length - 16);
    const body = fragment.subarray(8, fragment.length - 16);
    const decipher = createDecipheriv("aes-128-gcm", this.key, Buffer.concat([this.salt, explicit]));
    decipher.setAAD(this.aad(type, version, body.length));
    decipher.setAuthTag(tag);
    try {
      const plain = Buffer.concat([decipher.update(body), decipher.final()]);
      this.seq++;
      return plain;
    } catch {
      throw new TlsDecodeError("protected record", `authentication failed at sequence number ${this.seq} (bad_record_mac)`);
    }
  }
}
