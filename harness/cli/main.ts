/**
 * The zt-hil command. Each concern registers its own subcommands; this file only wires them and turns
 * every failure into one line on stderr and a non-zero exit (no stack traces for bad input). Exit codes:
 * 0 ok, 1 a verdict failed, 2 usage or unreadable input, 3 infrastructure (a port, a device, a tool).
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { oneLine, ZtError } from "../errors.ts";
import { registerAnalyzeCommand } from "./analyze-command.ts";
import { registerBusCommand } from "./bus-command.ts";
import { registerCertCommands } from "./cert-commands.ts";
import { registerEmulatorCommand } from "./emulator-command.ts";
import { registerFaultsCommand } from "./faults-command.ts";
import { registerPkiCommands } from "./pki-commands.ts";
import { registerRigCommand } from "./rig-command.ts";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** Commander's error as one line, its "(Did you mean …?)" hint included. */
const oneLineOutput = { outputError: (text: string, write: (s: string) => void) => write(text.trim().split(/\s*\n\s*/).join(" ") + "\n") };

const program = new Command("zt-hil")
  .description("hardware-in-the-loop harness for secure-element IoT kits provisioning into AWS IoT")
  .version(version, "-V, --version", "print zt-hil's version")
  .exitOverride()
  .configureOutput(oneLineOutput);

registerPkiCommands(program);
registerCertCommands(program);
registerAnalyzeCommand(program);
registerBusCommand(program);
registerEmulatorCommand(program);
registerFaultsCommand(program);
registerRigCommand(program);
for (const cmd of program.commands) {
  cmd.exitOverride().configureOutput(oneLineOutput);
  for (const sub of cmd.commands) sub.exitOverride().configureOutput(oneLineOutput);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and --version exit 0; a usage error is 2 (1 is a failed verdict, 3 an unusable lab).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`zt-hil: ${oneLine(err)}\n`);
    // Exit now: a server command that failed to start must not linger on what it had opened.
    process.exit(err instanceof ZtError ? err.exitCode : 1);
  }
}
