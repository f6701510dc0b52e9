/**
 * The hunt report every alert output renders: alerts, a summary per host and per rule, and what was read.
 * `--format json` writes exactly `{"alerts", "hosts", "rules", "input"}`; `ndjson` one alert per line.
 */
import { stringifyJson } from "../events/json.js";
import type { JsonObject, JsonValue } from "../events/types.js";
import type { Alert } from "../rules/alerts.js";
import type { HuntResult } from "../rules/engine.js";
import { type AlertSeverity, severityRank } from "../rules/types.js";

/** The host key for alerts whose hit has no `host.name`. */
export const NO_HOST = "(no host)";

export interface HostSummary {
  readonly max_severity: AlertSeverity;
  readonly alerts: number;
  /** rule_ids, most severe first. */
  readonly rules: readonly string[];
}

export interface RuleSummary {
  readonly name: string;
  readonly type: string;
  readonly status: "ran" | "not_run";
  readonly reason?: string;
  readonly alerts: number;
  readonly ms: number;
  readonly severity: AlertSeverity;
  /** Hits beyond `max_signals` that were dropped (present only when some were). */
  readonly truncated?: number;
  /** Exception lists refused (or forced) on this protected rule (present only when some were). */
  readonly exceptions_refused?: readonly string[];
  /** The rule stopped at its state cap (`reason` says why; present only then). */
  readonly stopped?: boolean;
  /** Events the rule skipped, each past a limit on its own (present only when some were). */
  readonly skipped_events?: number;
}

export interface InputSummary {
  readonly files: number;
  /** Events decoded and run through the rules. */
  readonly events: number;
  readonly skipped_lines: number;
  /** Lines no rule could match, ruled out on their bytes by the literal prefilter and not decoded. */
  readonly prefiltered_lines?: number;
  readonly errors: readonly string[];
}

export interface HuntReport {
  readonly alerts: readonly Alert[];
  readonly hosts: Readonly<Record<string, HostSummary>>;
  readonly rules: Readonly<Record<string, RuleSummary>>;
  readonly input: InputSummary;
}

export function summarizeHosts(
  alerts: readonly Alert[],
  rules: Readonly<Record<string, RuleSummary>>,
): Record<string, HostSummary> {
  const acc = new Map<string, { max: number; alerts: number; rules: Set<string> }>();
  for (const a of alerts) {
    const key = a.hostName ?? NO_HOST;
    let h = acc.get(key);
    if (!h) acc.set(key, (h = { max: -1, alerts: 0, rules: new Set() }));
    h.max = Math.max(h.max, severityRank(a.severity));
    h.alerts++;
    h.rules.add(a.ruleId);
  }
  const order = [...acc.entries()].sort(
    (a, b) => b[1].max - a[1].max || b[1].alerts - a[1].alerts || (a[0] < b[0] ? -1 : 1),
  );
  const out: Record<string, HostSummary> = {};
  const rank = (id: string) => severityRank(rules[id]?.severity ?? "low");
  for (const [host, h] of order) {
    out[host] = {
      max_severity: (["low", "medium", "high", "critical"] as const)[Math.max(0, h.max)],
      alerts: h.alerts,
      rules: [...h.rules].sort((x, y) => rank(y) - rank(x) || (x < y ? -1 : 1)),
    };
  }
  return out;
}

/** Rules most severe first, then by alert count, then name. */
export function rulesBySeverity(rules: Readonly<Record<string, RuleSummary>>): [string, RuleSummary][] {
  return Object.entries(rules).sort(
    (a, b) =>
      severityRank(b[1].severity) - severityRank(a[1].severity) ||
      b[1].alerts - a[1].alerts ||
      (a[1].name < b[1].name ? -1 : a[1].name > b[1].name ? 1 : 0),
  );
}

function ruleJson(r: RuleSummary): JsonObject {
  const o: JsonObject = { name: r.name, type: r.type, status: r.status };
  if (r.reason !== undefined) o.reason = r.reason;
  o.alerts = r.alerts;
  o.ms = Math.round(r.ms * 1000) / 1000;
  if (r.truncated) o.truncated = r.truncated;
  if (r.stopped) o.stopped = true;
  if (r.skipped_events) o.skipped_events = r.skipped_events;
  if (r.exceptions_refused && r.exceptions_refused.length > 0)
    o.exceptions_refused = [...r.exceptions_refused];
  return o;
}

/** `--format ndjson`: one alert document per line. */
export function* ndjsonChunks(report: HuntReport): Generator<string> {
  for (const a of report.alerts) yield `${stringifyJson(a.doc)}\n`;
}

/** `--format json`: `{"alerts": [...], "hosts": {...}, "rules": {...}, "input": {...}}`, one alert per line. */
export function* jsonChunks(report: HuntReport): Generator<string> {
  yield '{"alerts":[';
  let first = true;
  for (const a of report.alerts) {
    yield `${first ? "\n" : ",\n"}${stringifyJson(a.doc)}`;
    first = false;
  }
  yield `${first ? "" : "\n"}],\n"hosts":${stringifyJson(report.hosts as unknown as JsonValue)},\n"rules":{`;
  let firstRule = true;
  for (const [id, r] of Object.entries(report.rules)) {
    yield `${firstRule ? "\n" : ",\n"}${JSON.stringify(id)}:${stringifyJson(ruleJson(r))}`;
    firstRule = false;
  }
  yield `${firstRule ? "" : "\n"}},\n"input":${stringifyJson(report.input as unknown as JsonValue)}}\n`;
}

/** The report for a finished hunt. */
export function makeReport(result: HuntResult, input: InputSummary): HuntReport {
  const rules: Record<string, RuleSummary> = {};
  const refused = new Map<string, string[]>();
  for (const r of result.refusals) {
    const list = refused.get(r.ruleId) ?? [];
    list.push(`${r.listName} (${r.forced ? "applied: --force-exceptions" : "refused"})`);
    refused.set(r.ruleId, list);
  }
  for (const r of result.rules) {
    rules[r.rule.ruleId] = {
      name: r.rule.name,
      type: r.rule.type,
      status: r.status,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      alerts: r.alerts,
      ms: r.ms,
      severity: r.rule.severity,
      ...(r.truncated ? { truncated: r.truncated } : {}),
      ...(r.stopped ? { stopped: true } : {}),
      ...(r.skippedEvents ? { skipped_events: r.skippedEvents } : {}),
      ...(refused.has(r.rule.ruleId) ? { exceptions_refused: refused.get(r.rule.ruleId) } : {}),
    };
  }
  return { alerts: result.alerts, hosts: summarizeHosts(result.alerts, rules), rules, input };
}
