/**
 * `zt-hil analyze FILE [--keylog FILE] [--json] [--expect kit] [--diagnose [--console LOG] [--events JSON]]`:
 * verdicts for every TLS connection in a capture. Exit 0 when all is well (or no expectation was asked),
 * 1 when an expectation fails (naming it and the connection) or `--diagnose` recognises a known field
 * failure, 2 when a file cannot be read.
 */
import type { Command } from "commander";
import { ZtError } from "../errors.ts";

export function registerAnalyzeCommand(program: Command): void {
  program
    .command("analyze")
    .description("TLS handshake verdicts for every connection in a pcap or pcapng file")
    .argument("<file>", "capture file (pcap or pcapng)")
    .option("--keylog <file>", "NSS key log (CLIENT_RANDOM lines) to decrypt Finished, alerts and MQTT")
    .option("--json", "print {\"connections\":[...]} as JSON")
    .option("--expect <profile>", "check every TLS connection against a profile: kit")
    .option("--diagnose", "name the known field failures (zt-hil faults) the capture shows, with evidence; exit 1 if any")
    .option("--console <file>", "with --diagnose: the kit's console log (one line per line; timestamps allowed)")
    .option("--events <file>", "with --diagnose: the cloud's events (the `cloud events (JSON)` attachment of a failed test)")
    .action(async (file: string, o: { keylog?: string; json?: boolean; expect?: string; diagnose?: boolean; console?: string; events?: string }) => {
      if (o.expect !== undefined && o.expect !== "kit") throw new ZtError("--expect", `unknown profile "${o.expect}" (expected kit)`);
      // Loaded on use: the CLI starts faster when only this command's modules load.
      const [{ analyzeFile }, { kitFailures }, { formatTimeline }, { readKeyLog }] = await Promise.all([
        import("../analysis/analyze-capture.ts"),
        import("../analysis/expectations.ts"),
        import("../analysis/timeline.ts"),
        import("../tls/keylog.ts"),
      ]);
      if ((o.console || o.events) && !o.diagnose) throw new ZtError(o.console ? "--console" : "--events", "goes with --diagnose");
      const report = await analyzeFile(file, o.keylog ? readKeyLog(o.keylog) : undefined);
      if (o.diagnose) {
        const { diagnoseFiles } = await import("./diagnose-inputs.ts");
        const findings = diagnoseFiles(report, o.console, o.events);
        if (o.json) console.log(JSON.stringify({ findings }));
        else if (!findings.length) console.log(`diagnose: no known failure in ${file} (${report.connections.length} TLS connection(s))`);
        else for (const f of findings) console.log(`${f.faults.join(" / ")}: ${f.summary}\n${f.evidence.map((e) => `    ${e}`).join("\n")}`);
        process.exitCode = findings.length ? 1 : 0;
        return;
      }
      console.log(o.json ? JSON.stringify(report) : formatTimeline(report));
      if (o.expect === "kit") {
        if (report.connections.length === 0) {
          console.error(`expect kit: no TLS connection in ${file}`);
          process.exitCode = 1;
          return;
        }
        let failed = 0;
        for (const c of report.connections) {
          for (const f of kitFailures(c)) {
            failed++;
            console.error(`expect kit: connection ${c.index} (${c.client} → ${c.server}): ${f}`);
          }
        }
        process.exitCode = failed ? 1 : 0;
      }
    });
}
