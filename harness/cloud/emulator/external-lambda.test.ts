/**
 * The customer's own JITR Lambda in the loop, unchanged: Lambdas written like a customer's (ESM with
 * @aws-sdk v3, CommonJS with aws-sdk v2, Python with Debian's boto3) behind the emulator's JITR rule
 * make the JITR spec pass on a nested virtual lab; one that raises, one that times out and one that
 * forgets to activate make it fail, naming the Lambda and quoting its log. Every run's report carries
 * the Lambda's log.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { attachmentBody, nestedRun, onlyResult } from "../../testing/nested-run.ts";
import { hasTool } from "../../testing/tools.ts";

test.describe.configure({ mode: "parallel" });

// The customer's files live outside zt-hil's tree, as they would: their SDK imports must resolve the way
// Lambda's runtime resolves them, not through a node_modules above them.
// Made per group of tests a worker runs (afterAll ends a group, and the same worker may run another).
let LAMBDAS = "";
test.beforeAll(() => {
  LAMBDAS = mkdtempSync(join(tmpdir(), "zt-hil-customer-lambdas-"));
  cpSync(join(process.cwd(), "harness/testing/lambdas"), LAMBDAS, { recursive: true });
});
test.afterAll(() => rmSync(LAMBDAS, { recursive: true, force: true }));
const cloud = (file: string, timeoutMs = 10_000) => `{ kind: emulator, jitrLambda: { file: ${JSON.stringify(join(LAMBDAS, file))}, timeoutMs: ${timeoutMs} } }`;

for (const [file, says] of [
  ["kit-jitr.mjs", /JITR event for [0-9a-f]{64} \(PENDING_ACTIVATION\)\n.*thing [0-9a-f]{40}, policy ZTPolicy_[0-9a-f]{64}/],
  ["kit-jitr-v2.cjs", /JITR \(aws-sdk v2\) for [0-9a-f]{64} in ZTLambdaJITR/],
  ["kit_jitr.py", /JITR \(boto3\) for [0-9a-f]{64} in ZTLambdaJITR\n {2}environment: us-east-1 us-east-1 ZTLambdaJITR/],
] as const) {
  test(`the customer's ${file} activates the kit: the JITR spec passes, and its log is in the report`, async ({}, info) => {
    test.setTimeout(120_000);
    if (file.endsWith(".py")) test.skip(!hasTool("/usr/bin/python3"), "needs Debian's python3 with python3-boto3");
    const r = await nestedRun("specs/jitr.spec.ts", {}, info, { cloud: cloud(file) });
    expect(r.code, r.output.slice(-3000)).toBe(0);
    const log = attachmentBody(onlyResult(r), "JITR Lambda log");
    expect(log).toMatch(/ZTLambdaJITR returned\n {2}START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
    expect(log).toMatch(says);
  });
}

for (const [file, timeoutMs, message] of [
  ["raises.cjs", 10_000, /the JITR Lambda ZTLambdaJITR failed: ZTLambdaJITR \(.*raises\.cjs\) failed: Error: DeviceRegistry table not found \(log: looking up the device registry for [0-9a-f]{64}/],
  ["times_out.py", 1500, /the JITR Lambda ZTLambdaJITR failed: ZTLambdaJITR \(.*times_out\.py\) timed out after 1500 ms \(Task timed out\) \(log: waiting on the device registry for [0-9a-f]{64}/],
  ["forgets-to-activate.mjs", 10_000, /the JITR Lambda ZTLambdaJITR returned \{"thingName":"kit-[0-9a-f]{12}"\} without activating the certificate \(log: registered kit-[0-9a-f]{12}/],
] as const) {
  test(`the customer's ${file}: the JITR spec fails naming the Lambda and quoting its log`, async ({}, info) => {
    test.setTimeout(120_000);
    if (file.endsWith(".py")) test.skip(!hasTool("/usr/bin/python3"), "needs Debian's python3 with python3-boto3");
    const r = await nestedRun("specs/jitr.spec.ts", { ZT_JITR_TIMEOUT_MS: "8000" }, info, { cloud: cloud(file, timeoutMs) });
    expect(r.code, r.output.slice(-3000)).toBe(1);
    const result = onlyResult(r);
    expect(result.errors[0]!.message).toMatch(message);
    expect(attachmentBody(result, "JITR Lambda log")).toMatch(/START RequestId/);
  });
}
