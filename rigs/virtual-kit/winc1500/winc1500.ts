/**
 * The ATWINC1500 as firmware v2.2.5 drives it: calls return at once (m2m_wifi_connect, gethostbyname,
 * connect) and their results come back as events that the host only sees when it calls
 * m2m_wifi_handle_events — which the firmware does once per 100 ms Wi-Fi task tick and inside its
 * socket read/send loops. The TLS client runs on the WINC, but every asymmetric operation is an ECC
 * request to the host (M2M_SSL_REQ_ECC), served by one handle_events call each: server chain and
 * ServerKeyExchange through Verify, the ephemeral key through GenKey slot 2 and ECDH, CertificateVerify
 * through Sign slot 0. That is why a real kit's handshake takes seconds.
 *
 * Profiles (what the WINC firmware puts in its ClientHello; the v2.2.5 firmware asks for
 * SSL_ECC_ONLY_CIPHERS = 0xC023 + 0xC02B, socket.h:309, and never sets SO_SSL_SNI):
 * - `19.5.2` (the WINC firmware v2.2.5's readme requires; the default): both suites, null compression,
 *   one extension, signature_algorithms 0x0403 [winc: inferred from 19.4.4's bytes and the cipher mask;
 *   the order, 0xC02B first, is inferred too — the twin's TLS client implements only the GCM suite, so
 *   a server that picked 0xC023 would fail the twin where a real WINC would go on];
 * - `19.4.4`: the seed capture byte for byte: 0xC02B only, signature_algorithms only;
 * - `19.6`: both suites, supported_groups (P-256) and signature_algorithms [winc]; SNI only when the
 *   host firmware sets it — v2.2.5 does not.
 * Which server errors map to which socket error code is the WINC's closed firmware [winc]: the twin
 * reports SOCK_ERR_CONN_ABORTED (-12) for TCP and TLS failures.
 */
import { randomBytes } from "node:crypto";
import { connect, isIPv4 } from "node:net";
import { TlsClientConnection, type ClientCrypto } from "../../../harness/tls/client.ts";
import { ExtensionType, NamedGroup, SignatureScheme, TLS12, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 } from "../../../harness/tls/constants.ts";
import { sniExtension, u16ListExtension, type ClientHello } from "../../../harness/tls/handshake.ts";

export const WINC_PROFILES = ["19.5.2", "19.4.4", "19.6"] as const;
export type WincProfile = (typeof WINC_PROFILES)[number];

/** m2m_types.h of the driver compiled into v2.2.5 (M2M_RELEASE_VERSION 19.5.2). */
export const DRIVER_VERSION = "19.5.2";

/** SOCK_ERR_* codes (socket.h) the twin reports. */
export const SOCK_ERR = { connAborted: -12 } as const;

export function kitClientHello(profile: WincProfile, sni: string | null): ClientHello {
  const sigalgs = u16ListExtension(ExtensionType.signatureAlgorithms, [SignatureScheme.ecdsaSecp256r1Sha256]);
  const suites = profile === "19.4.4" ? [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256] : [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256];
  const extensions = profile === "19.6" ? [...(sni ? [sniExtension(sni)] : []), u16ListExtension(ExtensionType.supportedGroups, [NamedGroup.secp256r1]), sigalgs] : [sigalgs];
  return { version: TLS12, random: randomBytes(32), sessionId: Buffer.alloc(0), cipherSuites: suites, compressionMethods: [0], extensions };
}

export interface AccessPoint {
  ssid: string;
  /** WPA2 passphrase; null or "" for an open network. */
  psk: string | null;
  /** What DHCP gives the kit. */
  ip?: string;
  gateway?: string;
}

export interface WincOptions {
  profile: WincProfile;
  /** Trusted roots (DER) for server certificates (the WINC's root store). */
  trust: Buffer[];
  ap: AccessPoint;
  /** The lab's DNS: name → IPv4 address. */
  hosts?: Record<string, string>;
}

export type WincEvent =
  | { kind: "wifi-connected" }
  | { kind: "wifi-disconnected" }
  | { kind: "dhcp"; ip: number[] }
  | { kind: "dns"; name: string; ip: string | null }
  | { kind: "socket-connect"; error: number }
  | { kind: "socket-error" };

/** The WINC firmware version block (console_print_winc_version). */
export function wincVersion(profile: WincProfile): { chipId: number; firmware: string; minDriver: string; driver: string } {
  // Chip id 0x1503A0 (ATWINC1500-B0) and the minimum driver version are [winc] inferred.
  return { chipId: 0x001503a0, firmware: profile, minDriver: "19.3.0", driver: DRIVER_VERSION };
}

function ipBytes(ip: string): number[] {
  return ip.split(".").map(Number);
}

export class Winc1500 {
  private readonly events: WincEvent[] = [];
  private readonly ecc: (() => Promise<void>)[] = [];
  private associated = false;
  private joining: NodeJS.Timeout | null = null;
  private socket: WincSocket | null = null;
  private epoch = 0;

  constructor(readonly opts: WincOptions) {}

  private post(e: WincEvent, afterMs = 0, epoch = this.epoch): void {
    const push = () => epoch === this.epoch && this.events.push(e);
    if (afterMs > 0) setTimeout(push, afterMs);
    else push();
  }

  /** Power lost or m2m_wifi_init again: nothing pending survives. */
  reset(): void {
    this.epoch++;
    this.events.length = 0;
    this.ecc.length = 0;
    this.associated = false;
    if (this.joining) clearTimeout(this.joining);
    this.socket?.close();
    this.socket = null;
  }

  /**
   * m2m_wifi_connect_sc's synchronous checks (m2m_wifi.c): SSID length 1–32, a 64-character WPA key must
   * be all hex. Returns 0 (M2M_SUCCESS) or -12 (M2M_ERR_FAIL); the join's outcome comes as an event.
   */
  connectAp(ssid: Buffer, ssidLength: number, open: boolean, psk: string): number {
    if (ssidLength <= 0 || ssidLength >= 33) return -12;
    if (!open && psk.length === 64 && !/^[0-9a-fA-F]{64}$/.test(psk)) return -12;
    const ap = this.opts.ap;
    const wanted = ssid.subarray(0, ssidLength).toString("latin1");
    const apOpen = !ap.psk;
    const ok = wanted === ap.ssid && (apOpen ? open : !open && psk === ap.psk);
    const epoch = this.epoch;
    // Association and DHCP take the lab AP a few tens of milliseconds [inferred timing].
    this.joining = setTimeout(() => {
      if (epoch !== this.epoch) return;
      if (!ok) return this.post({ kind: "wifi-disconnected" });
      this.associated = true;
      this.post({ kind: "wifi-connected" });
      this.post({ kind: "dhcp", ip: [...ipBytes(ap.ip ?? "192.168.1.23"), ...ipBytes(ap.gateway ?? "192.168.1.1")] }, 20, epoch);
    }, 40);
    return 0;
  }

  /** m2m_wifi_disconnect: the AP connection ends; the WINC reports it as an event. */
  disconnectAp(): void {
    if (this.joining) clearTimeout(this.joining);
    if (this.associated) this.post({ kind: "wifi-disconnected" });
    this.associated = false;
  }

  /**
   * gethostbyname: names over 64 characters are refused by the driver (socket.c, HOSTNAME_MAX_SIZE) and
   * no event ever comes; otherwise the lab DNS answers (a dotted quad resolves to itself [winc]).
   */
  gethostbyname(name: string): number {
    if (name.length > 64) return -6;
    const ip = this.opts.hosts?.[name] ?? (isIPv4(name) ? name : null);
    this.post({ kind: "dns", name, ip }, 5);
    return 0;
  }

  /**
   * socket() + connect() to ip:port with SSL: TCP, then the TLS handshake with the client chain the host
   * sent to the WINC (m2m_ssl_send_certs_to_winc) and the host's ECC operations. The result is a
   * SOCKET_MSG_CONNECT event.
   */
  connectSocket(ip: string, port: number, chain: Buffer[], crypto: ClientCrypto, onData: (d: Buffer) => void): WincSocket {
    this.socket?.close();
    const epoch = this.epoch;
    const deferred: ClientCrypto = {
      verify: (...a) => this.eccRequest(() => crypto.verify(...a)),
      ephemeralKey: () => this.eccRequest(() => crypto.ephemeralKey()),
      ecdh: (p) => this.eccRequest(() => crypto.ecdh(p)),
      sign: (d) => this.eccRequest(() => crypto.sign(d)),
    };
    // A socket the host closed reports nothing more (close() cancels a pending connect).
    const post = (e: WincEvent) => !sock.hostClosed && this.post(e, 0, epoch);
    const sock: WincSocket = new WincSocket(() => post({ kind: "socket-error" }), onData);
    this.socket = sock;
    const tcp = connect(port, ip);
    tcp.setNoDelay(true);
    sock.attachTcp(tcp);
    tcp.once("error", () => {
      if (!sock.tls) post({ kind: "socket-connect", error: SOCK_ERR.connAborted });
    });
    tcp.once("connect", () => {
      const tls = new TlsClientConnection(tcp, { hello: kitClientHello(this.opts.profile, null), clientChain: chain, trust: this.opts.trust, crypto: deferred });
      tls.on("error", () => {});
      sock.tls = tls;
      tls.handshake().then(
        () => {
          sock.established();
          post({ kind: "socket-connect", error: 0 });
        },
        () => {
          tcp.destroy();
          post({ kind: "socket-connect", error: SOCK_ERR.connAborted });
        },
      );
    });
    return sock;
  }

  private eccRequest<T>(op: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.ecc.push(() => op().then(resolve, reject)));
  }

  /**
   * m2m_wifi_handle_events: serve one pending ECC request (the WINC asks for the next one only after
   * this answer) and hand every queued event to the host.
   */
  async handleEvents(dispatch: (e: WincEvent) => Promise<void>): Promise<void> {
    const request = this.ecc.shift();
    if (request) await request();
    for (let e = this.events.shift(); e; e = this.events.shift()) await dispatch(e);
  }
}

/**
 * One WINC SSL socket as the host sees it: send, bytes received, and close. A server close is reported
 * when the host next reads or sends (SOCKET_MSG_RECV / SOCKET_MSG_SEND with an error).
 */
export class WincSocket {
  tls: TlsClientConnection | null = null;
  private tcp: import("node:net").Socket | null = null;
  private up = false;
  private errorReported = false;
  closedByPeer = false;
  hostClosed = false;
  private readonly dataWaiters: (() => void)[] = [];

  constructor(
    private readonly reportError: () => void,
    private readonly onData: (d: Buffer) => void,
  ) {}

  attachTcp(tcp: import("node:net").Socket): void {
    this.tcp = tcp;
  }

  established(): void {
    this.up = true;
    const tls = this.tls!;
    tls.on("data", (d: Buffer) => {
      this.onData(d);
      this.wake();
    });
    const gone = () => {
      this.closedByPeer = true;
      this.wake();
    };
    tls.on("close", gone);
    tls.on("end", gone);
  }

  private wake(): void {
    this.dataWaiters.splice(0).forEach((w) => w());
  }

  /** Resolves when data arrives, the peer closes, or `ms` pass. */
  waitData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.dataWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private error(): void {
    if (this.errorReported) return;
    this.errorReported = true;
    this.reportError();
  }

  /** recv(): the peer's close shows now, as a SOCKET_MSG_RECV error (once). */
  recvClosed(): boolean {
    if (this.closedByPeer) this.error();
    return this.closedByPeer;
  }

  /** send(): false when the connection is gone (the caller handles the SOCKET_MSG_SEND error). */
  send(bytes: Buffer): boolean {
    if (!this.up || this.closedByPeer || !this.tls) return false;
    this.tls.write(bytes);
    return true;
  }

  close(): void {
    this.hostClosed = true;
    this.up = false;
    this.tls?.destroy();
    this.tcp?.destroy();
    this.wake();
  }
}
