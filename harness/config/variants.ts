/**
 * The rig matrix. A rig's variant is what a release gate must cover separately — the kit generation,
 * its firmware and its WINC firmware (different ClientHellos, different suites) — and the rigs of one
 * variant form a pool that the workers of that variant share. playwright.config.ts makes one project
 * per variant (`hil:zt-kit/19.4.4`), so every spec runs on every variant; a spec that needs something
 * only some rigs have declares it with a tag (`@needs-bus`), and the projects of variants without it do
 * not run it at all — a test that is not run is not a skip that hides a gap.
 */
import type { Lab, Rig } from "./lab-schema.ts";

/** What a spec may need that not every rig has, and the tag that declares the need. */
export const CAPABILITIES = {
  /** A recording of the ATECC's I2C bus (a logic analyzer, or the twin's own trace). */
  bus: "@needs-bus",
  /** Pressing the kit's buttons: the virtual kit's control port (a real rig has no actuator). */
  buttons: "@needs-buttons",
} as const;
export type Capability = keyof typeof CAPABILITIES;

export interface Variant {
  /** e.g. "zt-kit/19.4.4"; the project is "hil:" + name. */
  name: string;
  rigs: Rig[];
  /** What every rig of the pool can do (a worker may get any of them). */
  capabilities: Capability[];
}

/** The rig's variant: its lab file `variant`, or `<generation>/<WINC firmware>` (one published kit firmware). */
export function rigVariant(rig: Rig): string {
  return rig.variant ?? `${rig.kit.generation}/${rig.kit.winc}`;
}

export function rigCapabilities(rig: Rig): Capability[] {
  const caps: Capability[] = [];
  if (rig.bus) caps.push("bus");
  if (rig.kit.transport.kind === "virtual") caps.push("buttons");
  return caps;
}

/** The lab's variants in the order their first rig appears, each with its pool of rigs. */
export function labVariants(lab: Lab): Variant[] {
  const byName = new Map<string, Rig[]>();
  for (const rig of lab.rigs) byName.set(rigVariant(rig), [...(byName.get(rigVariant(rig)) ?? []), rig]);
  return [...byName].map(([name, rigs]) => ({
    name,
    rigs,
    capabilities: (Object.keys(CAPABILITIES) as Capability[]).filter((c) => rigs.every((r) => rigCapabilities(r).includes(c))),
  }));
}

/** The tags of the needs a variant cannot meet: its project does not run tests carrying them. */
export function unmetTags(variant: Variant): string[] {
  return (Object.keys(CAPABILITIES) as Capability[]).filter((c) => !variant.capabilities.includes(c)).map((c) => CAPABILITIES[c]);
}
