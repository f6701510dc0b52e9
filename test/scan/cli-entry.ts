/**
 * A `quarry` program with only the scan command, run as a child process by the CLI tests (the lead wires
 * `registerScanCommand` into the real program; this keeps the tests independent of that wiring). Error
 * handling follows src/cli/main.ts: commander errors are usage errors, CliError/QuarryError are printed.
 */
import { Command, CommanderError } from "commander";
import { registerScanCommand } from "../../src/cli/commands/scan.js";
import { ExitCode, printError, raiseExitCode } from "../../src/cli/common.js";

async function main(): Promise<void> {
  const program = new Command("quarry")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerScanCommand(program);
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) raiseExitCode(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
    else {
      try {
        raiseExitCode(printError(error));
      } catch (unexpected) {
        process.stderr.write(`internal error: ${String((unexpected as Error).stack ?? unexpected)}\n`);
        process.exitCode = ExitCode.internal;
      }
    }
  }
}

// `node --test dist/test/` also loads this file (it sits under test/): without the `scan` argument the
// tests pass, it does nothing.
if (process.argv[2] === "scan") await main();
