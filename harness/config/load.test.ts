import { writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { ConfigError } from "../errors.ts";
import { budgetsFor, loadBudgets, loadLab } from "./load.ts";

function write(name: string, text: string): string {
  const file = test.info().outputPath(name);
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

test("the default lab has two virtual rigs on the in-process emulator", () => {
  const lab = loadLab("rigs/lab.yaml");
  expect(lab.cloud).toEqual({ kind: "emulator", tlsStack: "aws", endpoint: "ats.iot.zt-hil.test" });
  expect(lab.rigs.map((r) => [r.name, r.kit.transport.kind, r.power.kind, r.capture.kind])).toEqual([
    ["virtual-1", "virtual", "virtual", "recorder"],
    ["virtual-2", "virtual", "virtual", "recorder"],
  ]);
  expect(lab.rigs[0]!.kit.transport).toEqual({ kind: "virtual", timing: "datasheet" });
  expect(lab.rigs[0]!.wifi).toEqual({ ssid: "zt-lab", psk: "zt-lab-psk" });
});

test("the Microchip kit lab file describes a real rig", () => {
  const lab = loadLab("rigs/lab.microchip-kit.yaml");
  const rig = lab.rigs[0]!;
  expect(rig.kit.transport).toEqual({ kind: "hid", vid: 0x04d8, pid: 0x0f32 });
  expect(rig.power).toEqual({ kind: "uhubctl", hub: "1-1", port: 2 });
  expect(lab.cloud).toEqual({ kind: "aws", region: "us-east-1" });
});

test("budgets load per rig class and an unknown class names the file and class", () => {
  const budgets = loadBudgets("rigs/budgets.yaml");
  expect(budgetsFor(budgets, "virtual").kitMethods.genCsr).toEqual({ p50: 1450, p95: 1650, max: 2100 });
  const err = errorOf(() => budgetsFor(budgets, "nope"));
  expect(err.message).toContain('no budgets for rig class "nope"');
  expect(err.message).toContain("rigs/budgets.yaml");
});

test("a wrong power kind names the file, the path inside it and what was expected", () => {
  const file = write(
    "lab.yaml",
    `version: 1
cloud: { kind: emulator }
rigs:
  - name: r1
    class: virtual
    kit: { transport: { kind: virtual }, console: { kind: virtual } }
    power: { kind: relay }
    capture: { kind: recorder }
`,
  );
  const err = errorOf(() => loadLab(file));
  expect(err.message).toContain(file);
  expect(err.message).toMatch(/rigs\[0\]\.power\.kind: .*(virtual|uhubctl)/);
});

test("broken YAML reports line and column", () => {
  const file = write("bad.yaml", "version: 1\ncloud: { kind: emulator\nrigs: []\n");
  const err = errorOf(() => loadLab(file));
  expect(err.message).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: not valid YAML`));
});

test("duplicate rig names, bad hex ids and a missing file are rejected", () => {
  const rig = (name: string, extra = "") => `  - name: ${name}
    class: virtual
    kit: { transport: { kind: hid, vid: "xyz"${extra} }, console: { kind: serial } }
    power: { kind: manual }
    capture: { kind: recorder }
`;
  const file = write("dup.yaml", `version: 1\ncloud: { kind: emulator }\nrigs:\n${rig("a")}${rig("a")}`);
  const msg = errorOf(() => loadLab(file)).message;
  expect(msg).toContain("rigs[0].kit.transport.vid");
  expect(msg).toContain("rigs[0].kit.console: a serial console needs path or usbSerial");
  expect(msg).toContain('rigs[1].name: duplicate rig name "a"');
  expect(errorOf(() => loadLab(test.info().outputPath("missing.yaml"))).message).toContain("cannot read: ENOENT");
});

test("a budget with no statistic is rejected", () => {
  const file = write("budgets.yaml", "version: 1\nclasses:\n  virtual:\n    atecc:\n      sign: {}\n");
  expect(errorOf(() => loadBudgets(file)).message).toContain("classes.virtual.atecc.sign: at least one of p50, p95, max");
});
