// Worker entry for verdict-pool.ts. Worker threads do not inherit the TypeScript loader of the thread
// that starts them, so this plain-JS shim registers tsx and then loads the worker's TypeScript.
import { register } from "tsx/esm/api";

register();
await import("./verdict-worker-main.ts");
