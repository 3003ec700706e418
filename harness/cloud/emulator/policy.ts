/**
 * AWS IoT policy evaluation for iot:Connect, iot:Publish, iot:Subscribe and iot:Receive: statements
 * with Allow/Deny, Action and Resource lists with `*`/`?` wildcards, and the policy variables the kit's
 * policies use (${iot:ClientId}, ${iot:Connection.Thing.ThingName}, ${iot:Connection.Thing.IsAttached}).
 * Default deny; an explicit Deny wins. Statements with a Condition are not supported by the emulator
 * and never match (so they grant nothing), which errs on the side of refusing.
 */
export interface PolicyContext {
  clientId: string;
  thingName?: string;
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, caseInsensitive ? "i" : "");
  return re.test(value);
}

function substitute(resource: string, ctx: PolicyContext): string {
  return resource
    .replace(/\$\{iot:ClientId\}/g, ctx.clientId)
    .replace(/\$\{iot:Connection\.Thing\.ThingName\}/g, ctx.thingName ?? "\u0000no-thing")
    .replace(/\$\{iot:Connection\.Thing\.IsAttached\}/g, ctx.thingName ? "true" : "false");
}

function statements(doc: string): Statement[] {
  try {
    const parsed = JSON.parse(doc) as { Statement?: Statement | Statement[] };
    return Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
  } catch {
    return [];
  }
}

/** Is `action` on `resource` allowed by the policy documents? */
export function isAllowed(documents: string[], action: string, resource: string, ctx: PolicyContext): boolean {
  let allowed = false;
  for (const doc of documents) {
    for (const s of statements(doc)) {
      if (s.Condition !== undefined) continue;
      const actionMatch = list(s.Action).some((a) => glob(a, action, true));
      const resourceMatch = list(s.Resource).some((r) => glob(substitute(r, ctx), resource));
      if (!actionMatch || !resourceMatch) continue;
      if (s.Effect === "Deny") return false;
      if (s.Effect === "Allow") allowed = true;
    }
  }
  return allowed;
}
