/**
 * TLS 1.2 key schedule for the kit's suite (RFC 5246 §5, §8.1, §6.3; RFC 5288 for AES-GCM):
 * the SHA-256 PRF, master secret, key block and Finished verify_data. node:crypto supplies HMAC.
 */
import { createHmac } from "node:crypto";

/** PRF(secret, label, seed) = P_SHA256(secret, label ‖ seed), truncated to `length` bytes. */
export function prf(secret: Uint8Array, label: string, seed: Uint8Array, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, "ascii"), seed]);
  const out: Buffer[] = [];
  let a: Buffer = labelSeed;
  let produced = 0;
  while (produced < length) {
    a = createHmac("sha256", secret).update(a).digest();
    const block = createHmac("sha256", secret).update(a).update(labelSeed).digest();
    out.push(block);
    produced += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

export function masterSecret(preMaster: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): Buffer {
  return prf(preMaster, "master secret", Buffer.concat([clientRandom, serverRandom]), 48);
}

/** AES-128-GCM traffic keys: no MAC keys; 16-byte keys and 4-byte implicit IVs (salts). */
export interface TrafficKeys {
  clientKey: Buffer;
  serverKey: Buffer;
  clientIv: Buffer;
  serverIv: Buffer;
}

export function keyBlock(master: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): TrafficKeys {
  const kb = prf(master, "key expansion", Buffer.concat([serverRandom, clientRandom]), 40);
  return { clientKey: kb.subarray(0, 16), serverKey: kb.subarray(16, 32), clientIv: kb.subarray(32, 36), serverIv: kb.subarray(36, 40) };
}

/** Finished.verify_data: PRF(master, "client finished" | "server finished", SHA-256(transcript))[0:12]. */
export function verifyData(master: Uint8Array, who: "client" | "server", transcriptHash: Uint8Array): Buffer {
  return prf(master, `${who} finished`, transcriptHash, 12);
}
