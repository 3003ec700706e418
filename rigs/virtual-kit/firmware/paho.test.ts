/**
 * The twin's Paho client against a scripted broker on mqtt-packet's wire format: L8 (PINGREQ once the
 * keep-alive interval passed without a packet sent), L17 (packet ids from 2), L16 (a stale isconnected
 * refuses CONNECT without sending it), L15 (handlers accumulate, at most 5). The keep-alive is 1 s here
 * instead of the firmware's 900 s, the only difference from how the twin runs it.
 */
import { expect, test } from "@playwright/test";
import mqttPacket from "mqtt-packet";
import { FAILURE, PahoClient, SUCCESS } from "./paho.ts";

function broker() {
  const sent: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p) => sent.push(p));
  let client: PahoClient | null = null;
  let wake: (() => void) | null = null;
  const net = {
    write: (b: Buffer) => (parser.parse(b), true),
    read: (ms: number) => new Promise<boolean>((r) => ((wake = () => r(true)), setTimeout(() => r(true), ms))),
  };
  return {
    sent,
    net,
    bind(c: PahoClient) {
      client = c;
    },
    reply(p: mqttPacket.Packet) {
      client!.feed(mqttPacket.generate(p));
      wake?.();
    },
  };
}

test("L8 L15 L16 L17: keep-alive PINGREQ, packet ids from 2, a stale isconnected, accumulating handlers", async () => {
  const b = broker();
  const deliveries: string[] = [];
  const c = new PahoClient(500, async (topic) => void deliveries.push(topic));
  b.bind(c);
  c.attach(b.net);
  setTimeout(() => b.reply({ cmd: "connack", returnCode: 0, sessionPresent: false }), 20);
  expect(await c.connect("thing", 1)).toBe(SUCCESS);
  setTimeout(() => b.reply({ cmd: "suback", messageId: 2, granted: [0] }), 20);
  expect(await c.subscribe("t/delta")).toBe(SUCCESS);
  expect(b.sent.map((p) => p.cmd)).toEqual(["connect", "subscribe"]);
  expect((b.sent[1] as mqttPacket.ISubscribePacket).messageId).toBe(2);
  // No packet sent for a second: the next cycle sends PINGREQ.
  await c.yield(1200);
  expect(b.sent.map((p) => p.cmd)).toContain("pingreq");
  // The server went away without a DISCONNECT from us: isconnected stays set and CONNECT is refused unsent.
  const before = b.sent.length;
  expect(await c.connect("thing", 1)).toBe(FAILURE);
  expect(b.sent.length).toBe(before);
  // Subscribing again adds a second handler: one PUBLISH runs the callback twice.
  setTimeout(() => b.reply({ cmd: "suback", messageId: 3, granted: [0] }), 20);
  expect(await c.subscribe("t/delta")).toBe(SUCCESS);
  expect((b.sent.at(-1) as mqttPacket.ISubscribePacket).messageId).toBe(3);
  expect(c.handlerCount).toBe(2);
  setTimeout(() => b.reply({ cmd: "publish", topic: "t/delta", payload: Buffer.from("{}"), qos: 0, retain: false, dup: false }), 20);
  await c.yield(200);
  expect(deliveries).toEqual(["t/delta", "t/delta"]);
  for (let i = 0; i < 5; i++) {
    setTimeout(() => b.reply({ cmd: "suback", messageId: 4 + i, granted: [0] }), 20);
    await c.subscribe("t/delta");
  }
  expect(c.handlerCount).toBe(5);
  expect(c.disconnect()).toBe(SUCCESS);
  expect(c.isconnected).toBe(false);
});
