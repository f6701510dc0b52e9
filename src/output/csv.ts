/**
 * `--format csv`: importable by Timesketch (its required columns `datetime`, `timestamp_desc` and
 * `message` first), then the alert's fields. RFC 4180 quoting; cells that a spreadsheet would read as a
 * formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) are prefixed with `'`, since event
 * values are attacker-controlled.
 */
import { compileField } from "../events/field-access.js";
import { stringifyJson } from "../events/json.js";
import { formatTimestamp } from "../events/timestamp.js";
import type { JsonValue } from "../events/types.js";
import type { Alert } from "../rules/alerts.js";
import type { HuntReport } from "./report.js";

const FIELDS: [string, ReturnType<typeof compileField>][] = [
  ["user.name", compileField("user.name")],
  ["process.name", compileField("process.name")],
  ["process.command_line", compileField("process.command_line")],
  ["process.parent.name", compileField("process.parent.name")],
  ["file.path", compileField("file.path")],
  ["destination.ip", compileField("destination.ip")],
  ["dns.question.name", compileField("dns.question.name")],
  ["event.category", compileField("event.category")],
  ["event.action", compileField("event.action")],
];

export const CSV_COLUMNS = [
  "datetime",
  "timestamp_desc",
  "message",
  "severity",
  "risk_score",
  "rule_name",
  "rule_id",
  "rule_type",
  "host.name",
  ...FIELDS.map(([name]) => name),
  "reason",
  "source_events",
  "alert_uuid",
];

/** One CSV cell: formula-looking text defused, then quoted when it holds a comma, quote or line break. */
export function csvCell(value: string): string {
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text)) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

function fieldText(values: JsonValue[]): string {
  const parts = values.map((v) => (typeof v === "object" && v !== null ? stringifyJson(v) : String(v)));
  return parts.join(" | ");
}

function row(a: Alert): string {
  const doc = a.doc;
  const datetime = a.time ? formatTimestamp(a.time) : String(doc["@timestamp"] ?? "");
  const cells = [
    datetime,
    a.time ? "Event Time" : "Alert Time",
    `[${a.severity}] ${a.ruleName}: ${a.reason}`,
    a.severity,
    String(a.riskScore),
    a.ruleName,
    a.ruleId,
    a.ruleType,
    a.hostName ?? "",
    ...FIELDS.map(([, get]) => fieldText(get(doc))),
    a.reason,
    a.sources.map((s) => `${s.index}:${s.id}`).join(" "),
    String(doc["kibana.alert.uuid"] ?? ""),
  ];
  return cells.map(csvCell).join(",");
}

export function* csvChunks(report: HuntReport): Generator<string> {
  yield `${CSV_COLUMNS.join(",")}\r\n`;
  for (const a of report.alerts) yield `${row(a)}\r\n`;
}
