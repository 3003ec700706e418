/**
 * Real TLS peers for the harness's own tests: `openssl s_server` and `openssl s_client` with
 * certificates made by openssl itself, on loopback with ports chosen by the OS.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { run } from "./tools.ts";

export interface PeerCerts {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rsaCert: string;
  rsaKey: string;
}

function ecKeyAndCsr(dir: string, name: string, subject: string): void {
  run("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject, "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.csr`)]);
}

/** An ECDSA P-256 CA, a server and a client certificate it signs, and a self-signed RSA server. */
export function makePeerCerts(dir: string): PeerCerts {
  const p = (f: string) => join(dir, f);
  run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=zt-hil test CA", "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2"]);
  for (const [name, subject] of [["server", "/CN=localhost"], ["client", "/O=Example Inc/CN=Example Device"]] as const) {
    ecKeyAndCsr(dir, name, subject);
    run("openssl", ["x509", "-req", "-in", p(`${name}.csr`), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p(`${name}.crt`), "-days", "2"]);
  }
  run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", p("rsa.key"), "-out", p("rsa.crt"), "-days", "2"]);
  return { caCert: p("ca.crt"), serverCert: p("server.crt"), serverKey: p("server.key"), clientCert: p("client.crt"), clientKey: p("client.key"), rsaCert: p("rsa.crt"), rsaKey: p("rsa.key") };
}

export interface Server {
  port: number;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** `openssl s_server` on loopback (127.0.0.1 or ::1) with an OS-chosen port; resolves once it accepts. */
export function startServer(args: string[], host: "127.0.0.1" | "::1" = "127.0.0.1"): Promise<Server> {
  const proc = spawn("openssl", ["s_server", "-accept", host === "::1" ? "[::1]:0" : "127.0.0.1:0", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /ACCEPT (?:127\.0\.0\.1|\[::1\]):(\d+)/.exec(out);
      if (m) {
        resolve({
          port: Number(m[1]),
          proc,
          output: () => out,
          stop: async () => {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill();
            await exited;
          },
        });
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`openssl s_server exited ${code}: ${out}`)));
  });
}

/** Run `openssl s_client` to completion, feeding it `input` (then EOF). */
export function runClient(port: number, args: string[], input: string | Buffer = "ping\n", host = "127.0.0.1"): Promise<{ code: number | null; output: string }> {
  const proc = spawn("openssl", ["s_client", "-connect", host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  // A server that refuses the handshake may leave s_client gone before its input is written (EPIPE).
  proc.stdin!.on("error", () => {});
  let output = "";
  proc.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  // Send once the handshake is done, so the data goes out encrypted after Finished.
  const timer = setInterval(() => {
    if (/Verify return code|New, TLS|Verification/.test(output)) {
      clearInterval(timer);
      proc.stdin!.end(input);
    }
  }, 20);
  const kill = setTimeout(() => proc.kill(), 15000);
  return new Promise((resolve) =>
    proc.once("exit", (code) => {
      clearInterval(timer);
      clearTimeout(kill);
      if (!proc.stdin!.writableEnded) proc.stdin!.end();
      resolve({ code, output });
    }),
  );
}
