/**
 * A TLS 1.2 client for the kit's suite with client authentication, in the order the WINC1500 does it:
 * verify the server chain and ServerKeyExchange, send the client Certificate, make an ephemeral key and
 * the shared secret, sign the transcript (CertificateVerify), then ChangeCipherSpec and Finished. Every
 * asymmetric operation goes through a ClientCrypto provider, so the virtual kit can route them to its
 * ATECC508A model (raw R‖S signatures, 64-byte X‖Y keys) and tests can use node:crypto.
 * Each client flight message is written as it becomes ready, so captures show the crypto time between them.
 *
 * Hand-written because no TLS library lets a client's asymmetric operations happen in a secure element
 * model, or send a ClientHello byte for byte as the kit's does.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { Socket } from "node:net";
import { certificateSignedParts, derToRaw, rawToDer } from "../pki/ecdsa-signature.ts";
import { rawPublicKey } from "../pki/keys.ts";
import { HandshakeType, NamedGroup, SignatureScheme, TLS12, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 } from "./constants.ts";
import { RecordConnection, TlsAlertError, TlsDuplex } from "./connection.ts";
import {
  decodeCertificate,
  decodeServerHello,
  decodeServerKeyExchange,
  encodeCertificate,
  encodeCertificateVerify,
  encodeClientHello,
  encodeClientKeyExchange,
  encodeFinished,
  type ClientHello,
  type HandshakeMessage,
  type ServerKeyExchange,
} from "./handshake.ts";

export interface ClientCrypto {
  /** Verify a P-256 signature (raw R‖S) of a SHA-256 digest with a public key (X‖Y). */
  verify(digest: Buffer, signature: Buffer, publicKey: Buffer): Promise<boolean>;
  /** A fresh ephemeral P-256 key; returns its public X‖Y. */
  ephemeralKey(): Promise<Buffer>;
  /** ECDH of the ephemeral key with the server's point (X‖Y): the premaster secret. */
  ecdh(peer: Buffer): Promise<Buffer>;
  /** Sign a SHA-256 digest with the client's key: raw R‖S. */
  sign(digest: Buffer): Promise<Buffer>;
}

export interface TlsClientOptions {
  hello: ClientHello;
  /** DER certificates the client presents, leaf first. */
  clientChain: Buffer[];
  /** Trusted root certificates (DER) for the server chain. */
  trust: Buffer[];
  crypto: ClientCrypto;
}

const AD = { unexpected_message: 10, bad_certificate: 42, unknown_ca: 48, decrypt_error: 51, handshake_failure: 40, illegal_parameter: 47 };

function xyOf(der: Buffer): Buffer {
  try {
    return rawPublicKey(new X509Certificate(der).publicKey);
  } catch {
    throw new TlsAlertError(AD.bad_certificate, "server certificate key is not P-256");
  }
}

/** SHA-256 of the TBSCertificate and the raw signature of a server certificate. */
function signedParts(der: Buffer): { digest: Buffer; signature: Buffer } {
  const parts = certificateSignedParts(der, "server certificate");
  if (!parts) throw new TlsAlertError(AD.bad_certificate, "server certificate is malformed");
  return parts;
}

export class TlsClientConnection extends TlsDuplex {
  protected readonly conn: RecordConnection;
  private inbox: HandshakeMessage[] = [];
  private waiters: (() => void)[] = [];
  private open = false;
  private failure: Error | null = null;
  /** Times (performance.now()) of each step, for reports. */
  readonly timeline: { step: string; at: number }[] = [];

  constructor(
    socket: Socket,
    private readonly opts: TlsClientOptions,
  ) {
    super(socket);
    this.conn = new RecordConnection(socket, "client", {
      handshake: (m) => this.deliver(m),
      changeCipherSpec: () => this.deliver({ type: -1, body: Buffer.alloc(0), raw: Buffer.alloc(0) }),
      applicationData: (d) => this.push(d),
      alert: (level, desc) => {
        if (desc === 0) return this.push(null);
        if (level === 2) this.abort(new TlsAlertError(desc, "the server aborted the connection", "peer"));
      },
    });
    socket.on("data", (d: Buffer) => {
      try {
        this.conn.receive(d);
      } catch (err) {
        this.abort(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on("end", () => {
      this.abort(new Error("the server closed the connection"));
      this.push(null);
    });
    socket.on("error", (err) => this.abort(err));
    socket.on("close", () => this.destroy());
  }

  protected get established(): boolean {
    return this.open;
  }

  private mark(step: string): void {
    this.timeline.push({ step, at: performance.now() });
  }

  private deliver(m: HandshakeMessage): void {
    this.inbox.push(m);
    this.waiters.splice(0).forEach((w) => w());
  }

  private abort(err: Error): void {
    if (this.open || this.failure) return;
    this.failure = err;
    this.waiters.splice(0).forEach((w) => w());
  }

  private async next(type: number, what: string): Promise<HandshakeMessage> {
    while (!this.inbox.length) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const m = this.inbox.shift()!;
    if (m.type !== type) throw new TlsAlertError(AD.unexpected_message, `expected ${what}, got handshake type ${m.type}`);
    return m;
  }

  private fail(alert: number, message: string): never {
    this.conn.fail(alert);
    throw new TlsAlertError(alert, message);
  }

  /** Run the handshake; resolves once the server's Finished verified. */
  async handshake(): Promise<void> {
    const { crypto } = this.opts;
    const ch = encodeClientHello(this.opts.hello);
    this.conn.clientRandom = this.opts.hello.random;
    this.mark("ClientHello");
    this.conn.writeHandshake(ch);

    const shMsg = await this.next(HandshakeType.serverHello, "ServerHello");
    const sh = decodeServerHello(shMsg.body);
    if (sh.version !== TLS12 || sh.cipherSuite !== TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) this.fail(AD.handshake_failure, `server chose version 0x${sh.version.toString(16)} suite 0x${sh.cipherSuite.toString(16)}`);
    this.conn.hash(shMsg);
    this.conn.serverRandom = sh.random;
    const certMsg = await this.next(HandshakeType.certificate, "Certificate");
    this.conn.hash(certMsg);
    const chain = decodeCertificate(certMsg.body);
    const skeMsg = await this.next(HandshakeType.serverKeyExchange, "ServerKeyExchange");
    this.conn.hash(skeMsg);
    const ske: ServerKeyExchange = decodeServerKeyExchange(skeMsg.body);
    let m = await this.nextAny();
    let requested = false;
    if (m.type === HandshakeType.certificateRequest) {
      requested = true;
      this.conn.hash(m);
      m = await this.nextAny();
    }
    if (m.type !== HandshakeType.serverHelloDone) this.fail(AD.unexpected_message, `expected ServerHelloDone, got ${m.type}`);
    this.conn.hash(m);
    this.mark("ServerHelloDone");

    await this.verifyServer(chain, ske);
    if (requested) {
      this.conn.writeHandshake(encodeCertificate(this.opts.clientChain));
      this.mark("Certificate");
    }
    if (ske.namedCurve !== NamedGroup.secp256r1 || ske.publicPoint.length !== 65 || ske.publicPoint[0] !== 4) this.fail(AD.illegal_parameter, "server's ECDHE key is not an uncompressed P-256 point");
    const ours = await crypto.ephemeralKey();
    const premaster = await crypto.ecdh(ske.publicPoint.subarray(1));
    this.conn.writeHandshake(encodeClientKeyExchange(Buffer.concat([Buffer.from([4]), ours])));
    this.mark("ClientKeyExchange");
    this.keyLogLine = this.conn.establish(premaster);
    if (requested) {
      const digest = createHash("sha256").update(this.conn.transcriptBytes()).digest();
      const sig = await crypto.sign(digest);
      this.conn.writeHandshake(encodeCertificateVerify(SignatureScheme.ecdsaSecp256r1Sha256, rawToDer(sig)));
      this.mark("CertificateVerify");
    }
    this.conn.changeCipherSpec();
    const fin = encodeFinished(this.conn.finishedData("client"));
    this.conn.writeHandshake(fin);
    this.mark("Finished");
    const ccs = await this.nextAny();
    if (ccs.type !== -1) this.fail(AD.unexpected_message, "expected the server's ChangeCipherSpec");
    const sfin = await this.next(HandshakeType.finished, "server Finished");
    if (!this.conn.finishedData("server").equals(sfin.body)) this.fail(AD.decrypt_error, "the server's Finished does not verify");
    this.conn.hash(sfin);
    this.mark("server Finished");
    this.open = true;
  }

  /** The NSS key log line of this session (available after ClientKeyExchange). */
  keyLogLine = "";

  private async nextAny(): Promise<HandshakeMessage> {
    while (!this.inbox.length) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.inbox.shift()!;
  }

  private async verifyServer(chain: Buffer[], ske: ServerKeyExchange): Promise<void> {
    const { crypto, trust } = this.opts;
    if (!chain.length) this.fail(AD.bad_certificate, "the server sent no certificate");
    const all = [...chain, ...trust];
    const trusted = new Set(trust.map((t) => t.toString("hex")));
    for (let i = 0; ; i++) {
      const cert = chain[i]!;
      if (trusted.has(cert.toString("hex"))) break;
      const x = new X509Certificate(cert);
      const issuer = all.find((c) => c !== cert && x.checkIssued(new X509Certificate(c)));
      if (!issuer) this.fail(AD.unknown_ca, `no trusted issuer for "${x.subject.replace(/\n/g, ", ")}"`);
      const { digest, signature } = signedParts(cert);
      if (!(await crypto.verify(digest, signature, xyOf(issuer)))) this.fail(AD.bad_certificate, `the signature on "${x.subject.replace(/\n/g, ", ")}" does not verify`);
      if (trusted.has(issuer.toString("hex"))) break;
      if (i + 1 >= chain.length || chain[i + 1] !== issuer) this.fail(AD.unknown_ca, "the server chain does not lead to a trusted root");
    }
    const digest = createHash("sha256").update(Buffer.concat([this.conn.clientRandom, this.conn.serverRandom, ske.params])).digest();
    if (ske.signatureAlgorithm !== SignatureScheme.ecdsaSecp256r1Sha256) this.fail(AD.handshake_failure, `ServerKeyExchange signed with 0x${ske.signatureAlgorithm.toString(16)}`);
    if (!(await crypto.verify(digest, derToRaw(ske.signature), xyOf(chain[0]!)))) this.fail(AD.decrypt_error, "the ServerKeyExchange signature does not verify");
  }
}
