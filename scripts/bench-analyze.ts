/**
 * Benchmark: `zt-hil analyze` (full verdicts, every ServerKeyExchange and CertificateVerify verified)
 * against `tshark -T fields` on the same capture of thousands of real, distinct mutual-TLS handshakes
 * (Node's TLS on both ends, ECDSA P-256, the kit's suite), captured by tcpdump on loopback (or by the
 * in-line recorder where tcpdump is missing). Prints both times and the ratio; the target is ≥ 5×.
 *
 *   npm run bench:analyze [-- --handshakes N]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, connect, type TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Recorder } from "../harness/capture/recorder.ts";
import { ToolCapture } from "../harness/capture/live.ts";
import type { CaptureSession } from "../harness/capture/capture-session.ts";
import { makePeerCerts } from "../harness/testing/openssl-peers.ts";
import { hasTool } from "../harness/testing/tools.ts";
import { readFileSync } from "node:fs";

const count = Number(process.argv[process.argv.indexOf("--handshakes") + 1] || 3000) || 3000;
const dir = mkdtempSync(join(tmpdir(), "zt-hil-bench-"));
const certs = makePeerCerts(dir);
const read = (f: string) => readFileSync(f);

const server = createServer({
  cert: read(certs.serverCert),
  key: read(certs.serverKey),
  requestCert: true,
  rejectUnauthorized: false,
  minVersion: "TLSv1.2",
  maxVersion: "TLSv1.2",
  ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256",
  ecdhCurve: "P-256",
  sigalgs: "ECDSA+SHA256",
});
server.on("secureConnection", (s: TLSSocket) => {
  s.on("data", () => s.end());
  s.on("error", () => {});
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
const serverPort = (server.address() as { port: number }).port;

const file = join(dir, "bench.pcap");
let session: CaptureSession;
let port = serverPort;
if (hasTool("tcpdump")) {
  session = new ToolCapture({ tool: "tcpdump", iface: "lo", file, filter: `tcp port ${serverPort}` });
} else {
  const rec = new Recorder({ file, target: { host: "127.0.0.1", port: serverPort } });
  session = rec;
}
await session.start();
if (session instanceof Recorder) port = session.address.port;

const clientCert = read(certs.clientCert);
const clientKey = read(certs.clientKey);
const t0 = performance.now();
let started = 0;
let done = 0;
async function one(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, cert: clientCert, key: clientKey, rejectUnauthorized: false, maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" }, () => s.write("ping"));
    s.on("data", () => {});
    s.on("close", () => resolve());
    s.on("error", reject);
  });
  done++;
}
const workers = Array.from({ length: 8 }, async () => {
  while (started < count) {
    started++;
    await one();
  }
});
await Promise.all(workers);
const genMs = performance.now() - t0;
await session.stop();
server.close();

function time(cmd: string, args: string[]): number {
  const start = performance.now();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
  const ms = performance.now() - start;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} failed: ${r.stderr}`);
  return ms;
}

const ours = time(process.execPath, ["bin/zt-hil.js", "analyze", file, "--json", "--expect", "kit"]);
const check = spawnSync(process.execPath, ["bin/zt-hil.js", "analyze", file, "--json"], { maxBuffer: 1 << 30 });
const report = JSON.parse(check.stdout.toString()) as { connections: { clientAuth: { certificateVerify: string }; serverKeyExchange: { signature: string } | null }[] };
const verified = report.connections.filter((c) => c.clientAuth.certificateVerify === "valid" && c.serverKeyExchange?.signature === "valid").length;

console.log(`capture: ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB, ${done} handshakes generated in ${(genMs / 1000).toFixed(1)} s via ${session instanceof Recorder ? "recorder" : "tcpdump"})`);
console.log(`zt-hil analyze: ${ours.toFixed(0)} ms for ${report.connections.length} connections (${verified} with ServerKeyExchange and CertificateVerify verified)`);
if (hasTool("tshark")) {
  const tshark = time("tshark", ["-r", file, "-d", `tcp.port==${port},tls`, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "tls.handshake.type", "-e", "tls.handshake.ciphersuite"]);
  console.log(`tshark -T fields: ${tshark.toFixed(0)} ms`);
  console.log(`speed ratio tshark/zt-hil: ${(tshark / ours).toFixed(2)} (target ≥ 5)`);
} else {
  console.log("tshark: not installed, no comparison");
}
if (!process.env.ZT_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
