/**
 * The customer's own JITR Lambda, unchanged, behind the emulator's topic rule: a Node.js handler
 * (CommonJS or ESM; @aws-sdk v3 and aws-sdk v2 resolve to the emulator) or a Python one
 * (`lambda_handler`, with Debian's boto3 pointed at the emulator), run in a child process per invocation
 * as AWS runs it in a sandbox: the event AWS sends on stdin, the environment AWS sets (AWS_REGION,
 * AWS_DEFAULT_REGION, AWS_LAMBDA_FUNCTION_NAME, ...), a timeout that kills it, and its stdout/stderr
 * kept as the invocation's log (the emulator's lambda-* events carry it into reports).
 * The hosts are in lambda-host/; a child process is the seam because a customer's handler must not
 * share the emulator's memory, module cache or event loop, and Python has no other way in.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ZtError } from "../../errors.ts";
import type { LambdaHandler } from "./rules.ts";

export interface ExternalLambdaOptions {
  file: string;
  /** The function's name (what the rule's ARN names). */
  functionName: string;
  region: string;
  accountId: string;
  /** The control-plane endpoint the handler's SDK calls, and the credentials it signs with. */
  endpoint: () => string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** AWS's default is 3 s; the kit's Lambda needs a few control-plane calls. */
  timeoutMs?: number;
}

const HOSTS = fileURLToPath(new URL("./lambda-host/", import.meta.url));
const SDK_DIR = fileURLToPath(new URL("../../../node_modules", import.meta.url));
const MAX_LOG = 64 * 1024;
/** Debian's python3, where scripts/setup installs python3-boto3 (a pyenv python3 on PATH would not see it). */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** Node or Python, by the file's extension; anything else is refused when the emulator starts. */
export function lambdaRuntime(file: string): "node" | "python" {
  if (!existsSync(file) || !statSync(file).isFile()) throw new ZtError(file, "no such Lambda handler file");
  const ext = extname(file);
  if ([".js", ".mjs", ".cjs"].includes(ext)) return "node";
  if (ext === ".py") return "python";
  throw new ZtError(file, `a Lambda handler is a .js, .mjs, .cjs (Node.js) or .py (Python) file, not "${ext}"`);
}

export function externalLambda(opts: ExternalLambdaOptions): LambdaHandler {
  const file = resolve(opts.file);
  const runtime = lambdaRuntime(file);
  const timeoutMs = opts.timeoutMs ?? 3000;
  return (event, log) =>
    new Promise((done, fail) => {
      const requestId = randomUUID();
      const [cmd, args] = runtime === "node" ? [process.execPath, [`${HOSTS}node-host.mjs`, file]] : [PYTHON, [`${HOSTS}python-host.py`, file]];
      const child = spawn(cmd, args, {
        stdio: ["pipe", "pipe", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH,
          LANG: "C.UTF-8",
          TZ: ":UTC",
          AWS_REGION: opts.region,
          AWS_DEFAULT_REGION: opts.region,
          AWS_LAMBDA_FUNCTION_NAME: opts.functionName,
          AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
          AWS_EXECUTION_ENV: runtime === "node" ? "AWS_Lambda_nodejs20.x" : "AWS_Lambda_python3.11",
          AWS_ACCESS_KEY_ID: opts.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey,
          AWS_SESSION_TOKEN: "zt-hil",
          AWS_ENDPOINT_URL: opts.endpoint(),
          ZT_ENDPOINT_URL: opts.endpoint(),
          ZT_SDK_DIR: SDK_DIR,
          NODE_PATH: SDK_DIR,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
          ZT_LAMBDA_ARN: `arn:aws:lambda:${opts.region}:${opts.accountId}:function:${opts.functionName}`,
          ZT_LAMBDA_TIMEOUT_MS: String(timeoutMs),
          ZT_REQUEST_ID: requestId,
        },
      });
      let logged = 0;
      const keep = (d: Buffer) => {
        if (logged > MAX_LOG) return;
        logged += d.length;
        for (const line of d.toString("utf8").split(/\r?\n/).filter(Boolean)) log?.(line);
      };
      log?.(`START RequestId: ${requestId} Version: $LATEST (${runtime}: ${file})`);
      child.stdout!.on("data", keep);
      child.stderr!.on("data", keep);
      let reply = "";
      (child.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => (reply += d.toString("utf8")));
      const started = Date.now();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.stdin!.end(JSON.stringify(event));
      child.on("error", (err) => {
        clearTimeout(timer);
        fail(new Error(`${opts.functionName} (${file}) could not start: ${err.message}`));
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        log?.(`END RequestId: ${requestId} Duration: ${Date.now() - started} ms`);
        if (timedOut) return fail(new Error(`${opts.functionName} (${file}) timed out after ${timeoutMs} ms (Task timed out)`));
        let body: { result?: unknown; errorType?: string; errorMessage?: string } = {};
        try {
          body = JSON.parse(reply || "{}") as typeof body;
        } catch {
          /* a host that died before replying: the exit code says it */
        }
        if (code === 0 && "result" in body) return done(body.result);
        fail(new Error(`${opts.functionName} (${file}) failed: ${body.errorType ?? "exit"}: ${body.errorMessage ?? `exited ${code}`}`));
      });
    });
}
