import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "@playwright/test";
import mqttPacket from "mqtt-packet";
import { Recorder } from "../capture/recorder.ts";
import { ToolCapture } from "../capture/live.ts";
import { ZtError } from "../errors.ts";
import { fuzz } from "../testing/fuzz.ts";
import { makePeerCerts, runClient, startServer, type PeerCerts } from "../testing/openssl-peers.ts";
import { needTools, run, runStatus } from "../testing/tools.ts";
import { readKeyLog } from "../tls/keylog.ts";
import { analyzeBuffer, analyzeFile } from "./analyze-capture.ts";
import { kitFailures } from "./expectations.ts";
import { expect } from "./matchers.ts";

const KIT_CIPHER = ["-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"];
let certs: PeerCerts;
let certDir: string;

test.beforeAll(() => {
  needTools("openssl");
  certDir = mkdtempSync(join(tmpdir(), "zt-hil-peers-"));
  certs = makePeerCerts(certDir);
});
test.afterAll(() => rmSync(certDir, { recursive: true, force: true }));

interface Scenario {
  via?: "tcpdump" | "dumpcap" | "recorder";
  format?: "pcap" | "pcapng";
  iface?: string;
  host?: "127.0.0.1" | "::1";
  server: string[];
  client: string[];
  input?: string | Buffer;
}

/** One openssl s_client ↔ s_server session, captured by a real tool (or the recorder). */
async function capture(s: Scenario): Promise<{ file: string; keylog: string; port: number; clientOutput: string }> {
  const via = s.via ?? "tcpdump";
  const keylog = test.info().outputPath("keys.log");
  const file = test.info().outputPath(`session.${s.format ?? "pcap"}`);
  const srv = await startServer(["-naccept", "1", ...s.server], s.host);
  let port = srv.port;
  let session: ToolCapture | Recorder;
  if (via === "recorder") {
    const rec = new Recorder({ file, target: { host: s.host ?? "127.0.0.1", port: srv.port }, listenHost: s.host ?? "127.0.0.1" });
    await rec.start();
    port = rec.address.port;
    session = rec;
  } else {
    session = new ToolCapture({ tool: via, iface: s.iface ?? "lo", file, filter: `tcp port ${srv.port}`, ...(s.format ? { format: s.format } : {}) });
    await session.start();
  }
  try {
    const client = await runClient(port, ["-keylogfile", keylog, ...s.client], s.input ?? "ping\n", s.host);
    await new Promise((r) => setTimeout(r, 200));
    return { file, keylog, port: srv.port, clientOutput: client.output };
  } finally {
    await session.stop();
    await srv.stop();
  }
}

const kitServer = () => ["-cert", certs.serverCert, "-key", certs.serverKey, "-Verify", "1", "-CAfile", certs.caCert, "-tls1_2", "-curves", "prime256v1", ...KIT_CIPHER];
const kitClient = () => ["-cert", certs.clientCert, "-key", certs.clientKey, "-tls1_2", ...KIT_CIPHER];

test("tcpdump pcap of a client-authenticated 0xC02B session: every verdict holds", async () => {
  needTools("openssl", "tcpdump");
  const { file, keylog } = await capture({ server: kitServer(), client: kitClient() });
  const report = await analyzeFile(file, readKeyLog(keylog));
  expect(report.format).toBe("pcap");
  expect(report.connections).toHaveLength(1);
  const c = report.connections[0]!;
  expect(c).toNegotiate(0xc02b);
  expect(c).toAuthenticateClient();
  expect(c).toCompleteHandshake();
  expect(c).toOfferOnly([0xc02b, 0x00ff]);
  expect(c.serverKeyExchange).toEqual({ curve: "secp256r1", signatureAlgorithm: 0x0403, signature: "valid" });
  expect(c.clientAuth.clientChain[0]!.subject).toBe("O=Example Inc, CN=Example Device");
  expect(c.finished).toEqual({ client: "valid", server: "valid" });
  expect(c.messages.map((m) => `${m.from}:${m.type}`).slice(0, 11)).toEqual([
    "client:ClientHello", "server:ServerHello", "server:Certificate", "server:ServerKeyExchange", "server:CertificateRequest", "server:ServerHelloDone",
    "client:Certificate", "client:ClientKeyExchange", "client:CertificateVerify", "client:ChangeCipherSpec", "client:Finished",
  ]);
  expect(c.closed?.how).toBe("FIN");
  expect(c.phases.total).toBeGreaterThan(0);
  expect(kitFailures(c)).toEqual([]);
});

test("zt-hil analyze --json and --expect kit on a real capture", async () => {
  needTools("openssl", "tcpdump");
  const { file, keylog } = await capture({ server: kitServer(), client: kitClient() });
  const zt = (...a: string[]) => runStatus(process.execPath, ["bin/zt-hil.js", "analyze", file, ...a]);
  const json = zt("--json", "--keylog", keylog);
  expect(json.status).toBe(0);
  const parsed = JSON.parse(json.stdout) as { connections: Record<string, unknown>[] };
  const c = parsed.connections[0]!;
  expect(c).toMatchObject({ version: "TLS1.2", negotiatedSuite: 0xc02b, handshakeComplete: true, clientAuth: { requested: true, clientCertificates: 1, certificateVerify: "valid" } });
  expect((c.offeredSuites as number[]).at(-1)).toBe(0x00ff);
  expect(c.alerts).toEqual([expect.objectContaining({ from: "client", level: "warning", description: "close_notify" }), expect.objectContaining({ from: "server", level: "warning", description: "close_notify" })]);
  expect((c.messages as { time: number }[]).every((m) => m.time >= 0 && m.time < 5)).toBe(true);
  expect(zt("--expect", "kit").status).toBe(0);
  const text = zt().stdout;
  expect(text).toContain("CertificateVerify valid");
});

test("dumpcap pcapng and tcpdump on the `any` interface (Linux cooked v2) read the same", async () => {
  needTools("openssl", "dumpcap", "tcpdump");
  const ng = await capture({ via: "dumpcap", format: "pcapng", server: kitServer(), client: kitClient() });
  const r1 = await analyzeFile(ng.file);
  expect(r1.format).toBe("pcapng");
  expect(r1.connections[0]!).toAuthenticateClient();
  const any = await capture({ iface: "any", server: kitServer(), client: kitClient() });
  const buf = readFileSync(any.file);
  expect(buf.readUInt32LE(20)).toBe(276); // LINKTYPE_LINUX_SLL2
  expect((await analyzeFile(any.file)).connections[0]!).toCompleteHandshake();
});

test("IPv6 loopback sessions are followed", async () => {
  needTools("openssl", "tcpdump");
  const { file } = await capture({ host: "::1", server: kitServer(), client: kitClient() });
  const c = (await analyzeFile(file)).connections[0]!;
  expect(c.client).toMatch(/^\[::1\]:\d+$/);
  expect(c).toAuthenticateClient();
});

test("a server that does not ask for a client certificate fails the kit expectation, naming it", async () => {
  needTools("openssl", "tcpdump");
  const { file } = await capture({ server: ["-cert", certs.serverCert, "-key", certs.serverKey, "-tls1_2", ...KIT_CIPHER], client: kitClient() });
  const c = (await analyzeFile(file)).connections[0]!;
  expect(c.clientAuth).toMatchObject({ requested: false, clientCertificates: 0, certificateVerify: "absent" });
  expect(c).not.toAuthenticateClient();
  const r = runStatus(process.execPath, ["bin/zt-hil.js", "analyze", file, "--expect", "kit"]);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/connection 1 \(127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+\): the server sent no CertificateRequest/);
  expect(r.stderr).toContain("the client's CertificateVerify is absent");
});

test("an RSA suite and TLS 1.3 are told apart from the kit's suite", async () => {
  needTools("openssl", "tcpdump");
  const rsa = await capture({ server: ["-cert", certs.rsaCert, "-key", certs.rsaKey, "-tls1_2"], client: ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"] });
  const c = (await analyzeFile(rsa.file)).connections[0]!;
  expect(c.negotiatedSuite).toBe(0xc02f);
  expect(c.serverKeyExchange?.signature).toBe("valid");
  expect(kitFailures(c)).toContain("negotiated suite is TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, expected TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  const t13 = await capture({ server: ["-cert", certs.serverCert, "-key", certs.serverKey], client: ["-tls1_3"] });
  const c13 = (await analyzeFile(t13.file)).connections[0]!;
  expect(c13.version).toBe("TLS1.3");
  expect(c13.offeredVersions).toEqual(["TLS1.3"]);
  expect(c13).not.toNegotiate(0xc02b);
});

test("a server alert (client without a certificate) is reported with who, level and code", async () => {
  needTools("openssl", "tcpdump");
  const { file } = await capture({ server: kitServer(), client: ["-tls1_2", ...KIT_CIPHER] });
  const c = (await analyzeFile(file)).connections[0]!;
  expect(c.alerts).toContainEqual(expect.objectContaining({ from: "server", level: "fatal", encrypted: false }));
  expect(c.clientAuth.clientCertificates).toBe(0);
  expect(c).not.toCompleteHandshake();
});

test("MQTT inside a decrypted session is decoded", async () => {
  needTools("openssl", "tcpdump");
  const connect = mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "0123456789abcdef0123456789abcdef01234567", clean: true, keepalive: 900 });
  const subscribe = mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "$aws/things/x/shadow/update/delta", qos: 0 }] });
  const { file, keylog } = await capture({ server: kitServer(), client: kitClient(), input: Buffer.concat([connect, subscribe]) });
  const c = (await analyzeFile(file, readKeyLog(keylog))).connections[0]!;
  expect(c.decrypted).toBe(true);
  expect(c.mqtt.map((p) => p.cmd)).toEqual(["connect", "subscribe"]);
  expect(c.mqtt[0]!.detail).toMatchObject({ clientId: "0123456789abcdef0123456789abcdef01234567", keepalive: 900, clean: true });
  expect(c.mqtt[1]!.detail.subscriptions).toEqual([{ topic: "$aws/things/x/shadow/update/delta", qos: 0 }]);
});

test("the in-line recorder writes a pcap that tshark dissects and the analyzer reads", async () => {
  needTools("openssl", "tshark");
  const { file, port } = await capture({ via: "recorder", server: kitServer(), client: kitClient() });
  const types = run("tshark", ["-r", file, "-d", `tcp.port==${port},tls`, "-T", "fields", "-e", "tls.handshake.type"]);
  const seen = new Set(types.split(/[\s,]+/).filter(Boolean).map(Number));
  for (const t of [1, 2, 11, 12, 13, 14, 15, 16]) expect(seen.has(t)).toBe(true);
  const problems = run("tshark", ["-r", file, "-o", "tcp.check_checksum:TRUE", "-Y", "tcp.checksum.status == 0 || ip.checksum.status == 0 || tcp.analysis.flags"]);
  expect(problems.trim()).toBe("");
  const c = (await analyzeFile(file)).connections[0]!;
  expect(c).toAuthenticateClient();
  expect(c.server).toBe(`127.0.0.1:${port}`);
});

test("truncated, corrupt and non-capture files give typed errors and keep what was read", async () => {
  needTools("openssl", "tcpdump");
  const { file } = await capture({ server: kitServer(), client: kitClient() });
  const whole = readFileSync(file);
  const full = await analyzeBuffer(whole, "whole.pcap");
  const cut = await analyzeBuffer(whole.subarray(0, whole.length - 30), "cut.pcap");
  expect(cut.packets).toBe(full.packets - 1);
  expect(cut.problems.join()).toMatch(/cut\.pcap: truncated packet record at offset \d+/);
  expect(cut.connections[0]!.clientAuth.certificateVerify).toBe("valid");
  await expect(analyzeBuffer(Buffer.from("not a capture at all"), "text.pcap")).rejects.toThrow(/text\.pcap: not a pcap or pcapng file/);
  const bad = test.info().outputPath("bad.pcap");
  writeFileSync(bad, whole.subarray(0, 10));
  const r = runStatus(process.execPath, ["bin/zt-hil.js", "analyze", bad, "--expect", "kit"]);
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
});

test("fuzz: 100k mutated captures (seeded) never crash the analyzer; a malformed connection keeps its problems to itself", async () => {
  test.setTimeout(240_000);
  needTools("openssl", "dumpcap");
  const pcap = readFileSync((await capture({ server: kitServer(), client: kitClient() })).file);
  const pcapng = readFileSync((await capture({ via: "dumpcap", format: "pcapng", server: kitServer(), client: kitClient() })).file);
  const r = await fuzz("analyzer", [pcap, pcapng], (b) => analyzeBuffer(b, "mutant"), { seed: 0x2545f491, inputs: 100_000, seconds: 150, allowed: (e) => e instanceof ZtError });
  expect(r.crashes).toEqual([]);
  expect(r.inputs).toBeGreaterThanOrEqual(100_000);
  expect(r.accepted).toBeGreaterThan(0);
  await test.info().attach("analyzer fuzz", { body: JSON.stringify(r, null, 2), contentType: "application/json" });

  // A capture of a good connection and one whose ClientHello ends inside its SNI extension.
  const good = (await analyzeBuffer(pcap, "good.pcap")).connections[0]!;
  const { PcapWriter, SynthesizedFlow } = await import("../capture/pcap-writer.ts");
  const file = test.info().outputPath("mixed.pcap");
  const w = new PcapWriter(file);
  const { parseCapture } = await import("../capture/pcap-file.ts");
  const { reassemble } = await import("../capture/tcp-reassembly.ts");
  const [conn] = reassemble((await parseCapture(pcap, "good.pcap")).packets).connections;
  const replay = (client: number, toServer: Buffer, toClient: Buffer) => {
    const f = new SynthesizedFlow(w, { ip: "127.0.0.1", port: client }, { ip: "127.0.0.2", port: 8883 });
    f.open(1);
    f.data("client", toServer, 1.1);
    f.data("server", toClient, 1.2);
    f.fin("client", 1.3);
  };
  const join = (d: { chunks: { data: Buffer }[] }) => Buffer.concat(d.chunks.map((c) => c.data));
  replay(40001, join(conn!.toServer), join(conn!.toClient));
  // ClientHello: record header, handshake header, version, random, empty session id, one suite, null
  // compression, then extensions whose SNI entry claims more bytes than follow.
  const body = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.alloc(32, 7), Buffer.from([0x00, 0x00, 0x02, 0xc0, 0x2b, 0x01, 0x00]), Buffer.from([0x00, 0x09, 0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x09])]);
  const hello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, body.length + 4, 0x01, 0x00, 0x00, body.length]), body]);
  replay(40002, hello, Buffer.alloc(0));
  w.close();
  const mixed = await analyzeFile(file);
  expect(mixed.connections).toHaveLength(2);
  expect(mixed.connections[0]!.negotiatedSuite).toBe(good.negotiatedSuite);
  expect(mixed.connections[0]!.clientAuth.certificateVerify).toBe(good.clientAuth.certificateVerify);
  expect(mixed.connections[1]!.problems.length).toBeGreaterThan(0);
});

test("a large capture is analyzed on both cores with the same verdicts as a small one", async () => {
  needTools("openssl", "tcpdump");
  const { PcapWriter, SynthesizedFlow } = await import("../capture/pcap-writer.ts");
  const { readCaptureFile } = await import("../capture/pcap-file.ts");
  const { reassemble } = await import("../capture/tcp-reassembly.ts");
  const { PARALLEL_MIN } = await import("./verdict-pool.ts");
  const { file } = await capture({ server: kitServer(), client: kitClient() });
  const one = reassemble((await readCaptureFile(file)).packets).connections[0]!;
  const events = [...one.toServer.chunks.map((c) => ({ from: "client" as const, ...c })), ...one.toClient.chunks.map((c) => ({ from: "server" as const, ...c }))].sort((a, b) => a.time - b.time);
  const big = test.info().outputPath("many.pcap");
  const w = new PcapWriter(big);
  const n = PARALLEL_MIN + 50;
  for (let i = 0; i < n; i++) {
    const flow = new SynthesizedFlow(w, { ip: "127.0.0.1", port: 20000 + i }, { ip: "127.0.0.1", port: 8883 });
    flow.open(1000 + i);
    for (const e of events) flow.data(e.from, e.data, 1000 + i + (e.time - events[0]!.time));
    flow.fin("client", 1001 + i);
  }
  w.close();
  const report = await analyzeFile(big);
  expect(report.connections).toHaveLength(n);
  const reference = (await analyzeFile(file)).connections[0]!;
  const shape = (c: typeof reference) => [c.negotiatedSuite, c.clientAuth.certificateVerify, c.serverKeyExchange?.signature, c.handshakeComplete, c.messages.map((m) => m.type).join(",")];
  for (const c of report.connections) expect(shape(c)).toEqual(shape(reference));
  expect(report.connections.map((c) => c.index)).toEqual([...Array(n).keys()].map((i) => i + 1));
  expect(new Set(report.connections.map((c) => c.client)).size).toBe(n);
});
