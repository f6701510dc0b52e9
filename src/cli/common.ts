/**
 * What every command shares: the exit-code table, flags that mean the same thing everywhere, output
 * selection, diagnostics on stderr, and progress on a TTY.
 */
import { createWriteStream } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type Diagnostic, isQuarryError, renderDiagnostic } from "../diagnostics/index.js";
import {
  formatIssue,
  type InputIssue,
  parseTimestamp,
  type ReadSummary,
  type Timestamp,
} from "../events/index.js";

/** One exit-code table for every command (README). When several apply, the highest wins. */
export const ExitCode = {
  ok: 0,
  /** Findings, only when the user asked to fail on them (`hunt --fail-on`, `scan --fail-on-match`). */
  findings: 1,
  /** Bad flag, bad query, bad rule file given explicitly. */
  usage: 2,
  /** No input readable at all; or, under --strict, any skipped line, unreadable file or corrupt archive. */
  input: 3,
  /** A bug: caught by the top-level handler. */
  internal: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Raise the process exit code, never lower it (the highest applicable code wins). */
export function raiseExitCode(code: number): void {
  if (code > (process.exitCode === undefined ? 0 : Number(process.exitCode))) process.exitCode = code;
}

/** A user error that ends the command with a message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.usage,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const useColor = (): boolean =>
  !("NO_COLOR" in process.env && process.env.NO_COLOR !== "") && process.stderr.isTTY === true;

export function printDiagnostic(
  diagnostic: Diagnostic,
  source?: string,
  origin?: string,
  firstLine?: number,
): void {
  process.stderr.write(`${renderDiagnostic(diagnostic, source, { origin, firstLine, color: useColor() })}\n`);
}

/** Print a thrown error the right way: a QuarryError as a rendered diagnostic, a CliError as a message. */
export function printError(error: unknown): ExitCodeValue {
  if (isQuarryError(error)) {
    printDiagnostic(error.diagnostic, error.sourceText, error.origin);
    return ExitCode.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`quarry: ${error.message}\n`);
    return error.exitCode;
  }
  throw error;
}

export function parseIntegerOption(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** `64MiB`, `2g`, `1048576` -> bytes. */
export function parseSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError(`not a size: ${value} (e.g. 512k, 64MiB, 2G)`);
  return Math.floor(Number(m[1]) * unit);
}

/** `--from`/`--to`: ISO-8601 or epoch milliseconds, or relative `now-7d` style (relative to now). */
export function parseTimeOption(value: string): Timestamp {
  const rel = /^now(?:([+-])(\d+)(ms|s|m|h|d|w))?$/.exec(value.trim());
  if (rel) {
    const units: Record<string, number> = {
      ms: 1,
      s: 1000,
      m: 60_000,
      h: 3_600_000,
      d: 86_400_000,
      w: 604_800_000,
    };
    const delta = rel[1] ? Number(rel[2]) * units[rel[3]] * (rel[1] === "-" ? -1 : 1) : 0;
    return { ms: Date.now() + delta, nanos: 0 };
  }
  const ts = parseTimestamp(value);
  if (!ts) throw new InvalidArgumentError(`not a time: ${value} (ISO-8601, epoch milliseconds or now-7d)`);
  return ts;
}

export interface EventInputFlags {
  from?: Timestamp;
  to?: Timestamp;
  strict?: boolean;
  threads?: number;
  /** False with `--no-prefilter`. */
  prefilter?: boolean;
  maxLineBytes?: number;
  include?: string[];
  exclude?: string[];
  timestampField: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Flags of every command that reads events. */
export function addEventInputOptions(cmd: Command): Command {
  return cmd
    .option(
      "--from <time>",
      "only events at or after this time (ISO-8601, epoch ms, now-7d)",
      parseTimeOption,
    )
    .option("--to <time>", "only events at or before this time", parseTimeOption)
    .option("--timestamp-field <field>", "field holding the event time", "@timestamp")
    .option(
      "--include <glob>",
      "files to read under directories (repeatable; default *.json, *.ndjson, *.jsonl, *.gz)",
      collect,
    )
    .option("--exclude <glob>", "files to skip under directories (repeatable)", collect)
    .option("--max-line-bytes <size>", "skip lines longer than this (default 64MiB)", parseSize)
    .option("--strict", "exit 3 when any line is skipped or any file is unreadable")
    .option("--threads <n>", "worker threads (default: number of cores)", parseIntegerOption("--threads", 1))
    .option(
      "--no-prefilter",
      "parse every line, even those the query's literals rule out (always so under --strict)",
    );
}

/** `--format` and `--output`. `table` is the default on a TTY, `ndjson` otherwise. */
export function addOutputOptions(cmd: Command, formats: readonly string[]): Command {
  return cmd
    .addOption(
      new Option(
        "--format <format>",
        "output format (default: table on a terminal, ndjson otherwise)",
      ).choices([...formats]),
    )
    .option("-o, --output <file>", "write results to this file instead of stdout");
}

export function resolveFormat<F extends string>(
  requested: F | undefined,
  formats: readonly F[],
  toFile: boolean,
): F {
  if (requested) return requested;
  const tty = !toFile && process.stdout.isTTY === true;
  const table = formats.find((f) => f === "table");
  const ndjson = formats.find((f) => f === "ndjson") ?? formats.find((f) => f === "json") ?? formats[0];
  return tty && table ? table : ndjson;
}

export interface Output {
  write(text: string): Promise<void>;
  close(): Promise<void>;
  readonly isTTY: boolean;
}

/** stdout or a file, with backpressure; EPIPE (e.g. `| head`) ends output quietly. */
export function openOutput(file: string | undefined): Output {
  const stream = file ? createWriteStream(file) : process.stdout;
  let broken = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") broken = true;
    else throw error;
  });
  return {
    isTTY: !file && process.stdout.isTTY === true,
    write(text) {
      if (broken) return Promise.resolve();
      return new Promise((resolve) => {
        if (stream.write(text)) return resolve();
        // Resolve on drain, and also when the reader goes away (EPIPE) so a `| head` never hangs.
        const done = () => {
          stream.off("drain", done);
          stream.off("error", done);
          stream.off("close", done);
          resolve();
        };
        stream.once("drain", done);
        stream.once("error", done);
        stream.once("close", done);
      });
    },
    close() {
      if (!file) return Promise.resolve();
      return new Promise(
        (resolve, reject) => (stream as NodeJS.WritableStream).end(() => resolve()) ?? reject,
      );
    },
  };
}

/** Prints input issues to stderr as `file:line: reason`, the first few of each kind in full. */
export class IssueReporter {
  private readonly perKind = new Map<string, number>();
  constructor(private readonly limitPerKind = 20) {}
  readonly onIssue = (issue: InputIssue): void => {
    const n = (this.perKind.get(issue.kind) ?? 0) + 1;
    this.perKind.set(issue.kind, n);
    if (n <= this.limitPerKind) process.stderr.write(`quarry: ${formatIssue(issue)}\n`);
    else if (n === this.limitPerKind + 1)
      process.stderr.write(`quarry: (further ${issue.kind} issues are counted, not shown)\n`);
  };
}

/** The end-of-run summary on stderr and the input part of the exit code. */
export function finishInput(summary: ReadSummary, strict: boolean | undefined): void {
  const parts = [`${summary.events} events from ${summary.files} file${summary.files === 1 ? "" : "s"}`];
  if (summary.prefiltered)
    parts.push(`${summary.prefiltered} more lines ruled out unparsed by literal prefilters`);
  if (summary.skippedLines) parts.push(`${summary.skippedLines} lines skipped`);
  if (summary.unreadableFiles) parts.push(`${summary.unreadableFiles} unreadable`);
  if (summary.truncatedFiles) parts.push(`${summary.truncatedFiles} truncated`);
  if (summary.timestampErrors) parts.push(`${summary.timestampErrors} without a readable timestamp`);
  if (summary.outOfRange) parts.push(`${summary.outOfRange} outside --from/--to`);
  process.stderr.write(`quarry: ${parts.join(", ")}\n`);
  const anySkipped = summary.skippedLines > 0 || summary.unreadableFiles > 0 || summary.truncatedFiles > 0;
  if (summary.files === 0 || (summary.events === 0 && summary.files === summary.unreadableFiles))
    raiseExitCode(ExitCode.input);
  else if (strict && anySkipped) raiseExitCode(ExitCode.input);
}

/** A progress line on stderr for long inputs when stderr is a TTY (bytes read, events/s, ETA). */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private shown = false;
  bytes = 0;
  events = 0;
  constructor(private readonly totalBytes?: number) {}
  tick(): void {
    if (!process.stderr.isTTY) return;
    const now = Date.now();
    if (now - this.started < 2000 || now - this.lastDraw < 250) return;
    this.lastDraw = now;
    this.shown = true;
    const secs = (now - this.started) / 1000;
    const mb = this.bytes / 1e6;
    let eta = "";
    if (this.totalBytes && this.bytes > 0) {
      const left = ((this.totalBytes - this.bytes) / this.bytes) * secs;
      eta = `, ETA ${Math.max(0, Math.round(left))}s`;
    }
    process.stderr.write(
      `\r\u001b[K${mb.toFixed(1)} MB read, ${Math.round(this.events / secs)} events/s${eta}`,
    );
  }
  done(): void {
    if (this.shown) process.stderr.write("\r\u001b[K");
  }
}
