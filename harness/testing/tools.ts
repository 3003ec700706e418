/**
 * Helpers for the harness's own tests: external tools (openssl, tcpdump, tshark, socat...) are real
 * peers, never mocks. Locally a test skips when its tool is missing; under CI=true that skip is
 * reported as a failure by the guard reporter, and .ci/run installs the tools first.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { test } from "@playwright/test";

export function hasTool(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** Skip the current test (a failure under CI, see the guard reporter) unless every tool is on PATH. */
export function needTools(...names: string[]): void {
  const missing = names.filter((n) => !hasTool(n));
  test.skip(missing.length > 0, `needs ${missing.join(", ")} on PATH`);
}

/** Run a tool and return stdout; a non-zero exit throws with its stderr. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], ...opts });
}

/** Run a tool and return its exit code, stdout and stderr without throwing. */
export function runStatus(cmd: string, args: string[], opts: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start a long-running command and resolve with its first stdout line (e.g. a "ready" line). */
export function spawnUntilFirstLine(cmd: string, args: string[]): Promise<{ child: import("node:child_process").ChildProcessWithoutNullStreams; line: string; stop: () => Promise<void> }> {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve({ child, line: out.slice(0, out.indexOf("\n")).trim(), stop });
    });
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => reject(new Error(`${cmd} exited ${code} before printing a line: ${err.trim()}`)));
  });
}
