import { expect, test } from "@playwright/test";
import { ztPolicy } from "../jitr-lambda.ts";
import { isAllowed } from "./policy.ts";
import { delta, Shadows } from "./shadows.ts";
import { Store } from "./store.ts";
import { topicMatches } from "./topics.ts";
import { lambdaInvocations, parseRuleSql } from "./rules.ts";

const arn = (kind: string, name: string) => `arn:aws:iot:us-east-1:123456789012:${kind}/${name}`;

test("the kit's policy allows its own client id, topics and shadow, and nothing else", () => {
  const doc = [ztPolicy("us-east-1", "123456789012", "abc")];
  const ctx = { clientId: "abc", thingName: "abc" };
  expect(isAllowed(doc, "iot:Connect", arn("client", "abc"), ctx)).toBe(true);
  expect(isAllowed(doc, "iot:Connect", arn("client", "xyz"), { clientId: "xyz" })).toBe(false);
  expect(isAllowed(doc, "iot:Publish", arn("topic", "$aws/things/abc/shadow/update"), ctx)).toBe(true);
  expect(isAllowed(doc, "iot:Publish", arn("topic", "$aws/things/xyz/shadow/update"), ctx)).toBe(false);
  expect(isAllowed(doc, "iot:Subscribe", arn("topicfilter", "$aws/things/abc/shadow/update/delta"), ctx)).toBe(true);
  expect(isAllowed(doc, "iot:Subscribe", arn("topicfilter", "#"), ctx)).toBe(false);
  expect(isAllowed(doc, "iot:Receive", arn("topic", "abc/anything"), ctx)).toBe(true);
});

test("an explicit Deny wins, wildcards match, thing variables need an attached thing", () => {
  const allowAll = JSON.stringify({ Statement: { Effect: "Allow", Action: "iot:*", Resource: "*" } });
  const denyPub = JSON.stringify({ Statement: [{ Effect: "Deny", Action: ["iot:Publish"], Resource: [arn("topic", "secret/*")] }] });
  expect(isAllowed([allowAll, denyPub], "iot:Publish", arn("topic", "secret/x"), { clientId: "c" })).toBe(false);
  expect(isAllowed([allowAll, denyPub], "iot:Publish", arn("topic", "public/x"), { clientId: "c" })).toBe(true);
  const thingOnly = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: arn("client", "${iot:Connection.Thing.ThingName}") }] });
  expect(isAllowed([thingOnly], "iot:Connect", arn("client", "t1"), { clientId: "t1", thingName: "t1" })).toBe(true);
  expect(isAllowed([thingOnly], "iot:Connect", arn("client", "t1"), { clientId: "t1" })).toBe(false);
  expect(isAllowed([JSON.stringify({ Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*", Condition: { Bool: { x: "true" } } }] })], "iot:Connect", arn("client", "a"), { clientId: "a" })).toBe(false);
});

test("MQTT topic filters, $-topics excluded from leading wildcards", () => {
  expect(topicMatches("$aws/events/certificates/registered/#", "$aws/events/certificates/registered/abc")).toBe(true);
  expect(topicMatches("#", "$aws/things/x/shadow/update")).toBe(false);
  expect(topicMatches("a/+/c", "a/b/c")).toBe(true);
  expect(topicMatches("a/+/c", "a/b/c/d")).toBe(false);
  expect(topicMatches("a/#", "a")).toBe(true);
});

test("shadow merge: partial updates, null deletes, nested delta, metadata and version", () => {
  const sh = new Shadows(new Store(null));
  const u = (doc: unknown) => sh.update("t", JSON.stringify(doc));
  const r1 = u({ state: { desired: { led1: "on", cfg: { a: 1, b: [1, 2] } }, reported: { led1: "off", cfg: { a: 1, b: [1] } } } });
  expect(r1.ok && r1.publish.find((p) => p.suffix === "update/delta")!.payload.state).toEqual({ led1: "on", cfg: { b: [1, 2] } });
  const r2 = u({ state: { reported: { led1: "on", cfg: { b: [1, 2] } } } });
  expect(r2.ok && r2.publish.some((p) => p.suffix === "update/delta")).toBe(false);
  const r3 = u({ state: { desired: { cfg: null, led2: "on" } }, version: 2 });
  expect(r3.ok && r3.response.version).toBe(3);
  const got = sh.get("t");
  expect(got.ok && got.response.state).toEqual({ desired: { led1: "on", led2: "on" }, reported: { led1: "on", cfg: { a: 1, b: [1, 2] } }, delta: { led2: "on" } });
  expect(got.ok && (got.response.metadata as { desired: { led2: { timestamp: number } } }).desired.led2.timestamp).toEqual(expect.any(Number));
  const conflict = u({ state: { reported: {} }, version: 1 });
  expect(conflict).toEqual({ ok: false, error: { code: 409, message: "Version conflict" } });
  expect(u({ nostate: 1 })).toEqual({ ok: false, error: { code: 400, message: "Missing required node: state" } });
  expect(delta({ a: { b: 1 } }, { a: { b: 1, c: 2 } })).toEqual({});
});

test("topic rules: SELECT * FROM a filter invokes the Lambda with the message", () => {
  expect(parseRuleSql("SELECT * FROM '$aws/events/certificates/registered/#'")).toEqual({ fields: "*", from: "$aws/events/certificates/registered/#" });
  expect(() => parseRuleSql("SELECT * FROM 'a' WHERE b = 1")).toThrow(/SELECT \* \| field/);
  const rules = [{ name: "r", sql: "SELECT certificateId FROM 'e/#'", actions: [{ lambda: { functionArn: "arn:aws:lambda:us-east-1:1:function:F" } }], disabled: false, sqlVersion: "2016-03-23", created: 0 }];
  expect(lambdaInvocations(rules, "e/1", Buffer.from('{"certificateId":"c","x":1}'))).toEqual([{ rule: "r", fn: "F", event: { certificateId: "c" } }]);
  expect(lambdaInvocations(rules, "f/1", Buffer.from("{}"))).toEqual([]);
});

test("the MQTT size guard reads fixed headers across chunk boundaries and trips once, at the header", async () => {
  const { mqttSizeGuard } = await import("./mqtt-limits.ts");
  const mqttPacket = (await import("mqtt-packet")).default;
  const small = mqttPacket.generate({ cmd: "publish", topic: "a", payload: Buffer.alloc(1000), qos: 0, retain: false, dup: false });
  const big = mqttPacket.generate({ cmd: "publish", topic: "a", payload: Buffer.alloc(5000), qos: 0, retain: false, dup: false });
  const trips: number[] = [];
  const guard = mqttSizeGuard(4096, (n) => trips.push(n));
  const stream = Buffer.concat([small, small, big.subarray(0, 6)]);
  for (let i = 0; i < stream.length; i += 7) guard(stream.subarray(i, i + 7)); // 7-byte chunks split every header
  expect(trips).toEqual([5003]);
  guard(big.subarray(6));
  expect(trips).toHaveLength(1);
});
