// Is this Node new enough for zt-hil? Compares a version (default: this Node's) with package.json's
// engines.node (">=MAJOR.MINOR[.PATCH]"); exit 1 with one line saying what to install when it is not.
// Plain JavaScript: it must run before `npm ci` has installed anything (tsx included).
import { readFileSync } from "node:fs";

const { engines } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const wanted = /^>=(\d+)\.(\d+)(?:\.(\d+))?$/.exec(engines.node);
if (!wanted) {
  console.error(`check-node: package.json engines.node "${engines.node}" is not >=MAJOR.MINOR`);
  process.exit(2);
}
const have = (process.argv[2] ?? process.versions.node).replace(/^v/, "");
const parts = have.split(".").map(Number);
const need = wanted.slice(1).map((x) => Number(x ?? 0));
const cmp = parts.slice(0, 3).reduce((acc, p, i) => acc || Math.sign(p - need[i]), 0);
if (parts.length < 2 || parts.some(Number.isNaN)) {
  console.error(`check-node: "${have}" is not a Node version`);
  process.exit(2);
}
if (cmp < 0) {
  console.error(`setup: Node ${have} is older than zt-hil needs (${engines.node}); install Node ${need[0]}.${need[1]} or newer (e.g. from nodejs.org or NodeSource) and run scripts/setup again`);
  process.exit(1);
}
console.log(`setup: Node ${have} (${engines.node}) ok`);
