#!/usr/bin/env node
// The zt-hil command. The harness is TypeScript run through tsx, so there is no build step between
// editing a file and running it; this shim only registers the loader and hands over to the CLI.
import { register } from "tsx/esm/api";

register();
await import("../harness/cli/main.ts");
