/**
 * aws_wifi_task.c:ecc_process_request: the WINC's ECC requests served by the ATECC508A — server
 * signatures verified (ECC_REQ_SIGN_VERIFY), the ephemeral key made in slot 2 (ECC_REQ_GEN_KEY) and used
 * for ECDH (ECC_REQ_CLIENT_ECDH), CertificateVerify signed with slot 0 (ECC_REQ_SIGN_GEN, atcab_sign).
 */
import type { ClientCrypto } from "../../../harness/tls/client.ts";
import type { Cryptoauthlib } from "./cryptoauthlib.ts";

export function ateccCrypto(cal: Cryptoauthlib): ClientCrypto {
  return {
    verify: (digest, signature, publicKey) => cal.verifyExtern(digest, signature, publicKey),
    ephemeralKey: () => cal.genKey(2),
    ecdh: (peer) => cal.ecdh(2, peer),
    sign: (digest) => cal.sign(0, digest),
  };
}
