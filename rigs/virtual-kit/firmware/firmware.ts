/**
 * Firmware v2.2.5 of the Zero Touch kit, as a state machine over the chip models: boot and ATECC init,
 * the kit protocol on USB HID (with the JSON application: init, genCsr, saveCredentials, setWifi,
 * getStatus, genKey, resetKit), then, once provisioned, the connect loop: Wi-Fi, DNS, TLS through the
 * WINC1500 with the ATECC508A, MQTT CONNECT with the thing name as client id, the shadow delta
 * subscription, reported state; on any failure it disconnects Wi-Fi and tries again on the next
 * 100 ms tick (the JITR retry). LEDs follow shadow deltas; button presses are reported.
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import mqttPacket from "mqtt-packet";
import { ZtError } from "../../../harness/errors.ts";
import { AteccClient, type AteccPort } from "../../../harness/kit/atecc-client.ts";
import { assembleCsr, csrInfo } from "../../../harness/pki/atcacert/csr-template.ts";
import { thingName } from "../../../harness/pki/identity.ts";
import { TlsAlertError } from "../../../harness/tls/connection.ts";
import type { TlsClientConnection } from "../../../harness/tls/client.ts";
import type { Atecc508a } from "../atecc508a/atecc508a.ts";
import { Winc1500, WincError, type WincOptions } from "../winc1500/winc1500.ts";
import { LINES } from "./console-lines.ts";
import { readChain, SLOT, storeCredentials } from "./credentials.ts";
import { AWS_PROVISIONED, decodeSlot8, encodeSlot8, isProvisioned, WIFI_PROVISIONED, type Slot8 } from "./slot8.ts";

/** aws_status.h states. */
export const STATE = { detect: 1, init: 3, configure: 4, provisioned: 5, reset: 6, wincInit: 7, wifiConfigure: 8, wifiDisconnect: 9, awsConnect: 10, reporting: 14, awsDisconnect: 15 } as const;

export const VERSION = "2.2.5";
const TICK_MS = 100;
const CONNACK_TIMEOUT_MS = 5000;

type Leds = Record<"led1" | "led2" | "led3", "on" | "off">;
type Buttons = Record<"button1" | "button2" | "button3", "up" | "down">;

class AppError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ConnectAttempt {
  number: number;
  started: number;
  outcome: "subscribed" | "mqtt-refused" | "tls-failed" | "wifi-failed" | "dns-failed" | "error";
  detail?: string;
}

export class Firmware extends EventEmitter {
  state: number = STATE.detect;
  statusCode = 0;
  statusMsg = "";
  leds: Leds = { led1: "off", led2: "off", led3: "off" };
  buttons: Buttons = { button1: "up", button2: "up", button3: "up" };
  readonly attempts: ConnectAttempt[] = [];
  private readonly atecc: AteccClient;
  private readonly winc: Winc1500;
  private generation = 0;
  private powered = false;
  private ready: Promise<void> = Promise.resolve();
  private tls: TlsClientConnection | null = null;
  private thing = "";

  constructor(
    private readonly chip: Atecc508a,
    wincOptions: WincOptions,
    private readonly print: (line: string) => void,
  ) {
    super();
    const port: AteccPort = { wake: async () => chip.wake(), talk: (p) => chip.execute(p), idle: async () => chip.idle() };
    this.atecc = new AteccClient(port);
    this.winc = new Winc1500(this.atecc, wincOptions);
  }

  get isPowered(): boolean {
    return this.powered;
  }

  private setState(state: number, code = 0, msg = ""): void {
    this.state = state;
    this.statusCode = code;
    this.statusMsg = msg;
    this.emit("state", state);
  }

  powerOn(): void {
    if (this.powered) return;
    this.powered = true;
    const gen = ++this.generation;
    this.ready = this.boot(gen);
  }

  powerOff(): void {
    if (!this.powered) return;
    this.powered = false;
    this.generation++;
    this.tls?.destroy();
    this.tls = null;
    this.chip.powerOff();
    this.setState(STATE.detect);
  }

  private alive(gen: number): boolean {
    return this.powered && gen === this.generation;
  }

  private async boot(gen: number): Promise<void> {
    this.print("");
    this.print(LINES.banner);
    try {
      const revision = await this.atecc.info();
      if (revision[2]! < 0x50) throw new ZtError("ATECC", "unsupported device revision");
    } catch {
      this.print(LINES.ateccInitFailed);
      this.setState(STATE.init, 257, "The AWS IoT Demo failed to initialize the ATECCx08A.");
      return;
    }
    if (!this.alive(gen)) return;
    this.setState(STATE.init);
    const meta = await this.metadata();
    if (isProvisioned(meta)) {
      this.setState(STATE.provisioned);
      void this.connectLoop(gen);
    } else {
      this.print(LINES.notProvisioned);
    }
  }

  private async metadata(): Promise<Slot8> {
    return decodeSlot8(await this.atecc.readSlot(SLOT.metadata, 240));
  }

  private async writeMetadata(m: Slot8): Promise<void> {
    await this.atecc.writeSlot(SLOT.metadata, encodeSlot8(m));
  }

  // --- USB HID: the kit protocol ------------------------------------------------------------------

  /**
   * The chip as the kit protocol's device commands reach it: each message waits for the firmware's own
   * ATECC operation in progress (its mutex), but a host's wake…talk sequence spans several messages and
   * can be interleaved by the firmware, as on the real kit: hosts measure a quiet (unprovisioned) kit.
   */
  get kitDevice() {
    const x = <T>(fn: () => T) => this.atecc.exclusive(async () => fn());
    return { wake: () => x(() => this.chip.wake()), idle: () => x(() => this.chip.idle()), sleep: () => x(() => this.chip.sleep()), execute: (p: Buffer) => this.atecc.exclusive(() => this.chip.execute(p)) };
  }

  get kitBoard() {
    return { version: Buffer.from(VERSION.split(".").map(Number)), firmware: Buffer.from("AWS IoT Zero Touch Demo", "ascii"), application: (json: string) => this.application(json) };
  }

  /** The firmware handles USB messages only after ATECC init. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private async application(json: string): Promise<string> {
    let req: { method?: unknown; params?: Record<string, unknown>; id?: unknown };
    try {
      req = JSON.parse(json) as typeof req;
    } catch {
      return JSON.stringify({ result: null, error: { error_code: 1, error_msg: "Invalid JSON message." }, id: null });
    }
    const id = req.id ?? null;
    try {
      const result = await this.method(String(req.method), req.params ?? {});
      return JSON.stringify({ result, error: null, id });
    } catch (err) {
      const code = err instanceof AppError ? err.code : 256;
      return JSON.stringify({ result: null, error: { error_code: code, error_msg: err instanceof Error ? err.message : String(err) }, id });
    }
  }

  private hexParam(params: Record<string, unknown>, name: string, bytes?: number): Buffer {
    const v = params[name];
    if (typeof v !== "string" || !/^([0-9a-fA-F]{2})+$/.test(v)) throw new AppError(3, `The parameter ${name} is missing or not hex.`);
    const b = Buffer.from(v, "hex");
    if (bytes !== undefined && b.length !== bytes) throw new AppError(3, `The parameter ${name} must be ${bytes} bytes.`);
    return b;
  }

  private async method(method: string, params: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case "init": {
        this.setState(STATE.configure, 0, "The AWS IoT Demo successfully performed the initialization.");
        const sn = await this.atecc.serialNumber();
        const pub = await this.atecc.genKey(SLOT.deviceKey);
        return { deviceSn: sn.toString("hex").toUpperCase(), devicePublicKey: pub.toString("hex").toUpperCase() };
      }
      case "genCsr": {
        const info = csrInfo(await this.atecc.genKey(SLOT.deviceKey));
        const sig = await this.atecc.sign(SLOT.deviceKey, createHash("sha256").update(info).digest());
        return { csr: assembleCsr(info, sig).toString("hex").toUpperCase() };
      }
      case "saveCredentials": {
        const host = params.hostName;
        if (typeof host !== "string" || !host || host.length > 128) throw new AppError(3, "The parameter hostName is missing or too long.");
        try {
          await storeCredentials(this.atecc, this.hexParam(params, "signerCaPublicKey", 64), this.hexParam(params, "signerCert"), this.hexParam(params, "deviceCert"));
        } catch (err) {
          if (err instanceof AppError) throw err;
          throw new AppError(256, `The AWS IoT Demo failed to save the credentials: ${err instanceof Error ? err.message : String(err)}`);
        }
        const m = await this.metadata();
        await this.writeMetadata({ ...m, host, flag: ((AWS_PROVISIONED << 16) | (m.flag & 0xffff)) >>> 0 });
        this.setState(STATE.configure, 0, "The AWS IoT Demo successfully saved the credentials.");
        await this.checkProvisioned();
        return {};
      }
      case "setWifi": {
        const ssid = params.ssid;
        const psk = params.psk;
        if (typeof ssid !== "string" || !ssid || ssid.length > 32) throw new AppError(3, "The parameter ssid is missing or too long.");
        if (psk !== null && (typeof psk !== "string" || psk.length > 64)) throw new AppError(3, "The parameter psk must be a string or null.");
        const m = await this.metadata();
        await this.writeMetadata({ ...m, ssid, password: psk ?? "", flag: ((m.flag & 0xffff0000) | WIFI_PROVISIONED) >>> 0 });
        this.setState(STATE.configure, 0, "The AWS IoT Demo successfully saved the WIFI credentials.");
        await this.checkProvisioned();
        return {};
      }
      case "getStatus":
        return { state_id: this.state, status_code: this.statusCode, status_msg: this.statusMsg };
      case "genKey": {
        const pub = await this.atecc.genKey(SLOT.deviceKey, true);
        await this.reset();
        return { devicePublicKey: pub.toString("hex").toUpperCase() };
      }
      case "resetKit":
        await this.reset();
        return {};
      default:
        throw new AppError(2, "Unknown AWS IoT Zero Touch command message.");
    }
  }

  /** Slot 8 zeroed and any connection dropped; the connect loop ends (its generation is over). */
  private async reset(): Promise<void> {
    await this.writeMetadata({ flag: 0, ssid: "", password: "", host: "" });
    this.generation++;
    this.tls?.destroy();
    this.tls = null;
    this.setState(STATE.reset);
  }

  private async checkProvisioned(): Promise<void> {
    if (!isProvisioned(await this.metadata())) return;
    this.print(LINES.provisioned);
    this.setState(STATE.provisioned);
    const gen = this.generation;
    setTimeout(() => this.alive(gen) && void this.connectLoop(gen), TICK_MS);
  }

  // --- the connect loop ---------------------------------------------------------------------------

  private async connectLoop(gen: number): Promise<void> {
    while (this.alive(gen)) {
      const meta = await this.metadata();
      if (!isProvisioned(meta)) return;
      const attempt: ConnectAttempt = { number: this.attempts.length + 1, started: Date.now(), outcome: "error" };
      this.attempts.push(attempt);
      this.emit("attempt", attempt);
      try {
        await this.connectOnce(gen, meta, attempt);
      } catch (err) {
        if (!this.alive(gen)) return;
        attempt.detail = err instanceof Error ? err.message : String(err);
      }
      this.tls?.destroy();
      this.tls = null;
      if (!this.alive(gen)) return;
      this.setState(STATE.wifiDisconnect);
      this.print(LINES.wifiDisconnected);
      this.emit("attemptEnd", attempt);
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  }

  private async connectOnce(gen: number, meta: Slot8, attempt: ConnectAttempt): Promise<void> {
    this.setState(STATE.wifiConfigure);
    this.print(LINES.attempting);
    this.print(LINES.ssid(meta.ssid));
    this.print(LINES.password(meta.password));
    let ip: string;
    try {
      ip = this.winc.joinAccessPoint(meta.ssid, meta.password || null).ip;
    } catch (err) {
      attempt.outcome = "wifi-failed";
      this.print(LINES.wifiFailed);
      throw err;
    }
    this.print(LINES.wifiConnected);
    this.print(LINES.ip(ip));
    const [host, portText] = meta.host.includes(":") ? [meta.host.slice(0, meta.host.lastIndexOf(":")), meta.host.slice(meta.host.lastIndexOf(":") + 1)] : [meta.host, "8883"];
    let address: string;
    try {
      address = this.winc.resolve(host);
    } catch (err) {
      attempt.outcome = "dns-failed";
      this.print(LINES.dnsFailed);
      throw err;
    }
    this.print(LINES.dns);
    this.print(LINES.dnsHost(host));
    this.print(LINES.dnsIp(address));
    if (!this.alive(gen)) return;
    this.setState(STATE.awsConnect);
    const chain = await readChain(this.atecc);
    this.thing = thingName(await this.atecc.genKey(SLOT.deviceKey));
    let tls: TlsClientConnection;
    try {
      tls = await this.winc.connectTls(host, address, Number(portText), [chain.device, chain.signer]);
    } catch (err) {
      attempt.outcome = "tls-failed";
      this.print(LINES.socketError("SOCK_ERR_CONN_ABORTED", -12));
      this.print(LINES.awsFailed);
      throw err instanceof TlsAlertError || err instanceof WincError ? err : new ZtError("TLS", String(err));
    }
    if (!this.alive(gen)) {
      tls.destroy();
      return;
    }
    this.tls = tls;
    this.emit("tls", tls);
    await this.mqttSession(tls, attempt);
  }

  private async mqttSession(tls: TlsClientConnection, attempt: ConnectAttempt): Promise<void> {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const packets: mqttPacket.Packet[] = [];
    let wake: (() => void) | null = null;
    let closed = false;
    parser.on("packet", (p) => {
      packets.push(p);
      wake?.();
    });
    tls.on("data", (d: Buffer) => parser.parse(d));
    const onClose = () => {
      closed = true;
      wake?.();
    };
    tls.on("close", onClose);
    tls.on("end", onClose);
    const next = async (cmd: string, timeoutMs: number): Promise<mqttPacket.Packet | null> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = packets.findIndex((p) => p.cmd === cmd);
        if (i >= 0) return packets.splice(i, 1)[0]!;
        if (closed || Date.now() > deadline) return null;
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, Math.max(1, deadline - Date.now()));
        });
      }
    };
    tls.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: this.thing, keepalive: 900 }));
    const connack = (await next("connack", CONNACK_TIMEOUT_MS)) as mqttPacket.IConnackPacket | null;
    if (!connack || connack.returnCode !== 0) {
      attempt.outcome = "mqtt-refused";
      attempt.detail = connack ? `CONNACK return code ${connack.returnCode}` : closed ? "connection closed before CONNACK" : "no CONNACK";
      this.print(LINES.mqttConnectFailed);
      this.print(LINES.awsFailed);
      return;
    }
    this.print(LINES.connected);
    const topic = `$aws/things/${this.thing}/shadow/update/delta`;
    tls.write(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 0 }] }));
    const suback = (await next("suback", CONNACK_TIMEOUT_MS)) as mqttPacket.ISubackPacket | null;
    if (!suback || suback.granted[0] === 128) {
      attempt.outcome = "mqtt-refused";
      attempt.detail = suback ? "subscription refused" : "no SUBACK";
      this.print(LINES.awsFailed);
      return;
    }
    this.print(LINES.subscribed);
    this.print(LINES.subscribedTopic(topic));
    attempt.outcome = "subscribed";
    this.setState(STATE.reporting);
    this.emit("subscribed", attempt);
    this.report();
    for (;;) {
      const msg = (await next("publish", 60_000)) as mqttPacket.IPublishPacket | null;
      if (closed) return;
      if (!msg || msg.topic !== topic) continue;
      try {
        const state = (JSON.parse(msg.payload.toString()) as { state?: Record<string, unknown> }).state ?? {};
        for (const led of ["led1", "led2", "led3"] as const) if (state[led] === "on" || state[led] === "off") this.leds[led] = state[led];
        this.emit("leds", { ...this.leds });
        this.report();
      } catch {
        /* a malformed delta is ignored, as the firmware's parson parse failure is */
      }
    }
  }

  private report(): void {
    if (!this.tls || this.state !== STATE.reporting) return;
    const reported = { ...this.buttons, ...this.leds };
    this.tls.write(mqttPacket.generate({ cmd: "publish", topic: `$aws/things/${this.thing}/shadow/update`, payload: JSON.stringify({ state: { reported } }), qos: 0, retain: false, dup: false }));
  }

  /** A button press: down, reported; then up, reported. */
  async press(button: 1 | 2 | 3): Promise<void> {
    const key = `button${button}` as const;
    this.buttons[key] = "down";
    this.report();
    await new Promise((r) => setTimeout(r, 100));
    this.buttons[key] = "up";
    this.report();
  }
}
