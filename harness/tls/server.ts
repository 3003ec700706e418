/**
 * A TLS 1.2 server for the kit's suite (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) with client
 * authentication, behaving as AWS IoT did for the kit: a ClientHello with no supported_groups gets
 * P-256 (RFC 4492 §4 lets the server choose), where OpenSSL refuses it with handshake_failure
 * (KIT-FACTS §7). The CertificateRequest names no CAs, as AWS's does; the client's chain is returned
 * for the caller to judge against its own registry. Ordinary clients (OpenSSL, mosquitto, mqtt.js)
 * negotiate the same suite with it.
 *
 * Hand-written because no TLS library lets a server accept that ClientHello; the codecs are harness/tls.
 */
import { createECDH, randomBytes, sign, type KeyObject } from "node:crypto";
import type { Socket } from "node:net";
import { ExtensionType, HandshakeType, NamedGroup, SignatureScheme, TLS12, TLS13, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 } from "./constants.ts";
import { RecordConnection, TlsAlertError, TlsDuplex } from "./connection.ts";
import {
  decodeCertificate,
  decodeCertificateVerify,
  decodeClientHello,
  decodeClientKeyExchange,
  ecdhParams,
  encodeCertificate,
  encodeCertificateRequest,
  encodeFinished,
  encodeServerHello,
  encodeServerHelloDone,
  encodeServerKeyExchange,
  findExtension,
  sniOf,
  supportedVersionsOf,
  u16ListOf,
  type ClientHello,
  type Extension,
  type HandshakeMessage,
} from "./handshake.ts";
import { certificatePublicKey, verifyTlsSignature } from "./signatures.ts";

/** Signature algorithms in AWS's CertificateRequest as the seed capture shows them. */
export const AWS_CERT_REQUEST_SIGALGS = [0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301, 0x0203, 0x0201, 0x0202];

export interface TlsServerOptions {
  /** DER certificates, leaf first. The leaf's key must be EC P-256. */
  certChain: Buffer[];
  key: KeyObject;
  requestCert?: boolean;
  /** Refuse a ClientHello without SNI (unrecognized_name). */
  requireSni?: boolean;
}

export interface SecureInfo {
  peerChain: Buffer[];
  sni: string | null;
  keyLogLine: string;
  clientHello: ClientHello;
}

const AD = { unexpected_message: 10, handshake_failure: 40, bad_certificate: 42, illegal_parameter: 47, decode_error: 50, decrypt_error: 51, protocol_version: 70, unrecognized_name: 112 };

/**
 * One server-side TLS connection over a socket. Emits 'secure' (SecureInfo) once both Finished
 * messages are exchanged; afterwards the Duplex carries application data. Errors emit 'tlsError'
 * (TlsAlertError) after the alert is sent; the stream then ends.
 */
export class TlsServerConnection extends TlsDuplex {
  protected readonly conn: RecordConnection;
  private state: "hello" | "certificate" | "keyExchange" | "verify" | "ccs" | "finished" | "open" = "hello";
  private ecdh = createECDH("prime256v1");
  private peerChain: Buffer[] = [];
  private hello: ClientHello | null = null;
  private keyLog = "";

  constructor(
    socket: Socket,
    private readonly opts: TlsServerOptions,
  ) {
    super(socket);
    this.conn = new RecordConnection(socket, "server", {
      handshake: (m) => this.onHandshake(m),
      changeCipherSpec: () => this.expect("ccs", "ChangeCipherSpec") && (this.state = "finished"),
      applicationData: (d) => this.push(d),
      alert: (level, desc) => {
        if (desc === 0) this.endFromPeer();
        else if (level === 2) this.fatalFromPeer(desc);
      },
    });
    socket.on("data", (d: Buffer) => {
      try {
        this.conn.receive(d);
      } catch (err) {
        this.failWith(err);
      }
    });
    socket.on("end", () => this.push(null));
    socket.on("close", () => this.destroy());
    socket.on("error", (err) => this.destroy(err));
  }

  protected get established(): boolean {
    return this.state === "open";
  }

  private expect(state: TlsServerConnection["state"], what: string): boolean {
    if (this.state !== state) throw new TlsAlertError(AD.unexpected_message, `${what} arrived in state ${this.state}`);
    return true;
  }

  private failWith(err: unknown): void {
    const e = err instanceof TlsAlertError ? err : new TlsAlertError(err instanceof Error && /bad_record_mac/.test(err.message) ? 20 : AD.decode_error, err instanceof Error ? err.message : String(err));
    this.conn.fail(e.alert);
    this.emit("tlsError", e);
    this.push(null);
  }

  private fatalFromPeer(desc: number): void {
    this.conn.closed = true;
    this.emit("tlsError", new TlsAlertError(desc, "the client aborted the handshake", "peer"));
    this.socket.end();
    this.push(null);
  }

  private endFromPeer(): void {
    this.push(null);
  }

  /** Send a fatal alert to the client (encrypted once the handshake is done) and close. */
  alertAndClose(description: number): void {
    this.conn.fail(description);
  }

  private onHandshake(m: HandshakeMessage): void {
    switch (m.type) {
      case HandshakeType.clientHello:
        this.expect("hello", "ClientHello");
        this.conn.hash(m);
        return this.serverFlight(decodeClientHello(m.body));
      case HandshakeType.certificate:
        this.expect("certificate", "Certificate");
        this.conn.hash(m);
        this.peerChain = decodeCertificate(m.body);
        if (this.peerChain.length === 0) throw new TlsAlertError(AD.handshake_failure, "the client sent no certificate");
        this.state = "keyExchange";
        return;
      case HandshakeType.clientKeyExchange: {
        this.expect("keyExchange", "ClientKeyExchange");
        this.conn.hash(m);
        let pre: Buffer;
        try {
          pre = this.ecdh.computeSecret(decodeClientKeyExchange(m.body));
        } catch {
          throw new TlsAlertError(AD.illegal_parameter, "the client's ECDH point is not on P-256");
        }
        this.keyLog = this.conn.establish(pre);
        this.emit("keylog", this.keyLog);
        this.state = this.opts.requestCert ? "verify" : "ccs";
        return;
      }
      case HandshakeType.certificateVerify: {
        this.expect("verify", "CertificateVerify");
        const cv = decodeCertificateVerify(m.body);
        const verdict = verifyTlsSignature(certificatePublicKey(this.peerChain[0]!), cv.signatureAlgorithm, this.conn.transcriptBytes(), cv.signature);
        if (verdict !== "valid") throw new TlsAlertError(AD.decrypt_error, `the client's CertificateVerify is ${verdict}`);
        this.conn.hash(m);
        this.state = "ccs";
        return;
      }
      case HandshakeType.finished: {
        this.expect("finished", "Finished");
        const expected = this.conn.finishedData("client");
        if (!expected.equals(m.body)) throw new TlsAlertError(AD.decrypt_error, "the client's Finished does not verify");
        this.conn.hash(m);
        this.conn.changeCipherSpec();
        this.conn.writeHandshake(encodeFinished(this.conn.finishedData("server")));
        this.state = "open";
        this.emit("secure", { peerChain: this.peerChain, sni: sniOf(this.hello!.extensions) ?? null, keyLogLine: this.keyLog, clientHello: this.hello! } satisfies SecureInfo);
        return;
      }
      default:
        throw new TlsAlertError(AD.unexpected_message, `unexpected handshake message ${m.type}`);
    }
  }

  private serverFlight(hello: ClientHello): void {
    this.hello = hello;
    const versions = supportedVersionsOf(hello.extensions, false);
    if (versions ? !versions.includes(TLS12) : hello.version < TLS12) {
      throw new TlsAlertError(AD.protocol_version, `the client offers ${versions ? versions.map((v) => v.toString(16)).join(",") : hello.version.toString(16)}, not TLS 1.2`);
    }
    if (versions && versions.every((v) => v === TLS13)) throw new TlsAlertError(AD.protocol_version, "TLS 1.3 only");
    if (!hello.cipherSuites.includes(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)) throw new TlsAlertError(AD.handshake_failure, "the client does not offer TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    const groups = u16ListOf(hello.extensions, ExtensionType.supportedGroups);
    if (groups && !groups.includes(NamedGroup.secp256r1)) throw new TlsAlertError(AD.handshake_failure, "the client supports no group in common (P-256)");
    const sigalgs = u16ListOf(hello.extensions, ExtensionType.signatureAlgorithms);
    if (sigalgs && !sigalgs.includes(SignatureScheme.ecdsaSecp256r1Sha256)) throw new TlsAlertError(AD.handshake_failure, "the client does not accept ECDSA-SHA256 signatures");
    if (this.opts.requireSni && !sniOf(hello.extensions)) throw new TlsAlertError(AD.unrecognized_name, "the ClientHello carries no SNI");

    this.conn.clientRandom = hello.random;
    this.conn.serverRandom = randomBytes(32);
    const exts: Extension[] = [];
    if (findExtension(hello.extensions, ExtensionType.renegotiationInfo) || hello.cipherSuites.includes(0x00ff)) exts.push({ type: ExtensionType.renegotiationInfo, data: Buffer.from([0]) });
    if (findExtension(hello.extensions, ExtensionType.ecPointFormats)) exts.push({ type: ExtensionType.ecPointFormats, data: Buffer.from([1, 0]) });
    const point = this.ecdh.generateKeys();
    const params = ecdhParams(NamedGroup.secp256r1, point);
    const signature = sign("sha256", Buffer.concat([this.conn.clientRandom, this.conn.serverRandom, params]), this.opts.key);
    const flight = [
      encodeServerHello({ version: TLS12, random: this.conn.serverRandom, sessionId: randomBytes(32), cipherSuite: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, compressionMethod: 0, extensions: exts.length ? exts : null }),
      encodeCertificate(this.opts.certChain),
      encodeServerKeyExchange(params, SignatureScheme.ecdsaSecp256r1Sha256, signature),
      ...(this.opts.requestCert ? [encodeCertificateRequest({ certificateTypes: [1, 2, 64], signatureAlgorithms: AWS_CERT_REQUEST_SIGALGS, certificateAuthorities: [] })] : []),
      encodeServerHelloDone(),
    ];
    this.conn.writeHandshake(...flight);
    this.state = this.opts.requestCert ? "certificate" : "keyExchange";
  }
}
