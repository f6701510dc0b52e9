/** `quarry hunt`: run rule packs, rule files, IOC lists and exceptions over events in one pass; print alerts. */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { ReadOptions } from "../../events/index.js";
import {
  ALERT_FORMATS,
  type AlertFormat,
  type InputSummary,
  makeReport,
  renderAlerts,
} from "../../output/index.js";
import { type HuntSettings, runHuntParallel } from "../../parallel/index.js";
import {
  describeRefusal,
  formatRuleLoadError,
  Hunt,
  huntOptionsFor,
  loadRuleSet,
  renderRuleDiagnostic,
  SEVERITIES,
  severityRank,
} from "../../rules/index.js";
import {
  addEventInputOptions,
  addOutputOptions,
  CliError,
  type EventInputFlags,
  ExitCode,
  finishInput,
  IssueReporter,
  openOutput,
  Progress,
  parseIntegerOption,
  raiseExitCode,
  resolveFormat,
} from "../common.js";
import { loadSchema } from "./query.js";

interface HuntFlags extends EventInputFlags {
  rules?: string[];
  iocs?: string[];
  exceptions?: string[];
  forceExceptions?: boolean;
  mapping?: string;
  schedule?: boolean;
  profile?: boolean;
  failOn?: string;
  maxState?: number;
  format?: AlertFormat;
  output?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Input errors kept in the JSON report (the rest are counted). */
const MAX_REPORTED_ERRORS = 1000;

const NO_INPUT_HELP = `quarry hunt needs events to read. Point it at files or folders of exported logs:

  quarry hunt logs/                      every *.json, *.ndjson, *.jsonl, *.gz under logs/
  quarry hunt events.ndjson.gz           one file (NDJSON, JSON array, Elasticsearch export)
  cat events.ndjson | quarry hunt -      standard input

By default every bundled pack runs; choose with --rules NAME|PATH (repeatable) and add IOC lists with
--iocs FILE. See quarry hunt --help.`;

export function registerHuntCommand(program: Command): void {
  const cmd = program
    .command("hunt")
    .description("run detection rules, rule packs and IOC lists over events in one pass and report alerts")
    .argument("[input...]", "files, directories or - for stdin")
    .option(
      "--rules <name|path>",
      "a bundled pack by name, a pack folder, a folder of rule files or one rule file (repeatable; default: every bundled pack; 'none' for no pack)",
      collect,
    )
    .option("--iocs <file>", "an IOC list (text, CSV, STIX 2.1) that alerts as a rule (repeatable)", collect)
    .option(
      "--exceptions <file>",
      "Kibana exception-list export (NDJSON) or detection-rules exception TOML (repeatable)",
      collect,
    )
    .option("--force-exceptions", "apply exceptions even to protected rules")
    .option(
      "--mapping <file>",
      "Elasticsearch mapping giving field types (default: ECS, then dynamic mapping)",
    )
    .option("--schedule", "replay each rule's interval and lookback across the input's time span")
    .option("--profile", "time every rule on every event and print the slowest rules")
    .option(
      "--max-state <n>",
      "cap on a rule's state (sequence or sample entries, new_terms combinations, threshold groups); a rule past it stops and is reported (default 1000000)",
      parseIntegerOption("--max-state", 1),
    )
    .addOption(
      new Option(
        "--fail-on <severity>",
        "exit 1 when an alert at or above this severity is produced",
      ).argParser((v: string) => {
        const s = v.toLowerCase();
        if (!SEVERITIES.includes(s as (typeof SEVERITIES)[number]))
          throw new InvalidArgumentError(`severity must be one of ${SEVERITIES.join(", ")}`);
        return s;
      }),
    );
  addEventInputOptions(cmd);
  addOutputOptions(cmd, ALERT_FORMATS);
  cmd.action(async (inputs: string[], flags: HuntFlags) => {
    await runHuntCommand(inputs, flags);
  });
}

async function runHuntCommand(inputs: string[], flags: HuntFlags): Promise<void> {
  if (inputs.length === 0) throw new CliError(NO_INPUT_HELP, ExitCode.usage);
  const schema = loadSchema(flags.mapping);
  const set = await loadRuleSet({ rules: flags.rules, iocs: flags.iocs, exceptions: flags.exceptions });
  if (set.missing.length > 0) throw new CliError(set.missing.join("\n"), ExitCode.usage);
  const inputErrors: string[] = [];
  let ruleProblem = false;
  for (const e of set.errors) {
    process.stderr.write(`quarry: rule file ${formatRuleLoadError(e)}\n`);
    if (inputErrors.length < MAX_REPORTED_ERRORS) inputErrors.push(`rule file ${formatRuleLoadError(e)}`);
    if (e.explicit || flags.strict) ruleProblem = true;
  }
  for (const e of set.exceptionErrors) {
    const text = `${e.file}${e.line !== undefined ? `:${e.line}` : ""}${e.column !== undefined ? `:${e.column}` : ""}: ${e.message}`;
    process.stderr.write(`quarry: exceptions ${text}\n`);
    inputErrors.push(`exceptions ${text}`);
    if (flags.strict) ruleProblem = true;
  }
  for (const file of flags.exceptions ?? []) {
    if (!set.exceptions.some((l) => l.file === file)) ruleProblem = true;
  }
  if (set.rules.length === 0 && set.iocs.length === 0)
    throw new CliError(
      "no rules to run: --rules named no rules and no --iocs were given (bundled packs: run quarry hunt --rules NAME)",
      ExitCode.usage,
    );
  // Plain data: rule-shard workers build their own Hunt with the same settings.
  const settings: HuntSettings = {
    now: flags.to,
    from: flags.from,
    schedule: flags.schedule,
    profile: flags.profile,
    forceExceptions: flags.forceExceptions,
    maxPendingState: flags.maxState,
  };
  const hunt = new Hunt(huntOptionsFor(set, { schema, timestampField: flags.timestampField, ...settings }));
  const explicitFiles = new Set((flags.rules ?? []).map((p) => resolve(p)));
  for (const r of hunt.reports) {
    if (!r.broken) continue;
    const rendered = renderRuleDiagnostic(r);
    process.stderr.write(
      `quarry: rule "${r.rule.name}" (${r.rule.origin.file}) not run: ${r.reason}\n${rendered ? `${rendered}\n` : ""}`,
    );
    if (inputErrors.length < MAX_REPORTED_ERRORS)
      inputErrors.push(`${r.rule.origin.file}: rule "${r.rule.name}" not run: ${r.reason}`);
    // A broken rule in a file named directly is a usage error; one found in a folder or pack only under --strict.
    if (flags.strict || explicitFiles.has(r.rule.origin.file)) ruleProblem = true;
  }
  for (const r of hunt.refusals) process.stderr.write(`quarry: ${describeRefusal(r)}\n`);
  for (const note of hunt.notes) process.stderr.write(`quarry: ${note}\n`);
  const format = resolveFormat(flags.format, ALERT_FORMATS, flags.output !== undefined);
  const issues = new IssueReporter();
  const progress = new Progress();
  const readOptions: ReadOptions = {
    include: flags.include,
    exclude: flags.exclude,
    maxLineBytes: flags.maxLineBytes,
    timestampField: flags.timestampField,
    from: flags.from,
    to: flags.to,
    onIssue: (issue) => {
      issues.onIssue(issue);
      if (inputErrors.length < MAX_REPORTED_ERRORS)
        inputErrors.push(
          `${issue.file}${issue.line !== undefined ? `:${issue.line}` : ""}: ${issue.message}`,
        );
    },
    onBytes: (n) => {
      progress.bytes += n;
    },
  };
  // --strict validates every line, so nothing may be skipped unparsed.
  const prefilter = !flags.strict && flags.prefilter !== false ? hunt.linePrefilter() : undefined;
  if (prefilter && flags.profile) process.stderr.write(`quarry: prefilter: ${prefilter.description}\n`);
  const run = await runHuntParallel(
    hunt,
    {
      language: "hunt",
      rules: flags.rules,
      iocs: flags.iocs,
      exceptions: flags.exceptions,
      mappingText: flags.mapping === undefined ? undefined : readFileSync(flags.mapping, "utf8"),
      timestampField: flags.timestampField,
    },
    settings,
    inputs,
    readOptions,
    { threads: flags.threads ?? availableParallelism(), adaptive: flags.threads === undefined, prefilter },
    (n) => {
      progress.events += n;
      progress.tick();
    },
  );
  progress.done();
  for (const r of run.result.rules) {
    if (!r.stopped && !r.skippedEvents) continue;
    const what = r.stopped
      ? r.reason
      : `skipped ${r.skippedEvents} event${r.skippedEvents === 1 ? "" : "s"} and went on: ${r.skipReason}`;
    const rendered = renderRuleDiagnostic(r);
    process.stderr.write(
      `quarry: rule "${r.rule.name}" (${r.rule.origin.file}) ${what}\n${rendered ? `${rendered}\n` : ""}`,
    );
    if (inputErrors.length < MAX_REPORTED_ERRORS)
      inputErrors.push(`${r.rule.origin.file}: rule "${r.rule.name}" ${what}`);
    // Its alerts are incomplete: under --strict that fails the run, as a broken rule does.
    if (flags.strict) raiseExitCode(ExitCode.usage);
  }
  const input: InputSummary = {
    files: run.summary.files,
    events: run.summary.events,
    skipped_lines: run.summary.skippedLines,
    ...(run.summary.prefiltered > 0 ? { prefiltered_lines: run.summary.prefiltered } : {}),
    errors: inputErrors,
  };
  const report = makeReport(run.result, input);
  const out = openOutput(flags.output);
  for (const chunk of renderAlerts(report, format)) await out.write(chunk);
  await out.close();
  for (const r of run.result.rules)
    if (r.truncated > 0)
      process.stderr.write(
        `quarry: rule "${r.rule.name}" reached max_signals (${r.rule.maxSignals}): ${r.truncated} more hit${r.truncated === 1 ? "" : "s"} not kept\n`,
      );
  if (flags.profile) printProfile(run.result.rules);
  const ran = run.result.rules.filter((r) => r.status === "ran").length;
  process.stderr.write(
    `quarry: ${run.result.alerts.length} alerts; ${ran} rules ran, ${run.result.rules.length - ran} not run${run.sorted ? "; input was sorted by time for sequence rules" : ""}\n`,
  );
  finishInput(run.summary, flags.strict);
  if (ruleProblem) raiseExitCode(ExitCode.usage);
  if (flags.failOn !== undefined) {
    const threshold = severityRank(flags.failOn);
    if (run.result.alerts.some((a) => severityRank(a.severity) >= threshold))
      raiseExitCode(ExitCode.findings);
  }
}

function printProfile(rules: readonly import("../../rules/index.js").RuleReport[]): void {
  const ranked = rules
    .filter((r) => r.status === "ran")
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 25);
  const total = rules.reduce((n, r) => n + r.ms, 0);
  process.stderr.write(`quarry: rule time ${total.toFixed(1)} ms in total; slowest rules:\n`);
  process.stderr.write(`${"ms".padStart(10)} ${"events".padStart(10)}  rule\n`);
  for (const r of ranked)
    process.stderr.write(
      `${r.ms.toFixed(1).padStart(10)} ${String(r.evaluated).padStart(10)}  ${r.rule.name} (${r.rule.ruleId})\n`,
    );
}
