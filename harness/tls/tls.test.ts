import { createECDH, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { expect, test } from "@playwright/test";
import { needTools, run } from "../testing/tools.ts";
import { Reader, TlsDecodeError } from "./bytes.ts";
import { ContentType, ExtensionType, HandshakeType, NamedGroup, TLS12 } from "./constants.ts";
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeClientHello,
  decodeClientKeyExchange,
  decodeServerHello,
  decodeServerKeyExchange,
  ecdhParams,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  encodeClientHello,
  encodeClientKeyExchange,
  encodeServerHello,
  encodeServerKeyExchange,
  HandshakeReassembler,
  sniExtension,
  sniOf,
  u16ListExtension,
  u16ListOf,
} from "./handshake.ts";
import { keyBlock, masterSecret, prf, verifyData } from "./keys.ts";
import { encodeRecord, RecordReader } from "./record.ts";
import { GcmRecordCipher } from "./record-protection.ts";
import { verifyTlsSignature } from "./signatures.ts";

const body = (framed: Buffer) => framed.subarray(4);

test("the PRF agrees with OpenSSL's TLS1-PRF", () => {
  needTools("openssl");
  const secret = randomBytes(48);
  const seed = randomBytes(64);
  const ours = prf(secret, "key expansion", seed, 104);
  const theirs = run("openssl", ["kdf", "-keylen", "104", "-kdfopt", "digest:SHA2-256", "-kdfopt", `hexsecret:${secret.toString("hex")}`, "-kdfopt", `hexseed:${Buffer.concat([Buffer.from("key expansion"), seed]).toString("hex")}`, "TLS1-PRF"]);
  expect(ours.toString("hex")).toBe(theirs.trim().replace(/:/g, "").toLowerCase());
});

test("the kit's seed ClientHello is 51 bytes with one suite and only signature_algorithms", () => {
  const hello = {
    version: TLS12,
    random: randomBytes(32),
    sessionId: Buffer.alloc(0),
    cipherSuites: [0xc02b],
    compressionMethods: [0],
    extensions: [u16ListExtension(ExtensionType.signatureAlgorithms, [0x0403])],
  };
  const framed = encodeClientHello(hello);
  expect(framed.length - 4).toBe(51);
  expect(framed.readUInt16BE(framed.length - 10)).toBe(8); // extensions length
  const back = decodeClientHello(body(framed));
  expect(back).toEqual(hello);
  expect(u16ListOf(back.extensions, ExtensionType.supportedGroups)).toBeUndefined();
  const record = encodeRecord(ContentType.handshake, TLS12, framed);
  expect(record.subarray(0, 5).toString("hex")).toBe("1603030037");
});

test("every handshake message round-trips through encode and decode", () => {
  const sh = { version: TLS12, random: randomBytes(32), sessionId: randomBytes(32), cipherSuite: 0xc02b, compressionMethod: 0, extensions: null };
  expect(decodeServerHello(body(encodeServerHello(sh)))).toEqual(sh);
  const chain = [randomBytes(300), randomBytes(280)];
  expect(decodeCertificate(body(encodeCertificate(chain)))).toEqual(chain);
  const point = createECDH("prime256v1").generateKeys();
  const params = ecdhParams(NamedGroup.secp256r1, point);
  const ske = decodeServerKeyExchange(body(encodeServerKeyExchange(params, 0x0403, Buffer.from("sig"))));
  expect([ske.namedCurve, ske.publicPoint.equals(point), ske.params.equals(params), ske.signatureAlgorithm, ske.signature.toString()]).toEqual([23, true, true, 0x0403, "sig"]);
  const cr = { certificateTypes: [64, 1, 2], signatureAlgorithms: [0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301, 0x0203, 0x0201, 0x0202], certificateAuthorities: [] };
  expect(decodeCertificateRequest(body(encodeCertificateRequest(cr)))).toEqual(cr);
  expect(decodeClientKeyExchange(body(encodeClientKeyExchange(point)))).toEqual(point);
  expect(decodeCertificateVerify(body(encodeCertificateVerify(0x0403, Buffer.from("x"))))).toEqual({ signatureAlgorithm: 0x0403, signature: Buffer.from("x") });
  const withSni = { ...sh, extensions: [sniExtension("a1b2c3-ats.iot.us-east-1.amazonaws.com")] };
  expect(sniOf(decodeServerHello(body(encodeServerHello(withSni))).extensions)).toBe("a1b2c3-ats.iot.us-east-1.amazonaws.com");
});

test("messages split across records and records split across reads reassemble", () => {
  const msgs = [encodeServerHello({ version: TLS12, random: randomBytes(32), sessionId: Buffer.alloc(0), cipherSuite: 0xc02b, compressionMethod: 0, extensions: null }), encodeCertificate([randomBytes(1000)])];
  const all = Buffer.concat(msgs);
  const records = Buffer.concat([encodeRecord(22, TLS12, all.subarray(0, 50)), encodeRecord(22, TLS12, all.subarray(50))]);
  const reader = new RecordReader("test stream");
  const hs = new HandshakeReassembler();
  const got: number[] = [];
  for (let i = 0; i < records.length; i += 7) {
    reader.push(records.subarray(i, i + 7));
    for (let r = reader.next(); r; r = reader.next()) got.push(...hs.push(r.fragment).map((m) => m.type));
  }
  expect(got).toEqual([HandshakeType.serverHello, HandshakeType.certificate]);
  expect(hs.pending).toBe(0);
});

test("malformed input is a TlsDecodeError naming the field and offset", () => {
  const framed = encodeClientHello({ version: TLS12, random: randomBytes(32), sessionId: Buffer.alloc(0), cipherSuites: [0xc02b], compressionMethods: [0], extensions: [] });
  expect(() => decodeClientHello(body(framed).subarray(0, 40))).toThrow(TlsDecodeError);
  expect(() => decodeClientHello(body(framed).subarray(0, 37))).toThrow(/ClientHello: truncated cipher_suites: needs 2 byte\(s\) at offset 37, 0 left/);
  expect(() => decodeClientHello(Buffer.concat([body(framed), Buffer.from([0])]))).toThrow(/trailing byte/);
  const reader = new RecordReader("client → server stream");
  reader.push(Buffer.from("GET / HTTP/1.1\r\n"));
  expect(() => reader.next()).toThrow(/stream offset 0 are not a TLS record header/);
  expect(() => new Reader(Buffer.alloc(1), "x").u16("length")).toThrow(/needs 2 byte\(s\) at offset 0, 1 left/);
});

test("AES-128-GCM records round-trip and a flipped bit is bad_record_mac", () => {
  const master = masterSecret(randomBytes(32), randomBytes(32), randomBytes(32));
  const k = keyBlock(master, randomBytes(32), randomBytes(32));
  const tx = new GcmRecordCipher(k.clientKey, k.clientIv);
  const rx = new GcmRecordCipher(k.clientKey, k.clientIv);
  const a = tx.seal(23, TLS12, Buffer.from("first"));
  const b = tx.seal(23, TLS12, Buffer.from("second"));
  expect(a.length).toBe(8 + 5 + 16);
  expect(rx.open(23, TLS12, a).toString()).toBe("first");
  const tampered = Buffer.from(b);
  tampered[10]! ^= 1;
  expect(() => rx.open(23, TLS12, tampered)).toThrow(/bad_record_mac/);
  expect(verifyData(master, "client", randomBytes(32))).toHaveLength(12);
});

test("TLS signatures verify for ECDSA and RSA, and a wrong key or scheme is caught", () => {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const data = randomBytes(200);
  expect(verifyTlsSignature(ec.publicKey, 0x0403, data, sign("sha256", data, ec.privateKey))).toBe("valid");
  expect(verifyTlsSignature(ec.publicKey, 0x0403, randomBytes(200), sign("sha256", data, ec.privateKey))).toBe("invalid");
  expect(verifyTlsSignature(rsa.publicKey, 0x0401, data, sign("sha256", data, rsa.privateKey))).toBe("valid");
  expect(verifyTlsSignature(rsa.publicKey, 0x0804, data, sign("sha256", data, { key: rsa.privateKey, padding: 6, saltLength: 32 }))).toBe("valid");
  expect(verifyTlsSignature(null, 0x0403, data, Buffer.alloc(0))).toBe("unverifiable");
  expect(verifyTlsSignature(ec.publicKey, 0x0807, data, Buffer.alloc(64))).toBe("unverifiable");
});
