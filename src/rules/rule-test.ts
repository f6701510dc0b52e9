/**
 * `quarry rules test`: detection-as-code checks. Next to `<rule>.toml`, `<rule>.tp.ndjson` holds events
 * that must each alert (for event rules; for sequence, threshold and new-terms rules the file as a whole
 * must alert) and `<rule>.tn.ndjson` events that must not alert.
 */
import { existsSync } from "node:fs";
import type { Schema } from "../schema/index.js";
import { Hunt } from "./engine.js";
import { runHunt } from "./hunt.js";
import type { DetectionRule } from "./types.js";

export interface RuleTestCase {
  readonly rule: DetectionRule;
  readonly file: string;
  readonly expect: "alert" | "no-alert";
  readonly passed: boolean;
  /** What went wrong, when it failed. */
  readonly failures: readonly string[];
}

export interface RuleTestResult {
  readonly cases: readonly RuleTestCase[];
  /** Rules with no example files next to them. */
  readonly untested: readonly DetectionRule[];
}

export function exampleFiles(rule: DetectionRule): { tp?: string; tn?: string } {
  const base = rule.origin.file.replace(/\.toml$/i, "");
  const tp = `${base}.tp.ndjson`;
  const tn = `${base}.tn.ndjson`;
  return { ...(existsSync(tp) ? { tp } : {}), ...(existsSync(tn) ? { tn } : {}) };
}

export async function testRules(rules: readonly DetectionRule[], schema: Schema): Promise<RuleTestResult> {
  const cases: RuleTestCase[] = [];
  const untested: DetectionRule[] = [];
  for (const rule of rules) {
    const { tp, tn } = exampleFiles(rule);
    if (!tp && !tn) {
      untested.push(rule);
      continue;
    }
    for (const [file, expect] of [
      [tp, "alert"],
      [tn, "no-alert"],
    ] as const) {
      if (!file) continue;
      const hunt = new Hunt({ rules: [rule], schema });
      const report = hunt.reports[0];
      const failures: string[] = [];
      if (report.status !== "ran") {
        failures.push(`rule not run: ${report.reason ?? "unknown reason"}`);
        cases.push({ rule, file, expect, passed: false, failures });
        continue;
      }
      const ids: string[] = [];
      const problems: string[] = [];
      const run = await runHunt(
        hunt,
        [file],
        { onIssue: (i) => problems.push(`${i.file}${i.line ? `:${i.line}` : ""}: ${i.message}`) },
        (batch) => {
          for (const e of batch) ids.push(e.id);
        },
      );
      failures.push(...problems.map((p) => `input: ${p}`));
      const alerts = run.result.alerts;
      if (expect === "alert") {
        const eventShaped =
          rule.type === "query" ||
          rule.type === "threat_match" ||
          (rule.type === "eql" && !/^\s*(sequence|sample)\b/i.test(rule.query ?? ""));
        if (eventShaped) {
          const alerted = new Set(alerts.flatMap((a) => a.sources.map((s) => s.id)));
          const missed = ids.filter((id) => !alerted.has(id));
          if (missed.length > 0)
            failures.push(`no alert for event${missed.length > 1 ? "s" : ""} at line ${missed.join(", ")}`);
        } else if (alerts.length === 0) failures.push("no alert");
        if (ids.length === 0) failures.push("the file holds no events");
      } else if (alerts.length > 0) {
        const lines = [...new Set(alerts.flatMap((a) => a.sources.map((s) => s.id)))];
        failures.push(
          `${alerts.length} unexpected alert${alerts.length > 1 ? "s" : ""} (event${lines.length > 1 ? "s" : ""} at line ${lines.join(", ")})`,
        );
      }
      cases.push({ rule, file, expect, passed: failures.length === 0, failures });
    }
  }
  return { cases, untested };
}
