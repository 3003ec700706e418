/**
 * Handshake verdicts: from the two byte streams of one connection (with arrival times) to what a QA
 * engineer asks of a TLS handshake. Which version and suite were negotiated, did the server ask for a
 * client certificate, did the client send its chain, does the CertificateVerify really verify against
 * the client's leaf over the transcript, did the ServerKeyExchange verify against the server's leaf,
 * did both sides finish, who alerted, who closed, and how long each phase took.
 * With a key log the protected records are opened: Finished verify_data is checked and the
 * application data is handed back for the caller to decode (MQTT).
 */
import { createHash } from "node:crypto";
import { TlsDecodeError } from "./bytes.ts";
import { alertName, ContentType, EXTENSION_NAMES, ExtensionType, GROUP_NAMES, HandshakeType, TLS12, TLS13, versionName } from "./constants.ts";
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeClientHello,
  decodeServerHello,
  decodeServerKeyExchange,
  handshakeName,
  HandshakeReassembler,
  sniOf,
  supportedVersionsOf,
  u16ListOf,
  type ClientHello,
  type HandshakeMessage,
  type ServerHello,
} from "./handshake.ts";
import { keyBlock, verifyData } from "./keys.ts";
import type { KeyLog } from "./keylog.ts";
import { GcmRecordCipher } from "./record-protection.ts";
import { RecordReader, type TlsRecord } from "./record.ts";
import { certificatePublicKey, parseCertificateCached, verifyTlsSignature, type SignatureCheck } from "./signatures.ts";

export type Side = "client" | "server";

/** One direction's reassembled bytes and when each byte arrived. */
export interface TimedStream {
  data: Buffer;
  timeAt(offset: number): number;
  /** Where the stream stops being contiguous (bytes lost in capture), if it does. */
  gapAt?: number;
}

export interface ConnectionInput {
  client: string;
  server: string;
  toServer: TimedStream;
  toClient: TimedStream;
  /** Capture time that `time` fields are relative to (first packet of the file). */
  t0: number;
  closed?: { by: Side; how: "FIN" | "RST"; time: number };
  keyLog?: KeyLog;
}

export interface CertSummary {
  subject: string;
  issuer: string;
  /** SHA-256 of the certificate's DER (lowercase hex): the same certificate, byte for byte. */
  sha256: string;
}

export interface AlertVerdict {
  from: Side;
  level: "warning" | "fatal" | null;
  description: string | null;
  encrypted: boolean;
  time: number;
}

export interface MessageVerdict {
  from: Side;
  type: string;
  time: number;
  encrypted?: boolean;
}

export interface ConnectionVerdict {
  client: string;
  server: string;
  version: string | null;
  offeredVersions: string[];
  offeredSuites: number[];
  extensions: { type: number; name: string }[];
  sni: string | null;
  groups: number[];
  groupNames: string[];
  sigalgs: number[];
  /** The ClientHello's bytes (handshake framing included), for byte-level comparisons. */
  clientHello: string | null;
  negotiatedSuite: number | null;
  serverCertificates: CertSummary[];
  serverKeyExchange: { curve: string; signatureAlgorithm: number; signature: SignatureCheck } | null;
  clientAuth: {
    requested: boolean;
    certificateTypes: number[];
    signatureAlgorithms: number[];
    certificateAuthorities: number;
    clientCertificates: number;
    clientChain: CertSummary[];
    certificateVerify: "valid" | "invalid" | "absent" | "unverifiable";
  };
  changeCipherSpec: { client: boolean; server: boolean };
  finished: { client: FinishedCheck; server: FinishedCheck };
  handshakeComplete: boolean;
  decrypted: boolean;
  alerts: AlertVerdict[];
  closed: { by: Side; how: "FIN" | "RST"; time: number } | null;
  messages: MessageVerdict[];
  /** Milliseconds between handshake milestones (budget names of rigs/budgets.yaml). */
  phases: Record<string, number>;
  problems: string[];
}

export type FinishedCheck = "valid" | "invalid" | "encrypted" | "absent";

export interface AnalyzedConnection {
  verdict: ConnectionVerdict;
  /** Decrypted application data per side, in order, with times (relative). */
  applicationData: { from: Side; data: Buffer; time: number }[];
}

interface TimedRecord extends TlsRecord {
  from: Side;
  time: number;
  seq: number;
}

function readRecords(stream: TimedStream, from: Side, t0: number, problems: string[]): TimedRecord[] {
  const reader = new RecordReader(`${from} → ${from === "client" ? "server" : "client"} stream`);
  const limit = stream.gapAt ?? stream.data.length;
  reader.push(stream.data.subarray(0, limit));
  const out: TimedRecord[] = [];
  try {
    for (let r = reader.next(); r; r = reader.next()) out.push({ ...r, from, seq: out.length, time: stream.timeAt(r.offset + 4 + r.fragment.length) - t0 });
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return out;
  }
  if (stream.gapAt !== undefined) problems.push(`${from} stream has a capture gap at byte ${stream.gapAt}; records after it are not analyzed`);
  else if (reader.pending) problems.push(`${from} stream ends inside a record (${reader.pending} bytes of an incomplete record)`);
  return out;
}

function summary(der: Buffer): CertSummary {
  const c = parseCertificateCached(der);
  const sha256 = createHash("sha256").update(der).digest("hex");
  return c ? { subject: c.subject, issuer: c.issuer, sha256 } : { subject: "(unparseable certificate)", issuer: "", sha256 };
}

/** Quick content check: does this stream start with a TLS handshake record carrying a ClientHello? */
export function startsWithClientHello(data: Buffer): boolean {
  return data.length >= 6 && data[0] === ContentType.handshake && data[1] === 3 && data[5] === HandshakeType.clientHello;
}

export function analyzeConnection(input: ConnectionInput): AnalyzedConnection {
  const problems: string[] = [];
  const { t0 } = input;
  const records = [...readRecords(input.toServer, "client", t0, problems), ...readRecords(input.toClient, "server", t0, problems)];
  const messages: (MessageVerdict & { order: number })[] = [];
  const hs: Record<Side, (HandshakeMessage & { time: number })[]> = { client: [], server: [] };
  const ccs: Record<Side, number | null> = { client: null, server: null };
  const protectedRecords: TimedRecord[] = [];
  const alerts: AlertVerdict[] = [];
  const reassembler: Record<Side, HandshakeReassembler> = { client: new HandshakeReassembler(), server: new HandshakeReassembler() };
  let order = 0;
  const note = (from: Side, type: string, time: number, encrypted?: boolean) => messages.push({ from, type, time, order: order++, ...(encrypted ? { encrypted } : {}) });
  let tls13 = false;

  // records: the client's, then the server's, each in stream order
  for (const rec of records) {
    if (ccs[rec.from] !== null || (tls13 && rec.type === ContentType.applicationData)) {
      if (rec.type === ContentType.changeCipherSpec) continue; // TLS 1.3 middlebox-compatibility CCS
      protectedRecords.push(rec);
      continue;
    }
    if (rec.type === ContentType.handshake) {
      for (const m of reassembler[rec.from].push(rec.fragment)) {
        hs[rec.from].push({ ...m, time: rec.time });
        note(rec.from, handshakeName(m.type), rec.time);
        if (m.type === HandshakeType.serverHello) {
          try {
            tls13 = supportedVersionsOf(decodeServerHello(m.body).extensions, true)?.[0] === TLS13;
          } catch {
            /* reported below when the ServerHello is decoded */
          }
        }
      }
    } else if (rec.type === ContentType.changeCipherSpec) {
      ccs[rec.from] = rec.time;
      note(rec.from, "ChangeCipherSpec", rec.time);
    } else if (rec.type === ContentType.alert) {
      const level = rec.fragment[0] === 2 ? "fatal" : rec.fragment[0] === 1 ? "warning" : null;
      const description = rec.fragment.length >= 2 ? alertName(rec.fragment[1]!) : null;
      alerts.push({ from: rec.from, level, description, encrypted: false, time: rec.time });
      note(rec.from, "Alert", rec.time);
    } else if (rec.type === ContentType.applicationData) {
      problems.push(`${rec.from} sent application data before ChangeCipherSpec`);
      note(rec.from, "ApplicationData", rec.time);
    }
  }

  // Decode the hellos and the rest of the plaintext handshake.
  const find = (side: Side, type: number) => hs[side].find((m) => m.type === type);
  const decode = <T>(fn: () => T, what: string): T | null => {
    try {
      return fn();
    } catch (err) {
      problems.push(err instanceof TlsDecodeError ? err.message : `${what}: ${(err as Error).message}`);
      return null;
    }
  };
  const chMsg = find("client", HandshakeType.clientHello);
  const ch: ClientHello | null = chMsg ? decode(() => decodeClientHello(chMsg.body), "ClientHello") : null;
  const shMsg = find("server", HandshakeType.serverHello);
  const sh: ServerHello | null = shMsg ? decode(() => decodeServerHello(shMsg.body), "ServerHello") : null;
  const serverChain = (() => {
    const m = find("server", HandshakeType.certificate);
    return m ? (decode(() => decodeCertificate(m.body), "server Certificate") ?? []) : [];
  })();
  const clientCertMsg = find("client", HandshakeType.certificate);
  const clientChain = clientCertMsg ? (decode(() => decodeCertificate(clientCertMsg.body), "client Certificate") ?? []) : [];
  const crMsg = find("server", HandshakeType.certificateRequest);
  const cr = crMsg ? decode(() => decodeCertificateRequest(crMsg.body), "CertificateRequest") : null;

  let serverKeyExchange: ConnectionVerdict["serverKeyExchange"] = null;
  const skeMsg = find("server", HandshakeType.serverKeyExchange);
  if (skeMsg && ch && sh) {
    const ske = decode(() => decodeServerKeyExchange(skeMsg.body), "ServerKeyExchange");
    if (ske) {
      const signed = Buffer.concat([ch.random, sh.random, ske.params]);
      const leaf = serverChain[0] ? certificatePublicKey(serverChain[0]) : null;
      serverKeyExchange = { curve: GROUP_NAMES[ske.namedCurve] ?? `group_${ske.namedCurve}`, signatureAlgorithm: ske.signatureAlgorithm, signature: verifyTlsSignature(leaf, ske.signatureAlgorithm, signed, ske.signature) };
    }
  }

  // CertificateVerify signs every handshake message before it: ClientHello, the server's flight, the
  // client's Certificate and ClientKeyExchange, in protocol order.
  const cvIndex = hs.client.findIndex((m) => m.type === HandshakeType.certificateVerify);
  let certificateVerify: ConnectionVerdict["clientAuth"]["certificateVerify"] = "absent";
  // The server's first flight ends with ServerHelloDone; a NewSessionTicket comes after the client's Finished.
  const shdIndex = hs.server.findIndex((m) => m.type === HandshakeType.serverHelloDone);
  const serverFlight = shdIndex >= 0 ? hs.server.slice(0, shdIndex + 1) : hs.server;
  const serverLate = shdIndex >= 0 ? hs.server.slice(shdIndex + 1) : [];
  const transcriptUpTo = (clientCount: number) => Buffer.concat([...hs.client.slice(0, 1), ...serverFlight, ...hs.client.slice(1, clientCount)].map((m) => m.raw));
  if (cvIndex >= 0) {
    const cv = decode(() => decodeCertificateVerify(hs.client[cvIndex]!.body), "CertificateVerify");
    const leaf = clientChain[0] ? certificatePublicKey(clientChain[0]) : null;
    certificateVerify = cv ? verifyTlsSignature(leaf, cv.signatureAlgorithm, transcriptUpTo(cvIndex), cv.signature) : "invalid";
  }

  // Protected records: open them when the key log has this session, otherwise name what they must be.
  const master = ch && input.keyLog?.get(ch.random.toString("hex"));
  const aes128gcm = sh && [0xc02b, 0xc02f, 0x009c, 0x009e].includes(sh.cipherSuite);
  let ciphers: Record<Side, GcmRecordCipher> | null = null;
  if (master && sh && aes128gcm && !tls13) {
    const k = keyBlock(master, ch!.random, sh.random);
    ciphers = { client: new GcmRecordCipher(k.clientKey, k.clientIv), server: new GcmRecordCipher(k.serverKey, k.serverIv) };
  } else if (master && sh && !aes128gcm) {
    problems.push(`key log has this session but suite 0x${sh.cipherSuite.toString(16)} is not decrypted by zt-hil (AES-128-GCM suites only)`);
  }
  const finished: Record<Side, FinishedCheck> = { client: "absent", server: "absent" };
  const applicationData: AnalyzedConnection["applicationData"] = [];
  const openFailed = new Set<Side>();
  let clientFinishedRaw: Buffer | null = null;
  for (const rec of protectedRecords) {
    const type = rec.type;
    let body: Buffer | null = null;
    if (ciphers && !openFailed.has(rec.from)) {
      try {
        body = ciphers[rec.from].open(rec.type, rec.version, rec.fragment);
      } catch (err) {
        openFailed.add(rec.from);
        problems.push(`${rec.from}: ${(err as Error).message}`);
      }
    }
    if (type === ContentType.handshake) {
      if (body && body[0] === HandshakeType.finished) {
        const transcript =
          rec.from === "client"
            ? transcriptUpTo(hs.client.length)
            : Buffer.concat([transcriptUpTo(hs.client.length), ...(clientFinishedRaw ? [clientFinishedRaw] : []), ...serverLate.map((m) => m.raw)]);
        const expected = verifyData(master!, rec.from, createHash("sha256").update(transcript).digest());
        finished[rec.from] = expected.equals(body.subarray(4, 16)) && body.length === 16 ? "valid" : "invalid";
        if (rec.from === "client") clientFinishedRaw = body;
        note(rec.from, "Finished", rec.time);
      } else if (finished[rec.from] === "absent") {
        finished[rec.from] = body ? "invalid" : "encrypted";
        note(rec.from, "Finished", rec.time, !body);
      } else {
        note(rec.from, body ? handshakeName(body[0]!) : "EncryptedHandshake", rec.time, !body);
      }
    } else if (type === ContentType.alert) {
      alerts.push({
        from: rec.from,
        level: body ? (body[0] === 2 ? "fatal" : "warning") : null,
        description: body && body.length >= 2 ? alertName(body[1]!) : null,
        encrypted: true,
        time: rec.time,
      });
      note(rec.from, "Alert", rec.time, !body);
    } else if (type === ContentType.applicationData) {
      if (body) applicationData.push({ from: rec.from, data: body, time: rec.time });
      note(rec.from, "ApplicationData", rec.time, !body);
    }
  }

  const version = sh ? versionName(supportedVersionsOf(sh.extensions, true)?.[0] ?? sh.version) : null;
  const firstTime = (side: Side, type: string) => messages.find((m) => m.from === side && m.type === type)?.time;
  const handshakeComplete =
    !tls13 && sh?.version === TLS12
      ? ccs.client !== null && ccs.server !== null && finished.client !== "absent" && finished.server !== "absent" && finished.client !== "invalid" && finished.server !== "invalid"
      : tls13 && messages.some((m) => m.from === "client" && m.type === "ApplicationData") && !alerts.some((a) => a.level === "fatal" || a.encrypted);

  const phases: Record<string, number> = {};
  const ms = (a?: number, b?: number) => (a !== undefined && b !== undefined ? Math.round((b - a) * 1e6) / 1e3 : undefined);
  const put = (name: string, v?: number) => v !== undefined && (phases[name] = v);
  const tCH = firstTime("client", "ClientHello");
  const tSHD = firstTime("server", "ServerHelloDone");
  const tCCert = firstTime("client", "Certificate");
  const tCKE = firstTime("client", "ClientKeyExchange");
  const tCV = firstTime("client", "CertificateVerify");
  const tSFin = firstTime("server", "Finished");
  put("clientHelloToServerHelloDone", ms(tCH, tSHD));
  put("serverHelloDoneToClientCertificate", ms(tSHD, tCCert));
  put("clientCertificateToClientKeyExchange", ms(tCCert, tCKE));
  put("clientKeyExchangeToCertificateVerify", ms(tCKE, tCV));
  put("certificateVerifyToFinished", ms(tCV, tSFin));
  put("total", ms(tCH, tSFin));

  const verdict: ConnectionVerdict = {
    client: input.client,
    server: input.server,
    version,
    offeredVersions: (ch ? (supportedVersionsOf(ch.extensions, false) ?? [ch.version]) : []).map(versionName),
    offeredSuites: ch?.cipherSuites ?? [],
    extensions: (ch?.extensions ?? []).map((e) => ({ type: e.type, name: EXTENSION_NAMES[e.type] ?? `ext_${e.type}` })),
    sni: ch ? (sniOf(ch.extensions) ?? null) : null,
    groups: (ch && u16ListOf(ch.extensions, ExtensionType.supportedGroups)) ?? [],
    groupNames: ((ch && u16ListOf(ch.extensions, ExtensionType.supportedGroups)) ?? []).map((g) => GROUP_NAMES[g] ?? `group_${g}`),
    sigalgs: (ch && u16ListOf(ch.extensions, ExtensionType.signatureAlgorithms)) ?? [],
    clientHello: chMsg ? chMsg.raw.toString("hex") : null,
    negotiatedSuite: sh?.cipherSuite ?? null,
    serverCertificates: serverChain.map(summary),
    serverKeyExchange,
    clientAuth: {
      requested: cr !== null,
      certificateTypes: cr?.certificateTypes ?? [],
      signatureAlgorithms: cr?.signatureAlgorithms ?? [],
      certificateAuthorities: cr?.certificateAuthorities.length ?? 0,
      clientCertificates: clientChain.length,
      clientChain: clientChain.map(summary),
      certificateVerify,
    },
    changeCipherSpec: { client: ccs.client !== null, server: ccs.server !== null },
    finished,
    handshakeComplete,
    decrypted: ciphers !== null,
    alerts,
    closed: input.closed ?? null,
    messages: messages.sort((a, b) => a.time - b.time || a.order - b.order).map(({ order: _o, ...m }) => m),
    phases,
    problems,
  };
  return { verdict, applicationData };
}
