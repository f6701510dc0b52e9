/** `quarry rules lint|test|list`: check rule files and packs before running them. */
import type { Command } from "commander";
import { Option } from "commander";
import { terminalSafe } from "../../output/index.js";
import {
  type DetectionRule,
  formatRuleLoadError,
  lintRules,
  loadPack,
  PackNotFoundError,
  type RuleLoadError,
  renderRuleDiagnostic,
  testRules,
} from "../../rules/index.js";
import { CliError, ExitCode, openOutput, raiseExitCode } from "../common.js";
import { loadSchema } from "./query.js";

interface RulesFlags {
  mapping?: string;
  format?: "text" | "json";
  output?: string;
  strict?: boolean;
}

async function loadPaths(
  paths: readonly string[],
): Promise<{ rules: DetectionRule[]; errors: RuleLoadError[] }> {
  const rules: DetectionRule[] = [];
  const errors: RuleLoadError[] = [];
  for (const p of paths) {
    try {
      const pack = await loadPack(p);
      rules.push(...pack.rules, ...pack.iocs.map((i) => i.rule));
      errors.push(...pack.errors);
    } catch (error) {
      if (error instanceof PackNotFoundError) throw new CliError(error.message, ExitCode.usage);
      throw error;
    }
  }
  return { rules, errors };
}

export function registerRulesCommand(program: Command): void {
  const rules = program.command("rules").description("lint, test and list detection rules and packs");
  rules
    .command("lint")
    .description(
      "load every rule, parse and verify its query, check fields against ECS (or --mapping), and say which rules can run",
    )
    .argument("<path...>", "rule files, folders, pack folders or bundled pack names")
    .option("--mapping <file>", "Elasticsearch mapping giving field types (default: ECS)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("-o, --output <file>", "write the result to this file instead of stdout")
    .option("--strict", "also exit 2 when a rule uses a field the schema does not know")
    .action(async (paths: string[], flags: RulesFlags) => {
      await lintCommand(paths, flags);
    });
  rules
    .command("test")
    .description(
      "run rules against example events next to them: <rule>.tp.ndjson must alert, <rule>.tn.ndjson must not",
    )
    .argument("<path...>", "rule files, folders, pack folders or bundled pack names")
    .option("--mapping <file>", "Elasticsearch mapping giving field types (default: ECS)")
    .action(async (paths: string[], flags: RulesFlags) => {
      await testCommand(paths, flags);
    });
}

async function lintCommand(paths: string[], flags: RulesFlags): Promise<void> {
  const schema = loadSchema(flags.mapping);
  const { rules, errors } = await loadPaths(paths);
  const result = lintRules(rules, schema);
  const out = openOutput(flags.output);
  let broken = errors.length;
  let unknownFieldRules = 0;
  if (flags.format === "json") {
    const doc = {
      errors: errors.map(formatRuleLoadError),
      rules: result.rules.map((r) => ({
        rule_id: r.rule.ruleId,
        name: r.rule.name,
        type: r.rule.type,
        file: r.rule.origin.file,
        runnable: r.runnable,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        broken: r.broken,
        unknown_fields: r.unknownFields.map((f) => ({ field: f.field, suggestions: f.suggestions })),
      })),
      by_type: Object.fromEntries(
        [...result.byType].map(([t, c]) => [t, { runnable: c.runnable, not_runnable: c.notRunnable }]),
      ),
    };
    for (const r of result.rules) {
      if (r.broken) broken++;
      if (r.unknownFields.length > 0) unknownFieldRules++;
    }
    await out.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const lines: string[] = [];
    for (const e of errors) lines.push(`error: ${formatRuleLoadError(e)}`);
    for (const r of result.rules) {
      const where = `${r.rule.origin.file}: "${terminalSafe(r.rule.name)}"`;
      if (r.broken) {
        broken++;
        lines.push(`error: ${where}: ${r.reason}`);
        const rendered = renderRuleDiagnostic(r.report);
        if (rendered) lines.push(rendered);
      } else if (!r.runnable) lines.push(`not runnable: ${where}: ${r.reason}`);
      if (r.unknownFields.length > 0) unknownFieldRules++;
      for (const f of r.unknownFields)
        lines.push(
          `warning: ${where}: field ${f.field} is not in the schema${f.suggestions.length ? ` (did you mean ${f.suggestions.join(", ")}?)` : ""}`,
        );
    }
    lines.push(
      "",
      `${result.rules.length} rules loaded${errors.length ? `, ${errors.length} files with errors` : ""}:`,
    );
    for (const [type, c] of [...result.byType].sort(
      (a, b) => b[1].runnable + b[1].notRunnable - (a[1].runnable + a[1].notRunnable),
    ))
      lines.push(
        `  ${type.padEnd(18)} ${String(c.runnable).padStart(6)} runnable ${String(c.notRunnable).padStart(6)} not runnable`,
      );
    if (unknownFieldRules) lines.push(`${unknownFieldRules} rules use fields the schema does not know`);
    await out.write(`${lines.join("\n")}\n`);
  }
  await out.close();
  if (broken > 0 || (flags.strict && unknownFieldRules > 0)) raiseExitCode(ExitCode.usage);
}

async function testCommand(paths: string[], flags: RulesFlags): Promise<void> {
  const schema = loadSchema(flags.mapping);
  const { rules, errors } = await loadPaths(paths);
  for (const e of errors) process.stderr.write(`quarry: rule file ${formatRuleLoadError(e)}\n`);
  const result = await testRules(rules, schema);
  const lines: string[] = [];
  let failed = 0;
  for (const c of result.cases) {
    if (c.passed) lines.push(`ok      ${c.rule.name}  (${c.file})`);
    else {
      failed++;
      lines.push(
        `FAILED  ${c.rule.name}  (${c.file}: expected ${c.expect === "alert" ? "alerts" : "no alerts"})`,
      );
      for (const f of c.failures) lines.push(`        ${terminalSafe(f)}`);
    }
  }
  lines.push(
    "",
    `${result.cases.length - failed} passed, ${failed} failed; ${result.untested.length} rule${result.untested.length === 1 ? "" : "s"} without examples`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  if (errors.length > 0) raiseExitCode(ExitCode.usage);
  if (failed > 0) raiseExitCode(ExitCode.findings);
}
