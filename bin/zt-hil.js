#!/usr/bin/env node
// The zt-hil command. The harness is TypeScript run through tsx, so there is no build step between
// editing a file and running it; this shim only registers the loader and hands over to the CLI.
import { register } from "tsx/esm/api";

// The AWS SDK warns on every start that its 2027 releases will need Node 22; zt-hil pins SDK
// versions that support Node 20, so the warning only obscures the harness's own output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
register();
await import("../harness/cli/main.ts");
