/**
 * The emulator under hostile input — each finding of the hardening review as a regression test:
 * prototype pollution through a shadow document, policy variables pasted into patterns, names that are
 * Object.prototype members, malformed HTTP (bad escapes, null bodies, huge bodies), a busy port at start.
 */
import { createServer } from "node:net";
import { CreateThingCommand, DescribeThingCommand } from "@aws-sdk/client-iot";
import { expect, test } from "../../testing/emulator-fixtures.ts";
import { runStatus } from "../../testing/tools.ts";
import { isAllowed } from "./policy.ts";

const arn = (kind: string, name: string) => `arn:aws:iot:us-east-1:123456789012:${kind}/${name}`;

test("a shadow document with __proto__ is data: nothing reaches Object.prototype, no phantom thing or policy appears", async ({ emu }) => {
  const api = emu.apiEndpoint;
  const post = await fetch(`${api}/things/any/shadow`, { method: "POST", body: '{"state":{"desired":{"__proto__":{"zz":1},"constructor":{"prototype":{"yy":2}}}}}' });
  expect(post.status).toBe(200);
  expect(({} as Record<string, unknown>).zz).toBeUndefined();
  expect(({} as Record<string, unknown>).yy).toBeUndefined();
  expect((await fetch(`${api}/things/zz`)).status).toBe(404);
  expect((await fetch(`${api}/policies/zz`)).status).toBe(404);
  const doc = (await (await fetch(`${api}/things/any/shadow`)).json()) as { state: { desired: Record<string, unknown> } };
  expect(JSON.stringify(doc.state.desired)).toBe('{"__proto__":{"zz":1},"constructor":{"prototype":{"yy":2}}}');
});

test("policy variables are substituted literally; $(*), $(?) and $($) are literal characters", () => {
  const doc = [JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["iot:Publish", "iot:Subscribe"], Resource: [arn("topic", "topic/${iot:ClientId}/*"), arn("topicfilter", "topic/${iot:ClientId}/*")] }] })];
  for (const clientId of ["*", "?", "$&", "$`", "$'", ".*", "a|b"]) {
    const ctx = { clientId };
    expect(isAllowed(doc, "iot:Publish", arn("topic", "topic/victim/cmd"), ctx), clientId).toBe(false);
    expect(isAllowed(doc, "iot:Subscribe", arn("topicfilter", "topic/victim/#"), ctx), clientId).toBe(false);
    expect(isAllowed(doc, "iot:Publish", arn("topic", `topic/${clientId}/x`), ctx), clientId).toBe(true);
  }
  const literal = [JSON.stringify({ Statement: [{ Effect: "Allow", Action: "iot:Publish", Resource: arn("topic", "a/$(*)/b$(?)$($)") }] })];
  expect(isAllowed(literal, "iot:Publish", arn("topic", "a/*/b?$"), { clientId: "c" })).toBe(true);
  expect(isAllowed(literal, "iot:Publish", arn("topic", "a/x/bq$"), { clientId: "c" })).toBe(false);
  const odd = [JSON.stringify({ Statement: [{ Effect: "Allow", Action: "iot:Publish", Resource: arn("topic", "${constructor}/${__proto__}") }] })];
  expect(isAllowed(odd, "iot:Publish", arn("topic", "x/y"), { clientId: "c" })).toBe(false);
});

test("names that are Object.prototype members: a shadow request on them does not crash, a thing named so is a thing", async ({ emu, iot }) => {
  const api = emu.apiEndpoint;
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
    expect((await fetch(`${api}/topics/${encodeURIComponent(`$aws/things/${name}/shadow/get`)}`, { method: "POST", body: "{}" })).status).toBe(200);
    expect((await fetch(`${api}/things/${name}`)).status).toBe(404);
  }
  await iot.send(new CreateThingCommand({ thingName: "constructor" }));
  expect((await iot.send(new DescribeThingCommand({ thingName: "constructor" }))).thingName).toBe("constructor");
  expect((await fetch(`${api}/things/toString`)).status).toBe(404);
  // The emulator is still up.
  expect((await fetch(`${api}/things/constructor`)).status).toBe(200);
});

test("malformed HTTP: bad escapes and non-object bodies are 400, an oversized body 413, never 500", async ({ emu }) => {
  const api = emu.apiEndpoint;
  const bad = await fetch(`${api}/things/%E0%A4%A`);
  expect(bad.status).toBe(400);
  expect(bad.headers.get("x-amzn-errortype")).toBe("InvalidRequestException");
  for (const body of ["null", "[1]", "7", '"x"']) {
    const r = await fetch(`${api}/things/t1`, { method: "POST", body });
    expect(r.status, body).toBe(400);
    expect(r.headers.get("x-amzn-errortype")).toBe("SerializationException");
  }
  const big = await fetch(`${api}/policies/p1`, { method: "POST", body: Buffer.alloc(2 << 20, 0x20) }).catch((e: Error) => e);
  if (big instanceof Error) expect(big.message).toMatch(/fetch failed|socket|reset/i);
  else expect(big.status).toBe(413);
  expect((await fetch(`${api}/things/nope`)).status).toBe(404); // still serving
});

test("zt-hil emulator on a busy port exits 3 within a second with one line, and releases its other port", async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
  const port = (busy.address() as { port: number }).port;
  try {
    const t0 = Date.now();
    const r = runStatus(process.execPath, ["bin/zt-hil.js", "emulator", "--api-port", String(port)]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe(3);
    expect(r.stderr.trim()).toBe(`zt-hil: API port 127.0.0.1:${port}: cannot listen: EADDRINUSE`);
    const bad = runStatus(process.execPath, ["bin/zt-hil.js", "emulator", "--lambda-delay", "soon"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("lambdaDelayMs must be a positive number");
  } finally {
    busy.close();
  }
});

test("limits: a handshake left unfinished is cut off and counted; a huge handshake message is refused at its header", async () => {
  const { IotCoreEmulator } = await import("./emulator.ts");
  const { connect } = await import("node:net");
  const emu = await IotCoreEmulator.start({ handshakeTimeoutMs: 400 });
  try {
    const idle = connect(emu.mqttPort, "127.0.0.1");
    idle.on("error", () => {});
    await new Promise((r) => idle.once("connect", r));
    idle.write(Buffer.from([0x16, 0x03, 0x01])); // three bytes of a record header, then nothing
    const t0 = Date.now();
    await new Promise((r) => idle.once("close", r));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(emu.events.some((e) => e.type === "refused" && /TLS handshake not complete within 400 ms/.test(String(e.detail.reason)))).toBe(true);

    // One full record whose ClientHello header announces 16 MB: an alert and a close, not 16 MB of reading.
    const big = connect(emu.mqttPort, "127.0.0.1");
    big.on("error", () => {});
    await new Promise((r) => big.once("connect", r));
    const got: Buffer[] = [];
    big.on("data", (d: Buffer) => got.push(d));
    big.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff]), Buffer.alloc(0x4000 - 4)]));
    await new Promise((r) => big.once("close", r));
    expect(Buffer.concat(got)[0]).toBe(0x15); // an alert record
    expect(emu.events.some((e) => e.type === "tls-error" && /over the 65536-byte limit/.test(String(e.detail.error)))).toBe(true);
  } finally {
    await emu.stop();
  }
});
