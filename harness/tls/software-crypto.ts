/**
 * A ClientCrypto in software (node:crypto and @noble/curves for ECDSA over a given digest), for
 * running the TLS client without a secure element: tests against openssl s_server, and host tools.
 */
import { createECDH, type KeyObject } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import type { ClientCrypto } from "./client.ts";

export function softwareCrypto(clientKey: KeyObject): ClientCrypto {
  const d = Buffer.from(clientKey.export({ format: "jwk" }).d!, "base64url");
  const ecdh = createECDH("prime256v1");
  return {
    verify: async (digest, signature, publicKey) => {
      try {
        return p256.verify(signature, digest, Buffer.concat([Buffer.from([4]), publicKey]), { prehash: false, lowS: false });
      } catch {
        return false;
      }
    },
    ephemeralKey: async () => ecdh.generateKeys().subarray(1),
    ecdh: async (peer) => ecdh.computeSecret(Buffer.concat([Buffer.from([4]), peer])),
    sign: async (digest) => Buffer.from(p256.sign(digest, d, { prehash: false, lowS: false })),
  };
}
