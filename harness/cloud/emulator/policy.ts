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

const escapeRe = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  return resourceRegex(pattern, null, caseInsensitive).test(value);
}

/**
 * A policy pattern as a regular expression: `*` and `?` are wildcards; a policy variable's value is
 * taken literally (a client id `*` matches only `*`, and `$&` is just text); `$(*)`, `$(?)` and `$($)`
 * are a literal star, question mark and dollar, as AWS IoT documents them.
 */
function resourceRegex(pattern: string, ctx: PolicyContext | null, caseInsensitive = false): RegExp {
  const vars: Record<string, string | undefined> = ctx
    ? { "iot:ClientId": ctx.clientId, "iot:Connection.Thing.ThingName": ctx.thingName, "iot:Connection.Thing.IsAttached": ctx.thingName ? "true" : "false" }
    : {};
  let re = "";
  for (const m of pattern.matchAll(/\$\{([^}]*)\}|\$\(([*?$])\)|([*?])|([^$*?]+|\$)/g)) {
    if (m[1] !== undefined) {
      const v = ctx && Object.hasOwn(vars, m[1]) ? vars[m[1]] : undefined;
      // An unknown variable, or a thing name without an attached thing, matches nothing.
      re += v === undefined ? (ctx ? "(?!)" : escapeRe(m[0])) : escapeRe(v);
    } else if (m[2] !== undefined) re += escapeRe(m[2]);
    else if (m[3] !== undefined) re += m[3] === "*" ? "[\\s\\S]*" : "[\\s\\S]";
    else re += escapeRe(m[4]!);
  }
  return new RegExp(`^${re}$`, caseInsensitive ? "i" : "");
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
      const resourceMatch = list(s.Resource).some((r) => resourceRegex(r, ctx).test(resource));
      if (!actionMatch || !resourceMatch) continue;
      if (s.Effect === "Deny") return false;
      if (s.Effect === "Allow") allowed = true;
    }
  }
  return allowed;
}
