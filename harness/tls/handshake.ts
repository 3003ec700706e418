/**
 * TLS 1.2 handshake messages (RFC 5246 §7.4, RFC 8422 for ECDHE/ECDSA): decode and encode, as plain
 * data. Used by the capture analyzer, the virtual kit's WINC client and the emulator's server.
 */
import { Reader, readU16List, TlsDecodeError, u16List, Writer } from "./bytes.ts";
import { ExtensionType, HandshakeType, HANDSHAKE_NAMES } from "./constants.ts";

export interface Extension {
  type: number;
  data: Buffer;
}

export interface ClientHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuites: number[];
  compressionMethods: number[];
  /** null when the hello carries no extensions block at all. */
  extensions: Extension[] | null;
}

export interface ServerHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Extension[] | null;
}

export interface ServerKeyExchange {
  curveType: number;
  namedCurve: number;
  publicPoint: Buffer;
  /** The ServerECDHParams bytes, as signed. */
  params: Buffer;
  signatureAlgorithm: number;
  signature: Buffer;
}

export interface CertificateRequest {
  certificateTypes: number[];
  signatureAlgorithms: number[];
  /** DER distinguished names. */
  certificateAuthorities: Buffer[];
}

export interface CertificateVerify {
  signatureAlgorithm: number;
  signature: Buffer;
}

/** A handshake message with its framing: `raw` is type‖u24 length‖body, as hashed in the transcript. */
export interface HandshakeMessage {
  type: number;
  body: Buffer;
  raw: Buffer;
}

export function handshakeName(type: number): string {
  return HANDSHAKE_NAMES[type] ?? `handshake_${type}`;
}

export function frameHandshake(type: number, body: Uint8Array): Buffer {
  return new Writer().u8(type).vec24(body).finish();
}

function readExtensions(r: Reader): Extension[] | null {
  if (r.remaining === 0) return null;
  const block = r.sub(r.u16("extensions length"), "extensions");
  const out: Extension[] = [];
  while (block.remaining) {
    const type = block.u16("extension type");
    out.push({ type, data: block.vec16(`extension ${type}`) });
  }
  return out;
}

function writeExtensions(w: Writer, exts: Extension[] | null): void {
  if (exts === null) return;
  const inner = new Writer();
  for (const e of exts) inner.u16(e.type).vec16(e.data);
  w.vec16(inner.finish());
}

export function decodeClientHello(body: Buffer): ClientHello {
  const r = new Reader(body, "ClientHello");
  const hello: ClientHello = {
    version: r.u16("client_version"),
    random: r.bytes(32, "random"),
    sessionId: r.vec8("session_id"),
    cipherSuites: readU16List(r.vec16("cipher_suites"), "ClientHello cipher_suites"),
    compressionMethods: [...r.vec8("compression_methods")],
    extensions: null,
  };
  hello.extensions = readExtensions(r);
  r.expectEnd();
  return hello;
}

export function encodeClientHello(h: ClientHello): Buffer {
  const w = new Writer().u16(h.version).bytes(h.random).vec8(h.sessionId).bytes(u16List(h.cipherSuites)).vec8(Buffer.from(h.compressionMethods));
  writeExtensions(w, h.extensions);
  return frameHandshake(HandshakeType.clientHello, w.finish());
}

export function decodeServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, "ServerHello");
  const hello: ServerHello = {
    version: r.u16("server_version"),
    random: r.bytes(32, "random"),
    sessionId: r.vec8("session_id"),
    cipherSuite: r.u16("cipher_suite"),
    compressionMethod: r.u8("compression_method"),
    extensions: null,
  };
  hello.extensions = readExtensions(r);
  r.expectEnd();
  return hello;
}

export function encodeServerHello(h: ServerHello): Buffer {
  const w = new Writer().u16(h.version).bytes(h.random).vec8(h.sessionId).u16(h.cipherSuite).u8(h.compressionMethod);
  writeExtensions(w, h.extensions);
  return frameHandshake(HandshakeType.serverHello, w.finish());
}

/** Certificate message: DER certificates, leaf first. */
export function decodeCertificate(body: Buffer): Buffer[] {
  const r = new Reader(body, "Certificate");
  const list = r.sub(r.u24("certificate_list length"), "certificate_list");
  r.expectEnd();
  const out: Buffer[] = [];
  while (list.remaining) out.push(list.vec24("certificate"));
  return out;
}

export function encodeCertificate(chain: readonly Uint8Array[]): Buffer {
  const inner = new Writer();
  for (const c of chain) inner.vec24(c);
  return frameHandshake(HandshakeType.certificate, new Writer().vec24(inner.finish()).finish());
}

export function decodeServerKeyExchange(body: Buffer): ServerKeyExchange {
  const r = new Reader(body, "ServerKeyExchange");
  const curveType = r.u8("curve_type");
  if (curveType !== 3) throw new TlsDecodeError("ServerKeyExchange", `curve_type ${curveType} is not named_curve (3)`);
  const namedCurve = r.u16("named_curve");
  const publicPoint = r.vec8("public point");
  const params = body.subarray(0, r.pos);
  const ske = { curveType, namedCurve, publicPoint, params, signatureAlgorithm: r.u16("signature algorithm"), signature: r.vec16("signature") };
  r.expectEnd();
  return ske;
}

export function ecdhParams(namedCurve: number, publicPoint: Uint8Array): Buffer {
  return new Writer().u8(3).u16(namedCurve).vec8(publicPoint).finish();
}

export function encodeServerKeyExchange(params: Buffer, signatureAlgorithm: number, signature: Uint8Array): Buffer {
  return frameHandshake(HandshakeType.serverKeyExchange, new Writer().bytes(params).u16(signatureAlgorithm).vec16(signature).finish());
}

export function decodeCertificateRequest(body: Buffer): CertificateRequest {
  const r = new Reader(body, "CertificateRequest");
  const certificateTypes = [...r.vec8("certificate_types")];
  const signatureAlgorithms = readU16List(r.vec16("supported_signature_algorithms"), "CertificateRequest signature algorithms");
  const cas = r.sub(r.u16("certificate_authorities length"), "certificate_authorities");
  r.expectEnd();
  const certificateAuthorities: Buffer[] = [];
  while (cas.remaining) certificateAuthorities.push(cas.vec16("distinguished name"));
  return { certificateTypes, signatureAlgorithms, certificateAuthorities };
}

export function encodeCertificateRequest(req: CertificateRequest): Buffer {
  const cas = new Writer();
  for (const dn of req.certificateAuthorities) cas.vec16(dn);
  const body = new Writer().vec8(Buffer.from(req.certificateTypes)).bytes(u16List(req.signatureAlgorithms)).vec16(cas.finish()).finish();
  return frameHandshake(HandshakeType.certificateRequest, body);
}

export function encodeServerHelloDone(): Buffer {
  return frameHandshake(HandshakeType.serverHelloDone, Buffer.alloc(0));
}

/** ClientKeyExchange for ECDHE: the client's public point. */
export function decodeClientKeyExchange(body: Buffer): Buffer {
  const r = new Reader(body, "ClientKeyExchange");
  const point = r.vec8("ecdh_Yc");
  r.expectEnd();
  return point;
}

export function encodeClientKeyExchange(point: Uint8Array): Buffer {
  return frameHandshake(HandshakeType.clientKeyExchange, new Writer().vec8(point).finish());
}

export function decodeCertificateVerify(body: Buffer): CertificateVerify {
  const r = new Reader(body, "CertificateVerify");
  const cv = { signatureAlgorithm: r.u16("signature algorithm"), signature: r.vec16("signature") };
  r.expectEnd();
  return cv;
}

export function encodeCertificateVerify(signatureAlgorithm: number, signature: Uint8Array): Buffer {
  return frameHandshake(HandshakeType.certificateVerify, new Writer().u16(signatureAlgorithm).vec16(signature).finish());
}

export function encodeFinished(verifyData: Uint8Array): Buffer {
  return frameHandshake(HandshakeType.finished, verifyData);
}

/** Reassembles handshake messages that span records (or share one). */
export class HandshakeReassembler {
  private buf = Buffer.alloc(0);

  push(fragment: Uint8Array): HandshakeMessage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, fragment]) : Buffer.from(fragment);
    const out: HandshakeMessage[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUIntBE(1, 3);
      if (this.buf.length < 4 + len) break;
      const raw = this.buf.subarray(0, 4 + len);
      out.push({ type: raw[0]!, body: raw.subarray(4), raw });
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }

  get pending(): number {
    return this.buf.length;
  }

  /** The length the next (incomplete) message declares; 0 while its header is not in. */
  get nextLength(): number {
    return this.buf.length >= 4 ? this.buf.readUIntBE(1, 3) : 0;
  }
}

export function findExtension(exts: Extension[] | null, type: number): Buffer | undefined {
  return exts?.find((e) => e.type === type)?.data;
}

/** host_name from a server_name extension. */
export function sniOf(exts: Extension[] | null): string | undefined {
  const data = findExtension(exts, ExtensionType.serverName);
  if (!data) return undefined;
  const r = new Reader(data, "server_name");
  const list = r.sub(r.u16("server_name_list length"), "server_name_list");
  while (list.remaining) {
    const type = list.u8("name_type");
    const name = list.vec16("host_name");
    if (type === 0) return name.toString("ascii");
  }
  return undefined;
}

export function sniExtension(host: string): Extension {
  const name = new Writer().u8(0).vec16(Buffer.from(host, "ascii")).finish();
  return { type: ExtensionType.serverName, data: new Writer().vec16(name).finish() };
}

export function u16ListExtension(type: number, values: readonly number[]): Extension {
  return { type, data: u16List(values) };
}

export function u16ListOf(exts: Extension[] | null, type: number): number[] | undefined {
  const data = findExtension(exts, type);
  if (!data) return undefined;
  const r = new Reader(data, `extension ${type}`);
  const list = readU16List(r.vec16("list"), `extension ${type}`);
  r.expectEnd();
  return list;
}

/** supported_versions in a ClientHello (u8-prefixed list) or a ServerHello (one u16). */
export function supportedVersionsOf(exts: Extension[] | null, inServerHello: boolean): number[] | undefined {
  const data = findExtension(exts, ExtensionType.supportedVersions);
  if (!data) return undefined;
  if (inServerHello) return [new Reader(data, "supported_versions").u16("selected_version")];
  return readU16List(new Reader(data, "supported_versions").vec8("versions"), "supported_versions");
}
