/**
 * The Paho embedded-C MQTT client compiled into firmware v2.2.5
 * (src/paho_mqtt_embedded_c/MQTTClient-C/MQTTClient.c), as the kit uses it, quirks included:
 * - one command timeout (2000 ms, MQTT_COMMAND_TIMEOUT_MS) for CONNACK, SUBACK and UNSUBACK: waitfor()
 *   keeps reading until the timer expires even when every read fails at once;
 * - `isconnected` is set by a successful CONNECT and cleared only by MQTTDisconnect: a connection
 *   the server dropped leaves it set, and the next MQTTConnect returns FAILURE without sending CONNECT;
 * - packet ids pre-increment from 1 (the first SUBSCRIBE is id 2) and are never reset by a reconnect;
 * - MQTTSubscribe adds a message handler per successful subscription (5 at most, MAX_MESSAGE_HANDLERS)
 *   and nothing removes them, so after N subscriptions one delta runs the callback min(N, 5) times;
 * - keepalive(): PINGREQ once the keep-alive interval passed since the last packet sent;
 * - cycle() returns the (unsigned short) packet type even when the read failed, so MQTTYield does not
 *   fail on a dead connection.
 * Packets are encoded and decoded with mqtt-packet; the client logic is the firmware's, hand-written.
 */
import mqttPacket from "mqtt-packet";

export const SUCCESS = 0;
export const FAILURE = -1;
const MAX_MESSAGE_HANDLERS = 5;

/** The network glue (aws_wifi_task.c: mqtt_packet_read/mqtt_packet_write over the WINC socket). */
export interface PahoNetwork {
  /** Send bytes; false on failure. */
  write(bytes: Buffer): boolean;
  /** Wait up to `ms` for bytes (or for the read to fail); returns false when reading failed. */
  read(ms: number): Promise<boolean>;
}

export class PahoClient {
  isconnected = false;
  private nextPacketId = 1;
  private handlers = 0;
  private keepAliveMs = 0;
  private lastSent = 0;
  private pingOutstanding = false;
  private readonly packets: mqttPacket.Packet[] = [];
  private parser = mqttPacket.parser({ protocolVersion: 4 });
  private net: PahoNetwork | null = null;

  constructor(
    private readonly commandTimeoutMs: number,
    private readonly onMessage: (topic: string, payload: Buffer) => Promise<void>,
  ) {
    this.parser.on("packet", (p) => this.packets.push(p));
  }

  /** A new socket under the same client (MQTTClientInit is called once per boot). */
  attach(net: PahoNetwork): void {
    this.net = net;
    this.packets.length = 0;
    this.parser = mqttPacket.parser({ protocolVersion: 4 });
    this.parser.on("packet", (p) => this.packets.push(p));
  }

  /** Bytes from the socket. */
  feed(bytes: Buffer): void {
    this.parser.parse(bytes);
  }

  private getNextPacketId(): number {
    this.nextPacketId = this.nextPacketId === 65535 ? 1 : this.nextPacketId + 1;
    return this.nextPacketId;
  }

  private send(packet: mqttPacket.Packet): boolean {
    const ok = this.net?.write(mqttPacket.generate(packet)) ?? false;
    if (ok) this.lastSent = Date.now();
    return ok;
  }

  /** readPacket with the time left; null when nothing complete arrived. */
  private async readPacket(deadline: number): Promise<mqttPacket.Packet | null> {
    for (;;) {
      const p = this.packets.shift();
      if (p) return p;
      const left = deadline - Date.now();
      if (left <= 0 || !this.net) return null;
      if (!(await this.net.read(left))) {
        // A failed read returns at once on the kit; the caller's loop spins until its timer expires.
        await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
        return null;
      }
    }
  }

  private async cycle(deadline: number): Promise<mqttPacket.Packet | null> {
    const p = await this.readPacket(deadline);
    if (p?.cmd === "publish") {
      const msg = p as mqttPacket.IPublishPacket;
      for (let i = 0; i < this.handlers; i++) await this.onMessage(msg.topic, Buffer.from(msg.payload));
    } else if (p?.cmd === "pingresp") this.pingOutstanding = false;
    this.keepalive();
    return p;
  }

  private keepalive(): void {
    if (this.keepAliveMs === 0 || this.pingOutstanding) return;
    if (Date.now() - this.lastSent >= this.keepAliveMs && this.send({ cmd: "pingreq" })) this.pingOutstanding = true;
  }

  private async waitfor(cmd: string, deadline: number): Promise<mqttPacket.Packet | null> {
    while (Date.now() < deadline) {
      const p = await this.cycle(deadline);
      if (p?.cmd === cmd) return p;
    }
    return null;
  }

  async connect(clientId: string, keepAliveS: number): Promise<number> {
    if (this.isconnected) return FAILURE;
    const deadline = Date.now() + this.commandTimeoutMs;
    this.keepAliveMs = keepAliveS * 1000;
    if (!this.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId, keepalive: keepAliveS })) return FAILURE;
    const connack = (await this.waitfor("connack", deadline)) as mqttPacket.IConnackPacket | null;
    const rc = connack ? (connack.returnCode ?? 0) : FAILURE;
    if (rc === SUCCESS) this.isconnected = true;
    return rc;
  }

  async subscribe(topic: string): Promise<number> {
    if (!this.isconnected) return FAILURE;
    const deadline = Date.now() + this.commandTimeoutMs;
    if (!this.send({ cmd: "subscribe", messageId: this.getNextPacketId(), subscriptions: [{ topic, qos: 0 }] })) return FAILURE;
    const suback = (await this.waitfor("suback", deadline)) as mqttPacket.ISubackPacket | null;
    if (!suback) return FAILURE;
    const granted = suback.granted[0] as number;
    if (granted === 0x80) return granted;
    if (this.handlers < MAX_MESSAGE_HANDLERS) this.handlers++;
    return SUCCESS;
  }

  async unsubscribe(topic: string): Promise<number> {
    if (!this.isconnected) return FAILURE;
    const deadline = Date.now() + this.commandTimeoutMs;
    if (!this.send({ cmd: "unsubscribe", messageId: this.getNextPacketId(), unsubscriptions: [topic] })) return FAILURE;
    return (await this.waitfor("unsuback", deadline)) ? SUCCESS : FAILURE;
  }

  disconnect(): number {
    const rc = this.send({ cmd: "disconnect" }) ? SUCCESS : FAILURE;
    this.isconnected = false;
    return rc;
  }

  publish(topic: string, payload: Buffer): number {
    if (!this.isconnected) return FAILURE;
    return this.send({ cmd: "publish", topic, payload, qos: 0, retain: false, dup: false }) ? SUCCESS : FAILURE;
  }

  async yield(ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    do await this.cycle(deadline);
    while (Date.now() < deadline);
    return SUCCESS;
  }

  /** How many times one delta will run the callback (for reports and tests). */
  get handlerCount(): number {
    return this.handlers;
  }
}
