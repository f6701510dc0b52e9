/**
 * The `quarry` program: subcommands, shared conventions and the top-level handler. Results go to
 * stdout, diagnostics and progress to stderr; exit codes follow one table (README, src/cli/common.ts).
 */
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { registerHuntCommand } from "./commands/hunt.js";
import { registerKqlCommand } from "./commands/kql.js";
import { registerQueryCommand } from "./commands/query.js";
import { registerRulesCommand } from "./commands/rules.js";
import { registerScanCommand } from "./commands/scan.js";
import { registerSimulateCommand } from "./commands/simulate.js";
import { registerTriageCommand } from "./commands/triage.js";
import { CliError, ExitCode, printError, raiseExitCode } from "./common.js";

const require = createRequire(import.meta.url);
const { version } = require("../../../package.json") as { version: string };

export function buildProgram(): Command {
  const program = new Command("quarry")
    .description(
      "Run Elastic-dialect detections (EQL, KQL, detection rules, IOCs, YARA) on exported logs and collected files.",
    )
    .version(version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerQueryCommand(program);
  registerHuntCommand(program);
  registerRulesCommand(program);
  registerKqlCommand(program);
  registerScanCommand(program);
  registerTriageCommand(program);
  registerSimulateCommand(program);
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; every other commander error is a usage error.
      if (
        error.exitCode === 0 ||
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version"
      ) {
        raiseExitCode(ExitCode.ok);
      } else raiseExitCode(ExitCode.usage);
      return;
    }
    try {
      raiseExitCode(printError(error));
    } catch (unexpected) {
      process.stderr.write(
        `quarry: internal error (this is a bug; please report it with the command line that caused it):\n${
          unexpected instanceof Error ? (unexpected.stack ?? unexpected.message) : String(unexpected)
        }\n`,
      );
      process.exitCode = ExitCode.internal;
    }
  }
}

export { CliError };
