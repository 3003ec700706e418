/**
 * The ATWINC1500 as the kit uses it: a Wi-Fi station joining a WPA2 access point, name resolution,
 * and a TLS 1.2 client that offers only TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 and hands every
 * asymmetric operation to the ATECC508A: server chain and ServerKeyExchange through Verify, the
 * ephemeral key through GenKey on slot 2 and ECDH, CertificateVerify through Sign on slot 0.
 *
 * ClientHello profiles: `19.4.4` is the seed capture byte for byte (one suite, null compression, one
 * extension: signature_algorithms 0x0403; no SNI, no supported_groups); `19.6` adds SNI and
 * supported_groups (P-256).
 */
import { randomBytes } from "node:crypto";
import { connect, isIP } from "node:net";
import { ZtError } from "../../../harness/errors.ts";
import type { AteccClient } from "../../../harness/kit/atecc-client.ts";
import { TlsClientConnection, type ClientCrypto } from "../../../harness/tls/client.ts";
import { ExtensionType, NamedGroup, SignatureScheme, TLS12, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 } from "../../../harness/tls/constants.ts";
import { sniExtension, u16ListExtension, type ClientHello } from "../../../harness/tls/handshake.ts";

export type WincProfile = "19.4.4" | "19.6";

export class WincError extends ZtError {}

export function kitClientHello(profile: WincProfile, host: string): ClientHello {
  const sigalgs = u16ListExtension(ExtensionType.signatureAlgorithms, [SignatureScheme.ecdsaSecp256r1Sha256]);
  const extensions = profile === "19.4.4" ? [sigalgs] : [...(isIP(host) ? [] : [sniExtension(host)]), u16ListExtension(ExtensionType.supportedGroups, [NamedGroup.secp256r1]), sigalgs];
  return { version: TLS12, random: randomBytes(32), sessionId: Buffer.alloc(0), cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256], compressionMethods: [0], extensions };
}

export function ateccCrypto(atecc: AteccClient): ClientCrypto {
  return {
    verify: (digest, signature, publicKey) => atecc.verify(digest, signature, publicKey),
    ephemeralKey: () => atecc.genKey(2, true),
    ecdh: (peer) => atecc.ecdh(2, peer),
    sign: (digest) => atecc.sign(0, digest),
  };
}

export interface AccessPoint {
  ssid: string;
  psk: string;
}

export interface WincOptions {
  profile: WincProfile;
  /** Trusted roots (DER) for server certificates. */
  trust: Buffer[];
  ap: AccessPoint;
  /** Names the lab resolves (host → address); literal IPs and localhost resolve by themselves. */
  hosts?: Record<string, string>;
}

export class Winc1500 {
  constructor(
    private readonly atecc: AteccClient,
    readonly opts: WincOptions,
  ) {}

  /** Join the access point (WPA2-personal only: an open network or a wrong key fails). */
  joinAccessPoint(ssid: string, psk: string | null): { ip: string } {
    if (ssid !== this.opts.ap.ssid) throw new WincError("WINC1500 WIFI", `no access point named "${ssid}" in range`);
    if (psk === null || psk !== this.opts.ap.psk) throw new WincError("WINC1500 WIFI", "WPA2 authentication failed");
    return { ip: "127.0.0.1" };
  }

  /** Resolve a host name through the lab: literal addresses, localhost, or the lab's host map. */
  resolve(host: string): string {
    if (isIP(host)) return host;
    if (host === "localhost") return "127.0.0.1";
    const mapped = this.opts.hosts?.[host];
    if (!mapped) throw new WincError("WINC1500 DNS", `lookup of ${host} failed`);
    return mapped;
  }

  /** TCP then TLS to host:port with the client chain; resolves once the handshake completed. */
  async connectTls(host: string, address: string, port: number, clientChain: Buffer[]): Promise<TlsClientConnection> {
    const socket = connect(port, address);
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", (err) => reject(new WincError("WINC1500 socket", `SOCKET_MSG_CONNECT error SOCK_ERR_CONN_ABORTED(-12): ${err.message}`)));
    });
    const tls = new TlsClientConnection(socket, { hello: kitClientHello(this.opts.profile, host), clientChain, trust: this.opts.trust, crypto: ateccCrypto(this.atecc) });
    tls.on("error", () => {});
    try {
      await tls.handshake();
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return tls;
  }
}
