/**
 * ZT_FAULTS: catalog entries (harness/faults/catalog.ts) switched on for a run of the lab,
 * comma-separated, `name` or `name=VALUE` (an entry with a value has a default: `link-latency` alone
 * means its catalog default). Unknown names and bad values are a ConfigError naming the entry.
 */
import { ConfigError } from "../errors.ts";
import { FAULTS, faultEntry, NO_FAULTS, type FaultSettings } from "./catalog.ts";

export interface LabFaults extends FaultSettings {
  /** The entries as given, for reports. */
  names: string[];
}

export function parseLabFaults(text: string | undefined): LabFaults {
  const out: LabFaults = { ...NO_FAULTS(), names: [] };
  for (const raw of (text ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = raw.split("=", 2) as [string, string | undefined];
    const entry = faultEntry(name);
    if (!entry) throw new ConfigError("ZT_FAULTS", `unknown fault "${name}" (zt-hil faults lists them: ${FAULTS.map((f) => f.name).join(", ")})`);
    let n = 0;
    if (entry.value) {
      n = value === undefined ? (entry.value.default ?? NaN) : Number(value);
      if (!Number.isFinite(n) || n <= 0 || (entry.value.integer && !Number.isInteger(n))) throw new ConfigError("ZT_FAULTS", `${name} needs a positive ${entry.value.integer ? "whole " : ""}number (${entry.value.what}), got "${raw}"`);
    } else if (value !== undefined) throw new ConfigError("ZT_FAULTS", `${name} takes no value, got "${raw}"`);
    entry.apply(out, n);
    out.names.push(raw);
  }
  return out;
}
