/**
 * The AWS Wi-Fi task of firmware v2.2.5 (aws_wifi_task.c:aws_wifi_task), state for state: one loop on a
 * 100 ms tick that holds g_provisioning_mutex for its whole iteration once past WINC init (so kit-protocol
 * requests wait behind MQTT waits, the 5 s LED flash and the 50 s Wi-Fi retry), and the WINC callbacks
 * (aws_wifi_callback, aws_wifi_dns_resolve_handler, aws_wifi_socket_handler) that move the state when
 * m2m_wifi_handle_events runs. There is one task: re-provisioning never starts a second connect loop.
 * Every console line is the firmware's printf, blank lines ("\r\n" printed as a message) included.
 */
import { isIPv4 } from "node:net";
import type { ClientCrypto } from "../../../harness/tls/client.ts";
import { Winc1500, wincVersion, type WincEvent, type WincOptions, type WincSocket } from "../winc1500/winc1500.ts";
import { parsonParse, parsonSerialize, STATE, STATUS, type StatusGlobal } from "./app.ts";
import type { FirmwareConsole } from "./console.ts";
import { rebuildChain, SLOT } from "./credentials.ts";
import type { Cryptoauthlib } from "./cryptoauthlib.ts";
import { PahoClient, SUCCESS } from "./paho.ts";
import { cString, Metadata, SLOT8_SIZE } from "./slot8.ts";

const AWS_PORT = 8883;
const MQTT_COMMAND_TIMEOUT_MS = 2000;
const MQTT_YIELD_TIMEOUT_MS = 500;
const MQTT_KEEP_ALIVE_INTERVAL_S = 900;
const AWS_WIFI_CONNECT_DELAY_MS = 50_000;
const TASK_DELAY_MS = 100;
const DEBOUNCE_MS = 900;

export type Leds = Record<"led1" | "led2" | "led3", "on" | "off">;

export interface ConnectAttempt {
  number: number;
  started: number;
  outcome: "pending" | "subscribed" | "mqtt-refused" | "subscribe-failed" | "tls-failed" | "dns-failed" | "wifi-failed" | "dropped";
}

/** What the Wi-Fi task shares with the rest of the firmware. */
export interface WifiTaskHost {
  console: FirmwareConsole;
  status: StatusGlobal;
  cal: Cryptoauthlib;
  leds: Leds;
  provisioningState(): number;
  lock(): Promise<() => void>;
  alive(): boolean;
  /** vTaskDelay / delay_ms: resolves early (alive() false) on power off. */
  sleep(ms: number): Promise<void>;
  emit(event: "attempt" | "subscribed" | "leds" | "state", detail?: unknown): void;
}

export class WifiTask {
  state: number = STATE.wincInit;
  private isConnected = false;
  private wifiError = false;
  private socket: WincSocket | null = null;
  private chain: Buffer[] = [];
  private clientId = "";
  private updateTopic = "";
  private deltaTopic = "";
  private readonly paho: PahoClient;
  private buttons = { button1: 0, button2: 0, button3: 0 };
  private selectedButton = 0;
  private previousButton = 0;
  private debounceUntil = 0;
  readonly winc: Winc1500;
  readonly attempts: ConnectAttempt[] = [];

  constructor(
    private readonly host: WifiTaskHost,
    wincOptions: WincOptions,
    private readonly crypto: ClientCrypto,
  ) {
    this.winc = new Winc1500(wincOptions);
    this.paho = new PahoClient(MQTT_COMMAND_TIMEOUT_MS, (_topic, payload) => this.onDelta(payload));
  }

  get subscriptionHandlers(): number {
    return this.paho.handlerCount;
  }

  private get attempt(): ConnectAttempt | undefined {
    return this.attempts.at(-1);
  }

  private setState(s: number): void {
    this.state = s;
    this.host.emit("state", s);
  }

  private outcome(o: ConnectAttempt["outcome"]): void {
    const a = this.attempt;
    if (a && a.outcome === "pending") a.outcome = o;
  }

  async run(): Promise<void> {
    const h = this.host;
    while (h.alive()) {
      const provisioning = h.provisioningState();
      const release = this.state >= STATE.wifiConfigure ? await h.lock() : null;
      try {
        if (!h.alive()) return;
        await this.step(provisioning);
        if (!h.alive()) return;
        await this.winc.handleEvents((e) => this.onEvent(e));
      } finally {
        release?.();
      }
      await h.sleep(TASK_DELAY_MS);
    }
  }

  /** oled1.c:oled1_pushbutton_callback: a release edge latches the button, 900 ms debounce per button. */
  press(button: 1 | 2 | 3): void {
    const now = Date.now();
    if (now < this.debounceUntil && button === this.previousButton) return;
    this.debounceUntil = now + DEBOUNCE_MS;
    this.selectedButton = button;
    this.previousButton = button;
  }

  get buttonStates(): Record<"button1" | "button2" | "button3", "up" | "down"> {
    const s = (v: number) => (v ? "down" : "up") as "up" | "down";
    return { button1: s(this.buttons.button1), button2: s(this.buttons.button2), button3: s(this.buttons.button3) };
  }

  private async step(provisioning: number): Promise<void> {
    const { console, status } = this.host;
    switch (this.state) {
      case STATE.wincInit:
        if (provisioning >= STATE.init) {
          // aws_wifi_init: buttons reset, MQTTClientInit, WINC version printed.
          this.buttons = { button1: 0, button2: 0, button3: 0 };
          this.winc.reset();
          await console.wincVersion(wincVersion(this.winc.opts.profile));
          await console.message("\r\n");
          status.set(STATE.wifiConfigure, STATUS.success, "The AWS IoT Zero Touch Demo WINC1500 WIFI configure was successful.");
          this.setState(STATE.wifiConfigure);
        }
        break;
      case STATE.wifiConfigure:
        if (provisioning > STATE.configure) {
          try {
            const chain = await rebuildChain(this.host.cal);
            this.chain = [chain.device, chain.signer];
            this.clientId = chain.thing;
            this.updateTopic = `$aws/things/${chain.thing}/shadow/update`;
            this.deltaTopic = `$aws/things/${chain.thing}/shadow/update/delta`;
            status.set(STATE.awsConnect, STATUS.success, "The AWS IoT Zero Touch Demo WINC1500 WIFI connect was successful.");
            this.setState(STATE.awsConnect);
          } catch {
            if (!this.host.alive()) return;
            status.set(STATE.wifiConfigure, STATUS.ateccInitFailure, "The AWS IoT Zero Touch Demo WINC1500 WIFI configure was not successful.");
            await console.error("An WINC1500 WIFI configure error has occurred.");
            await console.error("Stopping the AWS IoT demo.");
            this.setState(STATE.unknown);
          }
        }
        break;
      case STATE.awsConnect:
        await this.connectWifi();
        break;
      case STATE.awsConnected:
        await this.connectMqtt();
        break;
      case STATE.awsReporting:
        if (this.selectedButton) {
          const key = `button${this.selectedButton}` as keyof typeof this.buttons;
          this.buttons[key] = this.buttons[key] ? 0 : 1;
          await this.publishShadow();
          this.selectedButton = 0;
        } else {
          const rc = await this.paho.yield(MQTT_YIELD_TIMEOUT_MS);
          if (rc !== SUCCESS) {
            status.set(STATE.awsReporting, STATUS.reportFailure, "The AWS IoT Demo failed to publish the MQTT LED update message.");
            await console.message("\r\n");
            await console.error("The AWS IoT Demo failed to publish the MQTT LED update message.");
          }
          if (this.wifiError) {
            this.isConnected = false;
            this.outcome("dropped");
          }
        }
        break;
      case STATE.wifiDisconnect:
        this.isConnected = false;
        this.winc.disconnectAp();
        this.socket?.close();
        this.socket = null;
        await console.success("AWS Zero Touch Demo: Disconnected from WIFI access point.");
        this.setState(STATE.wifiConfigure);
        break;
      case STATE.awsDisconnect:
        if (this.isConnected) {
          if ((await this.paho.unsubscribe(this.deltaTopic)) !== SUCCESS) {
            status.set(STATE.awsDisconnect, STATUS.subscriptionFailure, "The AWS IoT Demo failed to unsubscribe to the MQTT update topic subscription.");
            await console.message("\r\n");
            await console.error("The AWS IoT Demo failed to unsubscribe to the MQTT update topic subscription.");
          }
          if (this.paho.disconnect() !== SUCCESS) {
            status.set(STATE.awsDisconnect, STATUS.subscriptionFailure, "The AWS IoT Demo failed to disconnect with the MQTT disconnect message.");
            await console.message("\r\n");
            await console.error("The AWS IoT Demo failed to disconnect with the MQTT disconnect message.");
          }
        }
        this.setState(STATE.wifiDisconnect);
        break;
      default:
        break; // AWS_CONNECTING: the WINC's events move on; UNKNOWN: stopped
    }
  }

  /** AWS_CONNECT: SSID and password from slot 8, the attempt header, m2m_wifi_connect (50 s retry). */
  private async connectWifi(): Promise<void> {
    const { console, cal } = this.host;
    const ssidMeta = new Metadata(await cal.readBytes(SLOT.metadata, SLOT8_SIZE));
    const pwMeta = new Metadata(await cal.readBytes(SLOT.metadata, SLOT8_SIZE));
    const ssid = ssidMeta.ssid;
    const password = cString(pwMeta.password);
    for (;;) {
      this.attempts.push({ number: this.attempts.length + 1, started: Date.now(), outcome: "pending" });
      this.host.emit("attempt", this.attempt);
      await console.message(`\r\nAttempting to connect to AWS IoT ...\r\n  SSID:     ${cString(ssid)}\r\n  Password: ${password}`);
      const rc = this.winc.connectAp(ssid, ssidMeta.ssidSize & 0xff, password.length === 0, password);
      if (rc === 0) {
        this.setState(STATE.awsConnecting);
        return;
      }
      this.outcome("wifi-failed");
      await this.host.sleep(AWS_WIFI_CONNECT_DELAY_MS);
      if (!this.host.alive()) return;
    }
  }

  /** AWS_CONNECTED: TLS is up; MQTT CONNECT, SUBSCRIBE, the 5 s LED flash, the first report. */
  private async connectMqtt(): Promise<void> {
    const { console, status } = this.host;
    await console.success("AWS Zero Touch Demo: Connected to AWS IoT.");
    this.isConnected = true;
    const failed = async (message: string, outcome: ConnectAttempt["outcome"]) => {
      this.outcome(outcome);
      status.set(STATE.awsSubscription, STATUS.subscriptionFailure, message);
      await console.message("\r\n");
      await console.error(message);
      if (this.state > STATE.wifiDisconnect) this.setState(STATE.awsDisconnect);
    };
    if ((await this.paho.connect(this.clientId, MQTT_KEEP_ALIVE_INTERVAL_S)) !== SUCCESS) return failed("The AWS IoT Demo failed to connect with the MQTT connect message.", "mqtt-refused");
    if ((await this.paho.subscribe(this.deltaTopic)) !== SUCCESS) return failed("The AWS IoT Demo failed to subscribe to the MQTT update topic subscription.", "subscribe-failed");
    await console.message("\r\n");
    await console.success("Subscribed to the MQTT update topic subscription:");
    await console.success(this.deltaTopic);
    await console.message("\r\n");
    this.outcome("subscribed");
    this.host.emit("subscribed", this.attempt);
    await this.host.sleep(5 * 1000); // led_flash_processing_led(5): 5 × (500 ms on, 500 ms off), busy
    if (!this.host.alive()) return;
    await this.publishShadow();
    this.setState(STATE.awsReporting);
  }

  /** aws_wifi_publish_shadow_update_message. */
  private async publishShadow(): Promise<void> {
    if (!this.paho.isconnected) return;
    const { console, status, leds } = this.host;
    const payload = Buffer.from(parsonSerialize({ state: { reported: { ...this.buttonStates, led1: leds.led1, led2: leds.led2, led3: leds.led3 } } }), "latin1");
    await console.message("Publishing MQTT Shadow Update Message:");
    await console.hexDump(payload);
    if (this.paho.publish(this.updateTopic, payload) !== SUCCESS) {
      status.set(STATE.awsReporting, STATUS.reportFailure, "The AWS IoT Demo failed to publish the MQTT shadow update message.");
      await console.message("\r\n");
      await console.error("The AWS IoT Demo failed to publish the MQTT shadow update message.");
    }
  }

  /** aws_mqtt_shadow_update_delta_callback: any string other than "on" turns an LED off; always reports. */
  private async onDelta(payload: Buffer): Promise<void> {
    const { console, leds } = this.host;
    const doc = parsonParse(payload.toString("latin1"));
    const state = doc && typeof doc === "object" && !Array.isArray(doc) && Object.prototype.hasOwnProperty.call(doc, "state") ? doc.state : null;
    if (state && typeof state === "object" && !Array.isArray(state)) {
      await console.message("\r\n");
      await console.message("Received MQTT Shadow Update Delta Message:");
      await console.hexDump(payload);
      await console.message("\r\n");
      for (const led of ["led1", "led2", "led3"] as const) {
        const v = Object.prototype.hasOwnProperty.call(state, led) ? state[led] : undefined;
        if (typeof v === "string") leds[led] = v === "on" ? "on" : "off";
      }
      this.host.emit("leds", { ...leds });
    }
    await this.publishShadow();
  }

  /** The WINC callbacks, run from m2m_wifi_handle_events. */
  private async onEvent(e: WincEvent): Promise<void> {
    const { console, cal } = this.host;
    switch (e.kind) {
      case "wifi-connected":
        await console.message("WINC1500 WIFI: Connected to the WIFI access point.");
        break;
      case "wifi-disconnected":
        await console.message("WINC1500 WIFI: Disconnected from the WIFI access point.");
        if (this.state === STATE.awsConnecting) this.outcome("wifi-failed");
        this.setState(STATE.wifiConfigure);
        break;
      case "dhcp": {
        // sprintf("%u.%u.%u.%u", ip[0], ip[1], ip[3], ip[4]): byte 2 skipped, byte 4 is the gateway's first.
        const ip = e.ip;
        await console.message(`WINC1500 WIFI: Device IP Address: ${ip[0]}.${ip[1]}.${ip[3]}.${ip[4]}`);
        const host = cString(new Metadata(await cal.readBytes(SLOT.metadata, SLOT8_SIZE)).host);
        this.winc.gethostbyname(host); // a name over 64 characters is refused; the firmware ignores that
        break;
      }
      case "dns":
        if (e.ip && isIPv4(e.ip)) {
          await console.message(`WINC1500 WIFI: DNS lookup:\r\n  Host:       ${e.name}\r\n  IP Address: ${e.ip}`);
          this.socket = this.winc.connectSocket(e.ip, AWS_PORT, this.chain, this.crypto, (d) => this.paho.feed(d));
          this.paho.attach({ write: (b) => this.send(b), read: (ms) => this.read(ms) });
        } else {
          this.outcome("dns-failed");
          await console.error("WINC1500 DNS lookup failed.");
          this.setState(STATE.awsDisconnect);
        }
        break;
      case "socket-connect":
        if (e.error === 0) this.setState(STATE.awsConnected);
        else {
          this.outcome("tls-failed");
          await console.printf(`SOCKET_MSG_CONNECT error SOCK_ERR_CONN_ABORTED(${e.error})\r\n`);
          this.setState(STATE.awsDisconnect);
        }
        break;
      case "socket-error":
        this.wifiError = true;
        this.setState(STATE.wifiDisconnect);
        break;
    }
  }

  /** aws_wifi_send_data. */
  private send(bytes: Buffer): boolean {
    if (!this.isConnected || !this.socket) return false;
    this.wifiError = false;
    const ok = this.socket.send(bytes);
    if (!ok) {
      this.wifiError = true;
      this.setState(STATE.wifiDisconnect);
    }
    return ok;
  }

  /** aws_wifi_read_data: fails at once when not connected; otherwise waits for bytes or the socket's end. */
  private async read(ms: number): Promise<boolean> {
    if (!this.isConnected || this.state <= STATE.wifiDisconnect || !this.socket) return false;
    const sock = this.socket;
    if (!sock.recvClosed()) await sock.waitData(ms);
    if (sock.recvClosed()) {
      await this.winc.handleEvents((e) => this.onEvent(e));
      return false;
    }
    return true;
  }

  /** Power lost: the WINC forgets everything, Paho's state goes with the RAM. */
  powerOff(): void {
    this.winc.reset();
    this.socket?.close();
    this.socket = null;
  }
}
