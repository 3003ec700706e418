/**
 * The zt-hil command. Each concern registers its own subcommands; this file only wires them and turns
 * every failure into one line on stderr and a non-zero exit (no stack traces for bad input).
 */
import { Command, CommanderError } from "commander";
import { oneLine, ZtError } from "../errors.ts";
import { registerAnalyzeCommand } from "./analyze-command.ts";
import { registerBusCommand } from "./bus-command.ts";
import { registerCertCommands } from "./cert-commands.ts";
import { registerEmulatorCommand } from "./emulator-command.ts";
import { registerPkiCommands } from "./pki-commands.ts";
import { registerRigCommand } from "./rig-command.ts";

const program = new Command("zt-hil")
  .description("hardware-in-the-loop harness for secure-element IoT kits provisioning into AWS IoT")
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text.split("\n")[0] + "\n") });

registerPkiCommands(program);
registerCertCommands(program);
registerAnalyzeCommand(program);
registerBusCommand(program);
registerEmulatorCommand(program);
registerRigCommand(program);
for (const cmd of program.commands) {
  cmd.exitOverride().configureOutput({ outputError: (text, write) => write(text.split("\n")[0] + "\n") });
  for (const sub of cmd.commands) sub.exitOverride().configureOutput({ outputError: (text, write) => write(text.split("\n")[0] + "\n") });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`zt-hil: ${oneLine(err)}\n`);
    // Exit now: a server command that failed to start must not linger on what it had opened.
    process.exit(err instanceof ZtError ? err.exitCode : 1);
  }
}
