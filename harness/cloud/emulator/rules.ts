/**
 * The rules engine: topic rules whose SQL is `SELECT * FROM '<topic filter>'` (optionally a list of
 * top-level fields) with Lambda actions, invoking in-process handlers by function name. The emulator
 * supports no WHERE clause or functions; such a rule is refused when created rather than half-run.
 */
import { AwsError } from "./aws-error.ts";
import type { RuleRecord } from "./store.ts";
import { topicMatches } from "./topics.ts";

export interface ParsedSql {
  fields: "*" | string[];
  from: string;
}

export function parseRuleSql(sql: string): ParsedSql {
  const m = /^\s*SELECT\s+(\*|[\w]+(?:\s*,\s*[\w]+)*)\s+FROM\s+'([^']+)'\s*$/i.exec(sql);
  if (!m) throw new AwsError("SqlParseException", 400, `the emulator supports SELECT * | field, ... FROM '<topic filter>' only, got: ${sql}`);
  return { fields: m[1] === "*" ? "*" : m[1]!.split(",").map((f) => f.trim()), from: m[2]! };
}

/** A Lambda as the emulator runs it: the event in, the result out; `log` receives its log lines (CloudWatch's). */
export type LambdaHandler = (event: unknown, log?: (line: string) => void) => Promise<unknown>;

export function functionName(arn: string): string {
  return arn.split(":function:")[1]?.split(":")[0] ?? arn;
}

/** The Lambda invocations a message on `topic` triggers. */
export function lambdaInvocations(rules: RuleRecord[], topic: string, payload: Buffer): { rule: string; fn: string; event: unknown }[] {
  const out: { rule: string; fn: string; event: unknown }[] = [];
  for (const r of rules) {
    if (r.disabled) continue;
    const sql = parseRuleSql(r.sql);
    if (!topicMatches(sql.from, topic)) continue;
    let message: unknown;
    try {
      message = JSON.parse(payload.toString());
    } catch {
      continue; // rules select JSON fields; a non-JSON payload gives no event
    }
    const event = sql.fields === "*" || typeof message !== "object" || message === null ? message : Object.fromEntries(sql.fields.map((f) => [f, (message as Record<string, unknown>)[f]]));
    for (const a of r.actions as { lambda?: { functionArn?: string } }[]) {
      if (a.lambda?.functionArn) out.push({ rule: r.name, fn: functionName(a.lambda.functionArn), event });
    }
  }
  return out;
}
