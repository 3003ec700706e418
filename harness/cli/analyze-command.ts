/**
 * `zt-hil analyze FILE [--keylog FILE] [--json] [--expect kit]`: verdicts for every TLS connection in a
 * capture. Exit 0 when all is well (or no expectation was asked), 1 when an expectation fails (naming
 * it and the connection), 2 when the file cannot be read.
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
    .action(async (file: string, o: { keylog?: string; json?: boolean; expect?: string }) => {
      if (o.expect !== undefined && o.expect !== "kit") throw new ZtError("--expect", `unknown profile "${o.expect}" (expected kit)`);
      // Loaded on use: the CLI starts faster when only this command's modules load.
      const [{ analyzeFile }, { kitFailures }, { formatTimeline }, { readKeyLog }] = await Promise.all([
        import("../analysis/analyze-capture.ts"),
        import("../analysis/expectations.ts"),
        import("../analysis/timeline.ts"),
        import("../tls/keylog.ts"),
      ]);
      const report = await analyzeFile(file, o.keylog ? readKeyLog(o.keylog) : undefined);
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
