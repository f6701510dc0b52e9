/**
 * `quarry rules lint`: every rule loaded, its query parsed and verified, its fields checked against the
 * schema (ECS, or a user's mapping) with did-you-mean suggestions, and each rule classified as runnable
 * or not (and why).
 */
import { compileEql } from "../eql/index.js";
import { compileKql } from "../kql/index.js";
import type { Schema } from "../schema/index.js";
import { Hunt, NO_IOCS_REASON, type RuleReport } from "./engine.js";
import type { DetectionRule } from "./types.js";

export interface FieldWarning {
  readonly field: string;
  readonly suggestions: readonly string[];
}

export interface RuleLint {
  readonly rule: DetectionRule;
  readonly runnable: boolean;
  /** Why not runnable. */
  readonly reason?: string;
  /** True when the rule is broken (its query or filters do not compile), not merely of a type not run. */
  readonly broken: boolean;
  readonly report: RuleReport;
  readonly unknownFields: readonly FieldWarning[];
}

export interface LintResult {
  readonly rules: readonly RuleLint[];
  /** type -> {runnable, notRunnable} */
  readonly byType: ReadonlyMap<string, { runnable: number; notRunnable: number }>;
}

/** Levenshtein distance, bounded: stops early once over `max`. */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (cur[j] < best) best = cur[j];
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** Up to three known fields close to `field`: small edit distance, or the same last segment(s). */
export function suggestFields(field: string, known: readonly string[]): string[] {
  const scored: [string, number][] = [];
  const tail = field.split(".").slice(-2).join(".");
  for (const k of known) {
    const d = editDistance(field, k, 3);
    if (d <= 3) scored.push([k, d]);
    else if (tail.includes(".") && k.endsWith(`.${tail}`)) scored.push([k, 4]);
  }
  scored.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  return scored.slice(0, 3).map(([k]) => k);
}

function ruleFields(rule: DetectionRule, schema: Schema): string[] {
  const fields = new Set<string>();
  try {
    if (rule.type === "eql" && rule.query !== undefined) {
      for (const f of compileEql(rule.query, {
        schema,
        categoryField: rule.eventCategoryOverride ?? "event.category",
      }).fields)
        fields.add(f);
    } else if (rule.query !== undefined && (rule.language ?? "kuery") === "kuery") {
      for (const f of compileKql(rule.query, { schema }).fields) fields.add(f);
    }
  } catch {
    // Reported by the hunt compile.
  }
  for (const f of rule.newTermsFields ?? []) fields.add(f);
  for (const f of rule.threshold?.field ?? []) fields.add(f);
  for (const c of rule.threshold?.cardinality ?? []) fields.add(c.field);
  for (const m of rule.threatMapping ?? []) for (const e of m.entries) fields.add(e.field);
  return [...fields];
}

export function lintRules(rules: readonly DetectionRule[], schema: Schema): LintResult {
  const hunt = new Hunt({ rules, schema });
  const known = schema.fieldNames();
  const out: RuleLint[] = [];
  const byType = new Map<string, { runnable: number; notRunnable: number }>();
  for (const report of hunt.reports) {
    const rule = report.rule;
    const runnable = report.status === "ran" || report.reason === NO_IOCS_REASON;
    const unknownFields: FieldWarning[] = [];
    if (!report.broken && rule.type !== "esql" && rule.type !== "machine_learning") {
      for (const f of ruleFields(rule, schema)) {
        if (f.includes("*") || schema.lookup(f)) continue;
        unknownFields.push({ field: f, suggestions: suggestFields(f, known) });
      }
    }
    out.push({
      rule,
      runnable,
      reason: runnable ? undefined : report.reason,
      broken: report.broken,
      report,
      unknownFields,
    });
    const t = byType.get(rule.type) ?? { runnable: 0, notRunnable: 0 };
    if (runnable) t.runnable++;
    else t.notRunnable++;
    byType.set(rule.type, t);
  }
  return { rules: out, byType };
}
