/**
 * The emulator's data plane: MQTT 3.1.1 (aedes) over TLS 1.2 on one port, with AWS IoT's connection
 * rules: authentication against the certificate registry (with JITR for unknown certificates of an
 * auto-registering CA), policy authorization of Connect/Publish/Subscribe/Receive, classic shadows on
 * $aws/things/<thing>/shadow/..., presence events, the rules engine, and the fault knobs.
 *
 * Two device-facing TLS stacks, chosen per connection by the `tlsStack` fault: `aws` (harness/tls
 * server, accepts the kit's seed ClientHello) and `openssl` (Node's tls, strict like OpenSSL).
 */
import { createHash, X509Certificate, type KeyObject } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { createSecureContext, TLSSocket, type SecureContext } from "node:tls";
import { EventEmitter } from "node:events";
import { MAX_MQTT_PACKET, mqttSizeGuard } from "./mqtt-limits.ts";
import { Aedes, type Client, type PublishPacket, type Subscription } from "aedes";
import { TlsServerConnection, type SecureInfo } from "../../tls/server.ts";
import type { Faults } from "./faults.ts";
import type { IotService } from "./iot-service.ts";
import { isAllowed, type PolicyContext } from "./policy.ts";
import { lambdaInvocations, type LambdaHandler } from "./rules.ts";
import type { Shadows } from "./shadows.ts";

export interface ServerIdentity {
  chain: Buffer[];
  chainPem: string;
  keyPem: string;
  key: KeyObject;
}

/** What the emulator reports about what happened, for assertions and reports. */
export interface EmulatorEvent {
  time: number;
  type:
    | "tls-error"
    | "refused"
    | "jitr-registered"
    | "jitr-pending"
    | "lambda-invoked"
    | "lambda-succeeded"
    | "lambda-failed"
    | "lambda-skipped"
    | "connected"
    | "disconnected"
    | "subscribed"
    | "published"
    | "revoked"
    | "taken-over";
  detail: Record<string, unknown>;
}

interface ConnectionContext {
  certId: string;
  certArn: string;
  remote: string;
}

type ZtStream = Duplex & { zt?: ConnectionContext };

const ALERT_CERTIFICATE_UNKNOWN = 46;
/** Sent as OpenSSL sends them for a client certificate outside its validity: past notAfter, before notBefore. */
const ALERT_CERTIFICATE_EXPIRED = 45;
const ALERT_BAD_CERTIFICATE = 42;

/** Device connections the emulator holds at once (a fleet benchmark's worth; AWS's limits are per account). */
export const MAX_DEVICE_CONNECTIONS = 4096;

export class DataPlane extends EventEmitter {
  readonly broker: Aedes;
  private server: Server | null = null;
  private secureContext: SecureContext;
  private connectTimes = new Map<string, number[]>();
  private connections = 0;
  private sockets = new Set<Socket>();

  /** How long a device-facing connection may take to complete its TLS handshake (AWS cuts idle ones too). */
  handshakeTimeoutMs = 10_000;

  private constructor(
    broker: Aedes,
    private readonly iot: IotService,
    private readonly shadows: Shadows,
    private readonly identity: ServerIdentity,
    private readonly faults: Faults,
    readonly lambdas: Map<string, LambdaHandler>,
    private readonly keyLogDir: string | null,
    readonly keyLog: string[],
  ) {
    super();
    this.broker = broker;
    this.secureContext = createSecureContext({
      cert: identity.chainPem,
      key: identity.keyPem,
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.2",
      ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256",
      ecdhCurve: "P-256",
      sigalgs: "ECDSA+SHA256",
    });
  }

  static async create(iot: IotService, shadows: Shadows, identity: ServerIdentity, faults: Faults, lambdas: Map<string, LambdaHandler>, keyLogDir: string | null, keyLog: string[]): Promise<DataPlane> {
    let dp: DataPlane | undefined;
    const broker = await Aedes.createBroker({
      preConnect: (client, packet, cb) => dp!.preConnect(client, packet.clientId, cb),
      authorizePublish: (client, packet, cb) => dp!.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => dp!.authorizeSubscribe(client, sub, cb),
      authorizeForward: (client, packet) => dp!.authorizeForward(client, packet),
      published: (packet, client, cb) => {
        dp?.onPublished(packet, client); // aedes publishes $SYS heartbeats before dp exists
        cb();
      },
    });
    dp = new DataPlane(broker, iot, shadows, identity, faults, lambdas, keyLogDir, keyLog);
    broker.on("clientReady", (c) => {
      dp!.presence(c, "connected");
      dp!.afterConnack(c);
    });
    broker.on("clientDisconnect", (c) => dp!.presence(c, "disconnected"));
    return dp;
  }

  private event(type: EmulatorEvent["type"], detail: Record<string, unknown>): void {
    this.emit("event", { time: Date.now(), type, detail } satisfies EmulatorEvent);
  }

  listen(port: number, host: string): Promise<number> {
    this.server = createServer((socket) => this.accept(socket));
    // Beyond this many device connections at once new ones are dropped, and counted.
    this.server.maxConnections = MAX_DEVICE_CONNECTIONS;
    this.server.on("drop", (d?: { remoteAddress?: string; remotePort?: number }) => this.event("refused", { remote: `${d?.remoteAddress}:${d?.remotePort}`, reason: `over ${MAX_DEVICE_CONNECTIONS} device connections` }));
    return new Promise((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, () => resolve((this.server!.address() as { port: number }).port));
    });
  }

  private recordKey(line: string): void {
    this.keyLog.push(line);
    if (!this.keyLogDir) return;
    mkdirSync(this.keyLogDir, { recursive: true });
    appendFileSync(join(this.keyLogDir, `connection-${this.connections}.log`), line + "\n", { mode: 0o600 });
    appendFileSync(join(this.keyLogDir, "all.log"), line + "\n", { mode: 0o600 });
  }

  private accept(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.setNoDelay(true); // MQTT is request/response: Nagle plus delayed ACKs would add ~40 ms a round trip
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    // A client that opens a connection and never finishes its handshake is cut off, and counted.
    let secure = false;
    const timer = setTimeout(() => {
      if (secure || socket.destroyed) return;
      this.event("refused", { remote, reason: `TLS handshake not complete within ${this.handshakeTimeoutMs} ms` });
      socket.destroy();
    }, this.handshakeTimeoutMs);
    socket.once("close", () => clearTimeout(timer));
    const established = () => {
      secure = true;
      clearTimeout(timer);
    };
    if (this.faults.tlsStack === "aws") {
      const tls = new TlsServerConnection(socket, { certChain: this.identity.chain, key: this.identity.key, requestCert: true, requireSni: this.faults.requireSni });
      tls.on("keylog", (line: string) => this.recordKey(line));
      tls.on("tlsError", (e: Error) => this.event("tls-error", { remote, stack: "aws", error: e.message }));
      tls.on("error", () => {});
      tls.on("secure", (info: SecureInfo) => (established(), this.admit(tls, info.peerChain[0], remote, (alert) => tls.alertAndClose(alert))));
    } else {
      const tls = new TLSSocket(socket, { isServer: true, secureContext: this.secureContext, requestCert: true, rejectUnauthorized: false });
      tls.on("keylog", (line: Buffer) => this.recordKey(line.toString().trim()));
      tls.on("error", (e: Error) => this.event("tls-error", { remote, stack: "openssl", error: e.message }));
      tls.on("secure", () => {
        established();
        if (this.faults.requireSni && !(tls as TLSSocket & { servername?: string }).servername) {
          this.event("refused", { remote, reason: "no SNI" });
          return tls.destroy();
        }
        this.admit(tls, tls.getPeerX509Certificate()?.raw, remote, () => tls.end());
      });
    }
  }

  /** After the TLS handshake: authenticate the client certificate, then hand the stream to MQTT. */
  private admit(stream: ZtStream, leaf: Buffer | undefined, remote: string, refuse: (alert: number) => void): void {
    if (this.faults.dropAfterHandshake) {
      this.event("refused", { remote, reason: "fault: dropAfterHandshake" });
      stream.destroy();
      return;
    }
    if (!leaf) {
      this.event("refused", { remote, reason: "no client certificate" });
      return refuse(ALERT_CERTIFICATE_UNKNOWN);
    }
    const verdict = this.authenticate(leaf);
    if (!verdict.ok) {
      this.event("refused", { remote, reason: verdict.reason, certificateId: verdict.certId });
      return refuse(verdict.reason === "certificate expired" ? ALERT_CERTIFICATE_EXPIRED : verdict.reason === "certificate not yet valid" ? ALERT_BAD_CERTIFICATE : ALERT_CERTIFICATE_UNKNOWN);
    }
    stream.zt = { certId: verdict.certId, certArn: this.iot.arn("cert", verdict.certId), remote };
    stream.on(
      "data",
      mqttSizeGuard(MAX_MQTT_PACKET, (size) => {
        this.event("refused", { remote, certificateId: verdict.certId, reason: `MQTT packet of ${size} bytes over the ${MAX_MQTT_PACKET}-byte limit` });
        stream.destroy();
      }),
    );
    this.broker.handle(stream);
  }

  private authenticate(der: Buffer): { ok: true; certId: string } | { ok: false; certId: string; reason: string } {
    const cert = new X509Certificate(der);
    const certId = createHash("sha256").update(der).digest("hex");
    const now = Date.now() + this.faults.clockOffsetMs;
    if (now < new Date(cert.validFrom).getTime()) return { ok: false, certId, reason: "certificate not yet valid" };
    if (now > new Date(cert.validTo).getTime()) return { ok: false, certId, reason: "certificate expired" };
    const known = this.iot.store.state.certs[certId];
    if (known) {
      if (known.status === "ACTIVE" && this.faults.revokeOnActivate) {
        this.iot.updateCertificate(certId, "REVOKED");
        this.event("revoked", { certificateId: certId, reason: "fault: revokeOnActivate" });
      }
      if (known.status === "ACTIVE") return { ok: true, certId };
      if (known.status === "PENDING_ACTIVATION" && known.caId) {
        const ca = this.iot.store.state.cas[known.caId];
        if (ca?.status === "ACTIVE" && ca.autoRegistration === "ENABLE") this.publishRegistered(certId, known.caId, known.created);
      }
      return { ok: false, certId, reason: `certificate is ${known.status}` };
    }
    const ca = this.iot.issuingCa(cert);
    if (!ca) return { ok: false, certId, reason: "unknown CA" };
    if (ca.status !== "ACTIVE") return { ok: false, certId, reason: `CA ${ca.id} is ${ca.status}` };
    if (ca.autoRegistration !== "ENABLE") return { ok: false, certId, reason: `CA ${ca.id} has auto-registration disabled` };
    const rec = this.iot.registerPending(cert, ca.id);
    this.event("jitr-registered", { certificateId: certId, caCertificateId: ca.id });
    this.publishRegistered(certId, ca.id, rec.created);
    return { ok: false, certId, reason: "certificate registered PENDING_ACTIVATION (JITR)" };
  }

  private publishRegistered(certificateId: string, caCertificateId: string, registered: number): void {
    this.event("jitr-pending", { certificateId, caCertificateId });
    this.publish(`$aws/events/certificates/registered/${caCertificateId}`, {
      certificateId,
      caCertificateId,
      timestamp: Date.now(),
      certificateStatus: "PENDING_ACTIVATION",
      awsAccountId: this.iot.account.accountId,
      certificateRegistrationTimestamp: String(Math.round(registered * 1000)),
    });
  }

  /** Publish from the service itself (events, shadow responses): delivered, and seen by the rules. */
  publish(topic: string, payload: unknown): void {
    this.broker.publish({ cmd: "publish", topic, payload: Buffer.from(JSON.stringify(payload)), qos: 0, retain: false, dup: false }, () => {});
  }

  private context(client: Client): (ConnectionContext & PolicyContext) | null {
    const zt = (client.conn as ZtStream).zt;
    if (!zt) return null;
    const things = this.iot.thingsOf(zt.certArn);
    return { ...zt, clientId: client.id, ...(things.includes(client.id) ? { thingName: client.id } : {}) };
  }

  private allowed(ctx: ConnectionContext & PolicyContext, action: string, kind: string, name: string): boolean {
    if ((this.faults.policyDeny as string[]).includes(action)) return false;
    const docs = this.iot.policiesOf(ctx.certArn).map((p) => p.document);
    return isAllowed(docs, action, this.iot.arn(kind, name), ctx);
  }

  private preConnect(client: Client, clientId: string, cb: (err: Error | null, ok: boolean) => void): void {
    // aedes closes the connection (without CONNACK) only when preConnect fails with an error.
    const refuse = (reason: string) => cb(new Error(reason), false);
    const zt = (client.conn as ZtStream).zt;
    if (!zt) return refuse("no TLS identity");
    if (this.faults.connectRatePerSecond !== null) {
      const now = Date.now();
      const recent = (this.connectTimes.get(clientId) ?? []).filter((t) => now - t < 1000);
      recent.push(now);
      this.connectTimes.set(clientId, recent);
      if (recent.length > this.faults.connectRatePerSecond) {
        this.event("refused", { remote: zt.remote, clientId, reason: "connect rate limit" });
        return refuse("connect rate limit");
      }
    }
    const things = this.iot.thingsOf(zt.certArn);
    const ctx = { ...zt, clientId, ...(things.includes(clientId) ? { thingName: clientId } : {}) };
    if (!this.allowed(ctx, "iot:Connect", "client", clientId)) {
      this.event("refused", { remote: zt.remote, clientId, certificateId: zt.certId, reason: "iot:Connect not allowed" });
      return refuse("iot:Connect not allowed");
    }
    if (this.faults.withholdConnack) return;
    cb(null, true);
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    if (!client) return cb(null);
    const ctx = this.context(client);
    if (!ctx || !this.allowed(ctx, "iot:Publish", "topic", packet.topic)) {
      this.event("refused", { clientId: client.id, reason: `iot:Publish not allowed on ${packet.topic}` });
      return cb(new Error("not authorized"));
    }
    if (this.faults.withholdPuback && packet.qos > 0) return;
    cb(null);
  }

  private authorizeSubscribe(client: Client, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void): void {
    const ctx = this.context(client);
    if (this.faults.withholdSuback) return;
    if (!ctx || !this.allowed(ctx, "iot:Subscribe", "topicfilter", sub.topic)) {
      this.event("refused", { clientId: client.id, reason: `iot:Subscribe not allowed on ${sub.topic}` });
      return cb(null, null);
    }
    this.event("subscribed", { clientId: client.id, topic: sub.topic });
    cb(null, { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 });
    const takeover = this.faults.takeoverAfterMs;
    if (takeover !== null) {
      // Another connection with the same client ID: AWS keeps the newer one and closes this one.
      setTimeout(() => {
        if (client.closed) return;
        this.event("taken-over", { clientId: client.id, reason: "fault: takeoverAfterMs (duplicate client ID)" });
        client.close();
      }, takeover);
    }
  }

  private authorizeForward<P extends PublishPacket>(client: Client, packet: P): P | null {
    const ctx = this.context(client);
    return ctx && this.allowed(ctx, "iot:Receive", "topic", packet.topic) ? packet : null;
  }

  private onPublished(packet: PublishPacket, client: Client | null): void {
    if (packet.topic.startsWith("$SYS/")) return;
    if (client) this.event("published", { clientId: client.id, topic: packet.topic });
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const m = /^\$aws\/things\/([^/]+)\/shadow\/(update|get|delete)$/.exec(packet.topic);
    if (m && client) this.shadowRequest(m[1]!, m[2] as "update" | "get" | "delete", payload);
    this.runRules(packet.topic, payload);
  }

  /** Handle a shadow request and publish the responses; returns the response for HTTP callers. */
  shadowRequest(thing: string, op: "update" | "get" | "delete", payload: Buffer) {
    let token: string | undefined;
    try {
      const t = (JSON.parse(payload.toString() || "{}") as { clientToken?: unknown }).clientToken;
      token = typeof t === "string" ? t : undefined;
    } catch {
      token = undefined;
    }
    const result = op === "update" ? this.shadows.update(thing, payload) : op === "get" ? this.shadows.get(thing, token) : this.shadows.delete(thing, token);
    const base = `$aws/things/${thing}/shadow`;
    if (result.ok) {
      if (op !== "update") this.publish(`${base}/${op}/accepted`, result.response);
      for (const p of result.publish) this.publish(`${base}/${p.suffix}`, p.payload);
    } else {
      this.publish(`${base}/${op}/rejected`, { ...result.error, timestamp: Math.floor(Date.now() / 1000), ...(token ? { clientToken: token } : {}) });
    }
    return result;
  }

  private runRules(topic: string, payload: Buffer): void {
    for (const inv of lambdaInvocations(Object.values(this.iot.store.state.rules), topic, payload)) {
      // AWS records nothing for a rule whose Lambda does not run; the emulator says so, for diagnosis.
      if (this.faults.lambda === "off") {
        this.event("lambda-skipped", { rule: inv.rule, function: inv.fn, reason: "fault: lambda=off" });
        continue;
      }
      const fn = this.lambdas.get(inv.fn);
      if (!fn) {
        this.event("lambda-failed", { rule: inv.rule, function: inv.fn, error: "no such function" });
        continue;
      }
      const delay = this.faults.lambdaDelayMs;
      const fail = this.faults.lambda === "fail";
      setTimeout(() => {
        this.event("lambda-invoked", { rule: inv.rule, function: inv.fn, event: inv.event });
        // The invocation's log lines (a customer's Lambda prints them; CloudWatch keeps them on AWS).
        const log: string[] = [];
        const run = fail ? Promise.reject(new Error("fault: lambda=fail")) : fn(inv.event, (line) => log.push(line));
        run.then(
          (result) => this.event("lambda-succeeded", { rule: inv.rule, function: inv.fn, result, ...(log.length ? { log } : {}) }),
          (err: Error) => this.event("lambda-failed", { rule: inv.rule, function: inv.fn, error: err.message, ...(log.length ? { log } : {}) }),
        );
      }, delay);
    }
  }

  /** Faults that act once a device has its CONNACK. */
  private afterConnack(client: Client): void {
    if (!this.faults.dropAfterConnack || !(client.conn as ZtStream).zt) return;
    this.event("refused", { clientId: client.id, reason: "fault: dropAfterConnack" });
    setImmediate(() => client.close());
  }

  private presence(client: Client, kind: "connected" | "disconnected"): void {
    const zt = (client.conn as ZtStream).zt;
    this.event(kind, { clientId: client.id, ...(zt ? { certificateId: zt.certId } : {}) });
    this.publish(`$aws/events/presence/${kind}/${client.id}`, {
      clientId: client.id,
      timestamp: Date.now(),
      eventType: kind,
      sessionIdentifier: `${client.id}-${zt?.remote ?? ""}`,
      principalIdentifier: zt?.certId ?? "",
      versionNumber: 0,
      ...(kind === "disconnected" ? { clientInitiatedDisconnect: false, disconnectReason: "CONNECTION_LOST" } : {}),
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    await new Promise<void>((r) => this.broker.close(() => r()));
  }
}
