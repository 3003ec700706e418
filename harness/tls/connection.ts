/**
 * What a TLS 1.2 endpoint of the kit's suite does on either side once messages are decided: write
 * records (plaintext until ChangeCipherSpec, AES-128-GCM after), read records into handshake
 * messages, alerts and application data, keep the transcript, derive keys. The server (emulator's
 * `aws` stack) and the client (virtual kit's WINC1500) are thin state machines over this.
 */
import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { ZtError } from "../errors.ts";
import { alertName, ContentType, TLS12 } from "./constants.ts";
import { HandshakeReassembler, type HandshakeMessage } from "./handshake.ts";

/** The largest handshake message either side accepts (a kit's chain is ~1 KB, AWS's server chain ~5 KB). */
export const MAX_HANDSHAKE_MESSAGE = 64 * 1024;
import { keyBlock, masterSecret, verifyData } from "./keys.ts";
import { keyLogLine } from "./keylog.ts";
import { GcmRecordCipher } from "./record-protection.ts";
import { encodeRecord, RecordReader } from "./record.ts";

/** A TLS failure with the alert that was (or should be) sent. */
export class TlsAlertError extends ZtError {
  constructor(
    readonly alert: number,
    message: string,
    readonly sentBy: "us" | "peer" = "us",
  ) {
    super("TLS", `${message} (${sentBy === "us" ? "sent" : "received"} ${alertName(alert)})`);
  }
}

export type Side = "client" | "server";

export interface ConnectionEvents {
  handshake(msg: HandshakeMessage): void;
  changeCipherSpec(): void;
  applicationData(data: Buffer): void;
  alert(level: number, description: number): void;
}

export class RecordConnection {
  readonly transcript: Buffer[] = [];
  clientRandom: Buffer = Buffer.alloc(0);
  serverRandom: Buffer = Buffer.alloc(0);
  master: Buffer | null = null;
  private readCipher: GcmRecordCipher | null = null;
  private writeCipher: GcmRecordCipher | null = null;
  private pendingRead: GcmRecordCipher | null = null;
  private readonly reader: RecordReader;
  private readonly hs = new HandshakeReassembler();
  closed = false;

  constructor(
    readonly socket: Socket,
    readonly side: Side,
    private readonly events: ConnectionEvents,
  ) {
    this.reader = new RecordReader(`TLS ${side === "server" ? "client → server" : "server → client"}`);
  }

  /** Feed bytes from the socket; dispatches records to the events. */
  receive(data: Buffer): void {
    this.reader.push(data);
    for (let rec = this.reader.next(); rec && !this.closed; rec = this.reader.next()) {
      let body = rec.fragment;
      if (this.readCipher && rec.type !== ContentType.changeCipherSpec) body = this.readCipher.open(rec.type, rec.version, body);
      switch (rec.type) {
        case ContentType.handshake:
          for (const m of this.hs.push(body)) this.events.handshake(m);
          // A peer announcing a huge message is refused at its header, not after megabytes of it.
          if (this.hs.nextLength > MAX_HANDSHAKE_MESSAGE) throw new TlsAlertError(47, `a handshake message of ${this.hs.nextLength} bytes (over the ${MAX_HANDSHAKE_MESSAGE}-byte limit)`);
          break;
        case ContentType.changeCipherSpec:
          if (!this.pendingRead) throw new TlsAlertError(10, "ChangeCipherSpec before keys were agreed");
          this.readCipher = this.pendingRead;
          this.pendingRead = null;
          this.events.changeCipherSpec();
          break;
        case ContentType.alert:
          this.events.alert(body[0] ?? 2, body[1] ?? 0);
          break;
        case ContentType.applicationData:
          if (!this.readCipher) throw new TlsAlertError(10, "application data before the handshake completed");
          this.events.applicationData(body);
          break;
        default:
          throw new TlsAlertError(10, `unexpected record type ${rec.type}`);
      }
    }
  }

  /** Record a handshake message in the transcript (both directions, in protocol order). */
  hash(msg: Buffer | HandshakeMessage): void {
    this.transcript.push(Buffer.isBuffer(msg) ? msg : msg.raw);
  }

  transcriptHash(): Buffer {
    const h = createHash("sha256");
    for (const m of this.transcript) h.update(m);
    return h.digest();
  }

  transcriptBytes(): Buffer {
    return Buffer.concat(this.transcript);
  }

  writeRecord(type: number, payload: Buffer): void {
    if (this.closed) return;
    const chunks: Buffer[] = [];
    for (let i = 0; i < payload.length || i === 0; i += 16384) {
      const part = payload.subarray(i, i + 16384);
      chunks.push(encodeRecord(type, TLS12, this.writeCipher ? this.writeCipher.seal(type, TLS12, part) : part));
      if (payload.length === 0) break;
    }
    this.socket.write(Buffer.concat(chunks));
  }

  /** Write handshake messages (already framed) as one record and add them to the transcript. */
  writeHandshake(...msgs: Buffer[]): void {
    for (const m of msgs) this.hash(m);
    this.writeRecord(ContentType.handshake, Buffer.concat(msgs));
  }

  /** Derive the master secret and traffic keys; returns the NSS key log line. */
  establish(preMaster: Buffer): string {
    this.master = masterSecret(preMaster, this.clientRandom, this.serverRandom);
    const k = keyBlock(this.master, this.clientRandom, this.serverRandom);
    const client = () => new GcmRecordCipher(k.clientKey, k.clientIv);
    const server = () => new GcmRecordCipher(k.serverKey, k.serverIv);
    this.pendingRead = this.side === "server" ? client() : server();
    this.pendingWrite = this.side === "server" ? server() : client();
    return keyLogLine(this.clientRandom, this.master);
  }

  private pendingWrite: GcmRecordCipher | null = null;

  /** Send ChangeCipherSpec and switch the write side to the new keys. */
  changeCipherSpec(): void {
    this.writeRecord(ContentType.changeCipherSpec, Buffer.from([1]));
    this.writeCipher = this.pendingWrite;
  }

  finishedData(who: Side): Buffer {
    if (!this.master) throw new TlsAlertError(80, "Finished before the master secret");
    return verifyData(this.master, who, this.transcriptHash());
  }

  get encrypting(): boolean {
    return this.writeCipher !== null;
  }

  sendAlert(level: 1 | 2, description: number): void {
    this.writeRecord(ContentType.alert, Buffer.from([level, description]));
  }

  /** Send a fatal alert (encrypted once keys are in use) and close the TCP connection. */
  fail(description: number): void {
    if (this.closed) return;
    this.sendAlert(2, description);
    this.closed = true;
    this.socket.end();
  }
}

/**
 * The application-data side of a TLS connection as a Duplex: writes become protected records once the
 * handshake is done, end() sends close_notify, destroy() closes the socket. The client and the server
 * state machines extend it and push what they decrypt.
 */
export abstract class TlsDuplex extends Duplex {
  protected abstract readonly conn: RecordConnection;
  protected abstract get established(): boolean;

  constructor(readonly socket: Socket) {
    super();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.established) return cb(new Error("TLS connection is not open"));
    this.conn.writeRecord(ContentType.applicationData, chunk);
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.established && !this.conn.closed) this.conn.sendAlert(1, 0);
    this.conn.closed = true;
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
