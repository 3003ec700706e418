/**
 * Loading the lab and budget files. A bad file is a ConfigError naming the file, the path inside it
 * (rigs[1].power.kind) and what was expected, so the nightly log says exactly what to fix.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { Budgets, type BudgetClass } from "./budget-schema.ts";
import { Lab } from "./lab-schema.ts";

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || "(top level)";
}

/** Parse a YAML file and validate it against a schema; every failure is a ConfigError. */
export function loadYaml<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lines.linePos(yamlError.pos[0]);
    throw new ConfigError(pos ? `${file}:${pos.line}:${pos.col}` : file, `not valid YAML: ${yamlError.message.split("\n")[0]}`);
  }
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    throw new ConfigError(file, issues.join("; "));
  }
  return parsed.data;
}

/** The lab file: ZT_LAB if set, otherwise rigs/lab.yaml under the project root. */
export function labFile(root = process.cwd()): string {
  return resolve(root, process.env.ZT_LAB ?? "rigs/lab.yaml");
}

export function loadLab(file = labFile()): Lab {
  const lab = loadYaml(file, Lab);
  // A customer's Lambda file is named relative to the lab file, and must be there.
  if (lab.cloud.kind === "emulator" && lab.cloud.jitrLambda) {
    const f = resolve(dirname(file), lab.cloud.jitrLambda.file);
    if (!existsSync(f)) throw new ConfigError(file, `cloud.jitrLambda.file: ${f} does not exist`);
    lab.cloud.jitrLambda.file = f;
  }
  return lab;
}

export function loadBudgets(file = resolve(process.cwd(), "rigs/budgets.yaml")): Budgets {
  return loadYaml(file, Budgets);
}

/** The budgets for one rig class; an unknown class is a ConfigError naming the file and the class. */
export function budgetsFor(budgets: Budgets, rigClass: string, file = "rigs/budgets.yaml"): BudgetClass {
  const found = budgets.classes[rigClass];
  if (!found) {
    throw new ConfigError(file, `classes.${rigClass}: no budgets for rig class "${rigClass}" (have: ${Object.keys(budgets.classes).join(", ")})`);
  }
  return found;
}
