/**
 * The rig matrix and the lab spread over hosts: variants and their pools from a lab file, the projects
 * Playwright makes of them (a test a variant cannot run is not listed there, not skipped), and two
 * lab hosts each running one shard of the matrix whose blob reports merge into one report.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { Lab } from "./lab-schema.ts";
import { labVariants, rigVariant, unmetTags } from "./variants.ts";
import { nestedRigName, nestedRun } from "../testing/nested-run.ts";
import { runStatus } from "../testing/tools.ts";

const rigYaml = (name: string, winc: string, more = "") => `  - name: ${name}
    class: virtual
    kit: { transport: { kind: virtual, timing: instant }, console: { kind: virtual }, winc: "${winc}" }
    power: { kind: virtual }
    capture: { kind: recorder }
${more}`;

test("variants: a rig's variant is its generation and WINC firmware unless the lab names it; a pool can do what all its rigs can", () => {
  const lab = Lab.parse({
    version: 1,
    cloud: { kind: "emulator" },
    rigs: [
      { name: "a", class: "virtual", kit: { transport: { kind: "virtual" }, console: { kind: "virtual" }, winc: "19.4.4" }, power: { kind: "virtual" }, capture: { kind: "recorder" }, bus: { kind: "virtual" } },
      { name: "b", class: "virtual", kit: { transport: { kind: "virtual" }, console: { kind: "virtual" }, winc: "19.4.4" }, power: { kind: "virtual" }, capture: { kind: "recorder" } },
      { name: "c", class: "zt-kit", variant: "bench/19.6", kit: { transport: { kind: "hid" }, console: { kind: "serial", path: "/dev/ttyACM0" }, winc: "19.6" }, power: { kind: "manual" }, capture: { kind: "tcpdump", interface: "eth1" } },
    ],
  });
  expect(lab.rigs.map(rigVariant)).toEqual(["zt-kit/19.4.4", "zt-kit/19.4.4", "bench/19.6"]);
  const variants = labVariants(lab);
  expect(variants.map((v) => [v.name, v.rigs.map((r) => r.name), v.capabilities])).toEqual([
    ["zt-kit/19.4.4", ["a", "b"], ["buttons"]],
    ["bench/19.6", ["c"], []],
  ]);
  expect(unmetTags(variants[0]!)).toEqual(["@needs-bus"]);
  expect(unmetTags(variants[1]!)).toEqual(["@needs-bus", "@needs-buttons"]);
  expect(() => Lab.parse({ ...lab, rigs: [{ ...lab.rigs[0], variant: "Bad Name" }] })).toThrow(/variant/);
});

test("projects: one per variant; a variant's project lists only the tests its rigs can run, and --project/--grep select in it", ({}, info) => {
  const name = nestedRigName(info);
  const lab = info.outputPath("lab.yaml");
  writeFileSync(lab, `version: 1\ncloud: { kind: emulator }\nrigs:\n${rigYaml(`${name}-a`, "19.5.2", "    bus: { kind: virtual }\n")}${rigYaml(`${name}-b`, "19.4.4")}`);
  const list = (...args: string[]) => {
    const r = runStatus("npx", ["playwright", "test", "--list", ...args], { env: { ...process.env, ZT_LAB: lab } });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split("\n").filter((l) => l.includes("›"));
  };
  const all = list("--project=hil:*");
  const projects = new Set(all.map((l) => /\[(hil:[^\]]+)\]/.exec(l)![1]));
  expect([...projects]).toEqual(["hil:zt-kit/19.5.2", "hil:zt-kit/19.4.4"]);
  const bus = all.filter((l) => l.includes("on the I2C bus"));
  expect(bus).toHaveLength(1);
  expect(bus[0]).toContain("[hil:zt-kit/19.5.2]");
  const perVariant = (p: string) => all.filter((l) => l.includes(`[${p}]`)).length;
  expect(perVariant("hil:zt-kit/19.5.2")).toBe(perVariant("hil:zt-kit/19.4.4") + 1);
  const one = list("--project=hil:zt-kit/19.4.4", "--grep", "JITR");
  expect(one).toHaveLength(1);
  expect(one[0]).toMatch(/\[hil:zt-kit\/19\.4\.4\] › specs\/jitr\.spec\.ts/);
});

interface MergedSpec {
  title: string;
  tests: { projectName: string; results: { status: string; annotations: { type: string; description?: string }[] }[] }[];
}
interface MergedSuite {
  specs: MergedSpec[];
  suites?: MergedSuite[];
}

test("two lab hosts run one shard each with their own lab files; merge-reports gives one report with every test of both variants once", async ({}, info) => {
  test.setTimeout(300_000);
  const name = nestedRigName(info);
  const specs = ["specs/tls-handshake.spec.ts", "specs/jitr.spec.ts"];
  // Each host has one kit of each variant (its own devices, so its own rig names and PKI).
  const hostLab = (host: string) => {
    const file = info.outputPath(`lab-${host}.yaml`);
    writeFileSync(file, `version: 1\ncloud: { kind: emulator }\npki: { dir: ${JSON.stringify(info.outputPath(`pki-${host}`))} }\nrigs:\n${rigYaml(`${name}-${host}-1`, "19.5.2")}${rigYaml(`${name}-${host}-2`, "19.4.4")}`);
    return file;
  };
  const runs = await Promise.all(
    (["a", "b"] as const).map((host, i) => nestedRun(specs, {}, info, { lab: hostLab(host), dir: `host-${host}`, extra: [`--shard=${i + 1}/2`] })),
  );
  for (const r of runs) expect(r.code, r.output.slice(-3000)).toBe(0);

  // What each host hands back: its blob report and its Allure results.
  const blobs = info.outputPath("all-blobs");
  const allure = info.outputPath("all-allure");
  mkdirSync(blobs, { recursive: true });
  mkdirSync(allure, { recursive: true });
  for (const r of runs) {
    const zips = readdirSync(join(r.reports, "blob")).filter((f) => f.endsWith(".zip"));
    expect(zips).toHaveLength(1);
    copyFileSync(join(r.reports, "blob", zips[0]!), join(blobs, zips[0]!));
    for (const f of readdirSync(join(r.reports, "allure-results")).filter((f) => f.endsWith("-result.json"))) copyFileSync(join(r.reports, "allure-results", f), join(allure, f));
  }
  // Named after the run's selection and the shard (report-<selection>-1.zip, …-2.zip): they never collide.
  expect(readdirSync(blobs).map((f) => f.replace(/^report-.*-(\d)\.zip$/, "$1")).sort()).toEqual(["1", "2"]);

  const merged = info.outputPath("merged.json");
  const html = info.outputPath("merged-html");
  const merge = runStatus("npx", ["playwright", "merge-reports", "--reporter=json,html", blobs], { env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_FILE: merged, PLAYWRIGHT_HTML_OUTPUT_DIR: html, PLAYWRIGHT_HTML_OPEN: "never" } });
  expect(merge.status, merge.stderr).toBe(0);
  const report = JSON.parse(readFileSync(merged, "utf8")) as { suites: MergedSuite[] };
  const flat = (s: MergedSuite): MergedSpec[] => [...s.specs, ...(s.suites ?? []).flatMap(flat)];
  const tests = report.suites.flatMap(flat).flatMap((sp) => sp.tests.map((t) => ({ spec: sp.title, ...t })));
  // Every spec × both variants, once each, all passed.
  expect(tests.map((t) => `${t.projectName} ${t.spec.slice(0, 20)}`).sort()).toEqual(
    ["hil:zt-kit/19.4.4", "hil:zt-kit/19.5.2"].flatMap((p) => [`${p} JITR: the first atte`, `${p} the kit negotiates 0`]).sort(),
  );
  for (const t of tests) expect(t.results.map((r) => r.status)).toEqual(["passed"]);
  // The tests ran on the rigs of both hosts, each on a rig of its own variant.
  const rigs = tests.map((t) => ({ project: t.projectName, rig: t.results[0]!.annotations.find((a) => a.type === "rig")?.description ?? "" }));
  expect(new Set(rigs.map((r) => r.rig.split("-").at(-2)))).toEqual(new Set(["a", "b"]));
  for (const r of rigs) expect(r.rig.endsWith(r.project.endsWith("19.5.2") ? "-1" : "-2")).toBe(true);
  expect(readFileSync(join(html, "index.html"), "utf8").length).toBeGreaterThan(1000);

  // Allure: the hosts' results folders side by side make one report, grouped by variant.
  const allureResults = readdirSync(allure).map((f) => JSON.parse(readFileSync(join(allure, f), "utf8")) as { labels: { name: string; value: string }[] });
  expect(allureResults).toHaveLength(4);
  expect(new Set(allureResults.map((r) => r.labels.find((l) => l.name === "parentSuite")?.value))).toEqual(new Set(["hil:zt-kit/19.5.2", "hil:zt-kit/19.4.4"]));
});
