/**
 * A fresh machine's two commands: scripts/setup checks Node against package.json's engines and
 * installs what the suite and `npm run report` need (Java among them); and the README promises only
 * what exists — every `npm run` script, every file and folder it names, every zt-hil subcommand.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { hasTool, runStatus } from "../harness/testing/tools.ts";

test("setup refuses a Node older than package.json's engines, naming both versions", () => {
  const engines = (JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } }).engines.node;
  expect(engines).toBe(">=20.19");
  const old = runStatus(process.execPath, ["scripts/check-node.mjs", "20.18.3"]);
  expect(old.status).toBe(1);
  expect(old.stderr).toMatch(/Node 20\.18\.3 is older than zt-hil needs \(>=20\.19\); install Node 20\.19 or newer/);
  for (const ok of ["20.19.0", "v22.1.0", process.versions.node]) expect(runStatus(process.execPath, ["scripts/check-node.mjs", ok]).status).toBe(0);
  expect(runStatus(process.execPath, ["scripts/check-node.mjs", "twenty"]).status).toBe(2);
});

test("setup installs a Java runtime for Allure when the machine has none", ({}, info) => {
  // A PATH with every tool setup looks for except java: setup --check must want default-jre-headless.
  const bin = info.outputPath("bin");
  mkdirSync(bin, { recursive: true });
  const tools = ["bash", "sh", "dirname", "dpkg", "dpkg-query", "node", "sort", "tr", "sed", "id", "openssl", "socat", "tcpdump", "tshark", "dumpcap", "mosquitto_sub", "mosquitto", "ip", "sigrok-cli", "python3"];
  for (const t of tools.filter(hasTool)) {
    const found = runStatus("sh", ["-c", `command -v ${t}`]).stdout.trim();
    if (!existsSync(join(bin, t))) symlinkSync(found, join(bin, t));
  }
  const r = runStatus(join(bin, "bash"), ["scripts/setup", "--check"], { env: { PATH: bin } });
  expect(r.stderr).toBe("");
  expect(r.stdout).toMatch(/^setup: Node [\d.]+ \(>=20\.19\) ok$/m);
  expect(r.stdout).toMatch(/^setup: would install Debian packages: .*\bdefault-jre-headless\b/m);
});

test("the README promises only what exists: npm scripts, paths, zt-hil commands", () => {
  const readme = readFileSync("README.md", "utf8");
  const scripts = Object.keys((JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts);
  const npmRuns = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!);
  expect(npmRuns.length).toBeGreaterThan(3);
  for (const s of npmRuns) expect(scripts, `README runs "npm run ${s}"`).toContain(s);
  const paths = [...readme.matchAll(/`((?:harness|rigs|specs|scripts|reports|docker|bin|\.ci)\/[A-Za-z0-9_./-]*)`/g)].map((m) => m[1]!.replace(/\/$/, ""));
  expect(paths.length).toBeGreaterThan(10);
  for (const p of paths.filter((x) => !/^reports\/(html|results\.json|junit\.xml|allure-(results|report|history)|blob|history|trends)/.test(x))) expect(existsSync(p), `README names ${p}`).toBe(true);
  const commands = [...readme.matchAll(/npx zt-hil ([a-z]+(?: [a-z-]+)?)/g)].map((m) => m[1]!.split(" "));
  expect(commands.length).toBeGreaterThan(5);
  for (const c of commands) {
    const r = runStatus(process.execPath, ["bin/zt-hil.js", ...c, "--help"]);
    expect(r.status, `README's "npx zt-hil ${c.join(" ")}": ${r.stderr}`).toBe(0);
  }
});

test("the README's first spec type-checks against the harness as it is", ({}, info) => {
  test.setTimeout(120_000);
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(readme.indexOf("## Write your first spec"), readme.indexOf("## A real Microchip kit"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code, "a ts block in the guide").toBeTruthy();
  const dir = info.outputPath("guide");
  mkdirSync(dir, { recursive: true });
  const root = process.cwd();
  writeFileSync(join(dir, "first.spec.ts"), code!.replaceAll('from "../harness/', `from "${root}/harness/`));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: `${root}/tsconfig.json`, compilerOptions: { noEmit: true, typeRoots: [`${root}/node_modules/@types`] }, include: ["first.spec.ts", `${root}/harness/capture/pcap-parser.d.ts`] }));
  const r = runStatus(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, "-p", join(dir, "tsconfig.json")]);
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});
