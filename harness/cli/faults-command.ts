/**
 * `zt-hil faults [--json|--markdown]`: the catalog of field failures zt-hil injects and recognises
 * (harness/faults/catalog.ts), for ZT_FAULTS and for reading `analyze --diagnose` findings.
 */
import type { Command } from "commander";

export function registerFaultsCommand(program: Command): void {
  program
    .command("faults")
    .description("list the field failures ZT_FAULTS can inject and `analyze --diagnose` recognises")
    .option("--json", "print the catalog as JSON")
    .option("--markdown", "print the catalog as a Markdown table (the README's)")
    .action(async (o: { json?: boolean; markdown?: boolean }) => {
      const { FAULTS } = await import("../faults/catalog.ts");
      const rows = FAULTS.map((f) => ({
        name: f.value ? `${f.name}[=N]` : f.name,
        layer: f.layer,
        field: f.field,
        injectedBy: f.injectedBy,
        ...(f.value ? { value: `${f.value.what}${f.value.default !== undefined ? ` (default ${f.value.default})` : ""}` } : {}),
        console: f.console,
        red: `${f.red.spec}: ${f.red.symptom}`,
        diagnose: f.diagnose,
      }));
      if (o.json) return console.log(JSON.stringify(rows, null, 2));
      if (o.markdown) {
        const cell = (s: string) => s.replace(/\|/g, "\\|");
        console.log("| fault | layer | what the field sees | injected by | console (v2.2.5) | red spec: symptom | `--diagnose` recognises |");
        console.log("|---|---|---|---|---|---|---|");
        for (const r of rows) console.log(`| \`${r.name}\` | ${r.layer} | ${cell(r.field)}${r.value ? ` (N: ${cell(r.value)})` : ""} | ${r.injectedBy} | ${r.console.map((c) => `\`${cell(c.trim())}\``).join("<br>") || "—"} | ${cell(r.red)} | ${cell(r.diagnose)} |`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) console.log(`${r.name.padEnd(width)}  ${r.layer.padEnd(6)}  ${r.field}`);
    });
}
