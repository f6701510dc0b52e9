#!/usr/bin/env node
// Anything that escapes the command handlers is a bug: report it and exit 70, never 1.
const internal = (error) => {
  process.stderr.write(
    `quarry: internal error (this is a bug; please report it with the command line that caused it):\n${error?.stack ?? error}\n`,
  );
  process.exit(70);
};
process.on("uncaughtException", internal);
process.on("unhandledRejection", internal);
import("../dist/src/cli/main.js").then((m) => m.main(process.argv), internal);
