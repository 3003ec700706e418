/**
 * `zt-hil bus decode FILE [--json] [--scl NAME] [--sda NAME]`: the ATECC508A transactions of an I2C bus
 * trace (a VCD, or a sigrok session file from a logic analyzer), decoded by sigrok-cli's i2c decoder,
 * with per-command execution-time statistics. Exit 0 when every transaction is well formed, 1 when the
 * bus shows a malformed one (each named with its sample number), 2 when the file cannot be decoded.
 */
import type { Command } from "commander";

export function registerBusCommand(program: Command): void {
  const bus = program.command("bus").description("the ATECC's I2C bus");
  bus
    .command("decode")
    .description("ATECC transactions and per-command execution times from a VCD or sigrok session file")
    .argument("<file>", "bus trace (.vcd or sigrok .sr)")
    .option("--json", 'print {"transactions":[...],"stats":{...}} as JSON')
    .option("--scl <name>", "the SCL channel's name in the trace", "scl")
    .option("--sda <name>", "the SDA channel's name in the trace", "sda")
    .action(async (file: string, o: { json?: boolean; scl: string; sda: string }) => {
      const [{ decodeI2c }, { ateccTransactions, formatBusReport }] = await Promise.all([import("../bus/i2c-decode.ts"), import("../bus/atecc-bus.ts")]);
      const report = ateccTransactions(await decodeI2c(file, { scl: o.scl, sda: o.sda }));
      console.log(o.json ? JSON.stringify({ transactions: report.transactions, stats: report.stats, problems: report.problems }) : formatBusReport(report));
      process.exitCode = report.problems.length ? 1 : 0;
    });
}
