// Runs one invocation of a customer's Node.js Lambda handler the way AWS's Node runtime does, for the
// emulator (harness/cloud/emulator/external-lambda.ts): `exports.handler` (CommonJS) or `export const
// handler` (ESM), async or callback style, with the event on stdin and a context object. Its result
// (or error) goes to fd 3 as JSON; its stdout/stderr are the Lambda's log. The SDKs resolve as in
// Lambda's runtime: zt-hil's node_modules stand in for /var/runtime (NODE_PATH for require, a resolve
// hook for import), and the parent sets AWS_ENDPOINT_URL so @aws-sdk v3 clients reach the emulator;
// aws-sdk v2 gets the same endpoint through its global config.
// Plain JavaScript: it is started by `node`, not tsx, like the runtime it stands in for.
import { writeSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";

const [file, handlerName = "handler"] = process.argv.slice(2);
register(new URL("./sdk-resolve.mjs", import.meta.url), { data: { fallback: process.env.ZT_SDK_DIR } });

function reply(body) {
  writeSync(3, JSON.stringify(body));
}

function fail(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  console.error(`ERROR\t${e.name}: ${e.message}`);
  reply({ errorType: e.name, errorMessage: e.message, stack: (e.stack ?? "").split("\n") });
  process.exit(1);
}

process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

// aws-sdk v2 has no endpoint environment variable: configure it before the handler loads it.
try {
  const v2 = createRequire(`${process.env.ZT_SDK_DIR}/`)("aws-sdk");
  v2.config.update({ endpoint: process.env.AWS_ENDPOINT_URL, region: process.env.AWS_REGION });
} catch {
  /* no aws-sdk v2 installed: a handler that needs it fails to load, as on a runtime without it */
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const event = JSON.parse(input);
const deadline = Date.now() + Number(process.env.ZT_LAMBDA_TIMEOUT_MS);
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: "$LATEST",
  invokedFunctionArn: process.env.ZT_LAMBDA_ARN,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  awsRequestId: process.env.ZT_REQUEST_ID,
  logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
  logStreamName: "zt-hil",
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  callbackWaitsForEmptyEventLoop: true,
};

const mod = await import(pathToFileURL(file).href);
const handler = mod[handlerName] ?? mod.default?.[handlerName];
if (typeof handler !== "function") fail(new Error(`${file} exports no function "${handlerName}" (exports.${handlerName} or export const ${handlerName})`));
const result = await new Promise((resolve, reject) => {
  const maybe = handler(event, context, (err, value) => (err ? reject(err) : resolve(value)));
  if (maybe && typeof maybe.then === "function") maybe.then(resolve, reject);
});
reply({ result: result ?? null });
process.exit(0);
