/**
 * The fault catalog on its own: ZT_FAULTS parsing, the catalog's promises (every layer, console lines
 * the firmware really prints, `zt-hil faults` and the README's table), and `--diagnose` on captures
 * that OpenSSL made of the same failures — s_server refusing the kit's ClientHello or an expired
 * client certificate, s_client refusing a server chain it does not trust — taken by real tcpdump.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { analyzeFile } from "../analysis/analyze-capture.ts";
import { ToolCapture } from "../capture/live.ts";
import { makePeerCerts, runClient, startServer, type PeerCerts } from "../testing/openssl-peers.ts";
import { needTools, run, runStatus } from "../testing/tools.ts";
import { TlsClientConnection } from "../tls/client.ts";
import { softwareCrypto } from "../tls/software-crypto.ts";
import { toCryptoKey } from "../pki/keys.ts";
import { x509 } from "../pki/x509.ts";
import { kitClientHello } from "../../rigs/virtual-kit/winc1500/winc1500.ts";
import { FAULTS, type Layer } from "./catalog.ts";
import { parseLabFaults } from "./lab-faults.ts";
import { recognize } from "./recognize.ts";

const KIT_CIPHER = ["-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"];
const zt = (...args: string[]) => runStatus(process.execPath, ["bin/zt-hil.js", ...args]);

test("ZT_FAULTS: names, values with defaults, and errors that name the entry", () => {
  const f = parseLabFaults("jitr-lambda-off, lambda-delay=250,strict-tls,slow-atecc=2.5,link-latency,policy-deny-connect,policy-deny-subscribe,wifi-wrong-psk");
  expect(f.cloud).toEqual({ lambda: "off", lambdaDelayMs: 250, tlsStack: "openssl", policyDeny: ["iot:Connect", "iot:Subscribe"] });
  expect(f.twin).toMatchObject({ ateccSlowFactor: 2.5, apPsk: expect.any(String) });
  expect(f.link).toEqual({ latencyMs: 1500, resetAfterServerBytes: null, idleDropMs: null, lossesPerChunk: 0, fragment: null });
  expect(f.names).toEqual(["jitr-lambda-off", "lambda-delay=250", "strict-tls", "slow-atecc=2.5", "link-latency", "policy-deny-connect", "policy-deny-subscribe", "wifi-wrong-psk"]);
  expect(parseLabFaults(undefined).names).toEqual([]);
  expect(() => parseLabFaults("lambda-delay=soon")).toThrow(/ZT_FAULTS: lambda-delay needs a positive number \(delay before each Lambda invocation, in ms\), got "lambda-delay=soon"/);
  expect(() => parseLabFaults("link-reset=1.5")).toThrow(/link-reset needs a positive whole number/);
  expect(() => parseLabFaults("strict-tls=1")).toThrow(/strict-tls takes no value/);
  expect(() => parseLabFaults("melt-down")).toThrow(/unknown fault "melt-down" \(zt-hil faults lists them: wifi-wrong-psk, /);
});

test("the catalog: at least 16 faults over every layer, unique names, console lines firmware v2.2.5 prints", () => {
  expect(FAULTS.length).toBeGreaterThanOrEqual(16);
  expect(new Set(FAULTS.map((f) => f.name)).size).toBe(FAULTS.length);
  const layers: Layer[] = ["Wi-Fi", "DNS", "TCP", "TLS", "JITR", "MQTT", "policy", "ATECC", "power"];
  for (const l of layers) expect(FAULTS.some((f) => f.layer === l), `a fault in layer ${l}`).toBe(true);
  const sources = readdirSync("rigs/virtual-kit/firmware")
    .filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))
    .map((n) => readFileSync(join("rigs/virtual-kit/firmware", n), "utf8"))
    .join("\n");
  for (const f of FAULTS) {
    for (const line of f.console) {
      // The firmware prints "ERROR:    " + message; the SOCKET_MSG_CONNECT line is printf'd whole.
      const text = line.replace(/^(ERROR|SUCCESS|WARNING):\s+/, "").replace(/\(-12\)$/, "(");
      expect(sources.includes(text), `${f.name}: the twin's firmware prints "${text}"`).toBe(true);
    }
    expect(["provisioning", "jitr", "tls-handshake", "crypto-latency", "shadow", "power-cycle"]).toContain(f.red.spec);
  }
});

test("zt-hil faults lists every entry; the README's table is the catalog's", () => {
  const plain = zt("faults");
  expect(plain.status).toBe(0);
  for (const f of FAULTS) expect(plain.stdout).toMatch(new RegExp(`^${f.name}(\\[=N\\])? `, "m"));
  const json = JSON.parse(zt("faults", "--json").stdout) as { name: string }[];
  expect(json.map((r) => r.name.replace("[=N]", ""))).toEqual(FAULTS.map((f) => f.name));
  const table = zt("faults", "--markdown").stdout.trim();
  expect(table.split("\n")).toHaveLength(FAULTS.length + 2);
  expect(readFileSync("README.md", "utf8")).toContain(table);
});

let certs: PeerCerts;
test.describe("--diagnose on OpenSSL's own captures of the same failures", () => {
  test.beforeAll(({}, info) => {
    needTools("openssl", "tcpdump");
    mkdirSync(info.outputPath("peers"), { recursive: true });
    certs = makePeerCerts(info.outputPath("peers"));
  });

  /** Capture, with real tcpdump on lo, whatever `session(port)` does against an s_server started with `server`. */
  async function captured(server: string[], session: (port: number) => Promise<unknown>, name: string): Promise<string> {
    const file = test.info().outputPath(`${name}.pcap`);
    const srv = await startServer(["-naccept", "1", ...server]);
    const cap = new ToolCapture({ tool: "tcpdump", iface: "lo", file, filter: `tcp port ${srv.port}` });
    await cap.start();
    try {
      await session(srv.port);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await cap.stop();
      await srv.stop();
    }
    return file;
  }

  const kitServer = () => ["-cert", certs.serverCert, "-key", certs.serverKey, "-Verify", "1", "-CAfile", certs.caCert, "-tls1_2", "-curves", "prime256v1", ...KIT_CIPHER];

  test("s_server refuses the kit's ClientHello (no supported_groups): strict-tls", async () => {
    const file = await captured(
      kitServer(),
      (port) =>
        new Promise<void>((resolve) => {
          const socket = connect(port, "127.0.0.1");
          socket.on("error", () => resolve());
          socket.on("close", () => resolve());
          socket.on("connect", () => {
            const tls = new TlsClientConnection(socket, {
              hello: kitClientHello("19.4.4", null),
              clientChain: [new X509Certificate(readFileSync(certs.clientCert)).raw],
              trust: [new X509Certificate(readFileSync(certs.caCert)).raw],
              crypto: softwareCrypto(createPrivateKey(readFileSync(certs.clientKey))),
            });
            tls.on("error", () => {});
            tls.handshake().then(
              () => socket.destroy(),
              () => socket.destroy(),
            );
          });
        }),
      "strict",
    );
    const findings = recognize({ report: await analyzeFile(file) });
    expect(findings.map((f) => f.faults[0])).toEqual(["strict-tls"]);
    expect(findings[0]!.summary).toMatch(/server alert handshake_failure right after a ClientHello without supported_groups/);
    expect(findings[0]!.evidence[0]).toMatch(/connection #1 \(127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+\): ClientHello \(extensions: signature_algorithms\), server alert handshake_failure at \+\d+\.\d{3} s/);
    // The CLI says the same and exits 1 (a known failure found).
    const cli = zt("analyze", file, "--diagnose");
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(/^strict-tls: server alert handshake_failure/m);
  });

  test("s_client refuses a server chain it does not trust: untrusted-server-chain", async () => {
    mkdirSync(test.info().outputPath("other"), { recursive: true });
    const other = makePeerCerts(test.info().outputPath("other"));
    const file = await captured(kitServer(), (port) => runClient(port, ["-cert", certs.clientCert, "-key", certs.clientKey, "-tls1_2", "-CAfile", other.caCert, "-verify_return_error", ...KIT_CIPHER]), "untrusted");
    const findings = recognize({ report: await analyzeFile(file) });
    expect(findings.map((f) => f.faults[0])).toEqual(["untrusted-server-chain"]);
    // OpenSSL finds an issuer of the same name whose key did not sign: decrypt_error.
    expect(findings[0]!.summary).toMatch(/the kit refused the server's chain \(client alert (unknown_ca|decrypt_error) after ServerHelloDone\): it does not trust "CN=zt-hil test CA"/);
  });

  for (const [when, fault] of [
    ["after its notAfter", "device-cert-expired"],
    ["before its notBefore", "device-cert-not-yet-valid"],
  ] as const) {
    test(`s_server gets a client certificate ${when}: ${fault}`, async () => {
      // The test CA issues the kit's certificate with dates outside today, as a host with a wrong clock would.
      const day = 24 * 3600 * 1000;
      const [notBefore, notAfter] = fault === "device-cert-expired" ? [new Date(Date.now() - 20 * day), new Date(Date.now() - 10 * day)] : [new Date(Date.now() + 10 * day), new Date(Date.now() + 20 * day)];
      const caKey = await toCryptoKey(createPrivateKey(readFileSync(join(certs.caCert, "..", "ca.key"))));
      const ca = new x509.X509Certificate(readFileSync(certs.caCert, "utf8"));
      const clientKey = createPrivateKey(readFileSync(certs.clientKey));
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: "0a1b2c",
        subject: "O=Example Inc, CN=Example Device",
        issuer: ca.subject,
        notBefore,
        notAfter,
        publicKey: await toCryptoKey(createPublicKey(clientKey)),
        signingKey: caKey,
        signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      });
      const certFile = test.info().outputPath("dated-client.crt");
      writeFileSync(certFile, cert.toString("pem"));
      // -verify_return_error: s_server otherwise only prints what it finds wrong with a client certificate.
      const file = await captured(["-verify_return_error", ...kitServer()], (port) => runClient(port, ["-cert", certFile, "-key", certs.clientKey, "-tls1_2", ...KIT_CIPHER]), fault);
      const report = await analyzeFile(file);
      const findings = recognize({ report });
      expect(findings.map((f) => f.faults)).toEqual([[fault]]);
      // OpenSSL's own alerts: certificate_expired past notAfter, bad_certificate before notBefore.
      expect(findings[0]!.summary).toMatch(new RegExp(`server alert ${fault === "device-cert-expired" ? "certificate_expired" : "bad_certificate"} after the kit's (Certificate|CertificateVerify|Finished)`));
    });
  }

  test("a clean kit-like session: nothing known, exit 0", async () => {
    const file = await captured(kitServer(), (port) => runClient(port, ["-cert", certs.clientCert, "-key", certs.clientKey, "-tls1_2", "-CAfile", certs.caCert, ...KIT_CIPHER]), "clean");
    expect(recognize({ report: await analyzeFile(file) })).toEqual([]);
    const cli = zt("analyze", file, "--diagnose");
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/^diagnose: no known failure in .*clean\.pcap \(1 TLS connection\(s\)\)$/m);
    expect(run("openssl", ["version"])).toMatch(/^OpenSSL 3/);
  });
});
