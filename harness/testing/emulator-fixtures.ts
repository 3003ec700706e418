/**
 * Playwright fixtures for the emulator's own tests: a fresh in-memory emulator per test (its own
 * ports), a PKI, an SDK client, and a helper running command-line MQTT/TLS clients asynchronously
 * (the emulator shares the test's event loop, so a blocking spawn would deadlock it).
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { test as base } from "@playwright/test";
import type { IoTClient } from "@aws-sdk/client-iot";
import { IotCoreEmulator, JITR_LAMBDA_NAME } from "../cloud/emulator/emulator.ts";
import { createJitrRule, registerSigner } from "../cloud/emulator/jitr-setup.ts";
import { initPki, type Pki } from "../pki/pki-dir.ts";

export interface RunResult {
  code: number;
  output: string;
}

/** Run a command to completion without blocking the event loop. */
export function runAsync(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 15000, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export const JITR_LAMBDA_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${JITR_LAMBDA_NAME}`;

export const test = base.extend<{ emu: IotCoreEmulator; pki: Pki; iot: IoTClient; serverCaFile: string; jitr: { caId: string } }>({
  emu: async ({}, use) => {
    const emu = await IotCoreEmulator.start();
    await use(emu);
    await emu.stop();
  },
  pki: async ({}, use, info) => use(await initPki(info.outputPath("pki"))),
  iot: async ({ emu }, use) => {
    const c = emu.iotClient();
    await use(c);
    c.destroy();
  },
  serverCaFile: async ({ emu }, use, info) => {
    const f = info.outputPath("server-ca.pem");
    writeFileSync(f, emu.serverCaPem);
    await use(f);
  },
  /** The account set up for the kit's JITR: signer CA registered, rule to the Lambda. */
  jitr: async ({ iot, pki }, use) => {
    const caId = await registerSigner(iot, pki);
    await createJitrRule(iot, JITR_LAMBDA_ARN);
    await use({ caId });
  },
});

export { expect } from "@playwright/test";
