/**
 * `--format table`: for people at a terminal. Alerts per rule and per host, most severe first, then the
 * most severe alerts themselves. Every value from events has control characters replaced so a hostile
 * event cannot drive the terminal.
 */
import { formatTimestamp } from "../events/timestamp.js";
import { severityRank } from "../rules/types.js";
import { type HuntReport, rulesBySeverity } from "./report.js";

/** Control characters (C0, DEL, C1) become `?`; long text is cut with an ellipsis. */
export function terminalSafe(text: string, width?: number): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, "?");
  if (width === undefined || clean.length <= width) return clean;
  return `${clean.slice(0, Math.max(0, width - 1))}…`;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const padLeft = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);

/** How many individual alerts the table lists after the summaries. */
const ALERT_LINES = 50;

export function renderTable(report: HuntReport): string {
  const out: string[] = [];
  const rules = rulesBySeverity(report.rules);
  const ran = rules.filter(([, r]) => r.status === "ran").length;
  const notRun = rules.length - ran;
  const alerting = rules.filter(([, r]) => r.alerts > 0);
  const hosts = Object.entries(report.hosts);
  out.push(
    `${report.alerts.length} alert${report.alerts.length === 1 ? "" : "s"} from ${alerting.length} rule${alerting.length === 1 ? "" : "s"} on ${hosts.length} host${hosts.length === 1 ? "" : "s"}` +
      ` (${ran} rules ran${notRun ? `, ${notRun} not run` : ""}; ${report.input.events} events from ${report.input.files} file${report.input.files === 1 ? "" : "s"})`,
  );
  if (alerting.length > 0) {
    out.push("", "ALERTS PER RULE");
    out.push(`${pad("SEVERITY", 9)} ${padLeft("ALERTS", 6)}  RULE`);
    for (const [, r] of alerting) {
      const hostsOf = new Set(
        report.alerts.filter((a) => a.ruleName === r.name).map((a) => a.hostName ?? "-"),
      );
      out.push(
        `${pad(r.severity, 9)} ${padLeft(String(r.alerts), 6)}  ${terminalSafe(r.name, 80)}${r.truncated ? ` (max_signals reached: ${r.truncated} more not kept)` : ""}${hostsOf.size > 1 ? ` [${hostsOf.size} hosts]` : ""}`,
      );
    }
  }
  if (hosts.length > 0) {
    out.push("", "ALERTS PER HOST");
    out.push(`${pad("SEVERITY", 9)} ${padLeft("ALERTS", 6)} ${padLeft("RULES", 5)}  HOST`);
    for (const [host, h] of hosts)
      out.push(
        `${pad(h.max_severity, 9)} ${padLeft(String(h.alerts), 6)} ${padLeft(String(h.rules.length), 5)}  ${terminalSafe(host, 60)}`,
      );
  }
  if (report.alerts.length > 0) {
    const top = [...report.alerts]
      .sort(
        (a, b) =>
          severityRank(b.severity) - severityRank(a.severity) ||
          b.riskScore - a.riskScore ||
          (a.time && b.time ? a.time.ms - b.time.ms : 0),
      )
      .slice(0, ALERT_LINES);
    out.push("", report.alerts.length > ALERT_LINES ? `MOST SEVERE ${ALERT_LINES} ALERTS` : "ALERTS");
    for (const a of top) {
      const time = a.time ? formatTimestamp(a.time) : "-";
      out.push(
        `${pad(a.severity, 9)} ${pad(time, 24)} ${pad(terminalSafe(a.hostName ?? "-", 20), 20)} ${terminalSafe(a.ruleName, 60)}`,
      );
      out.push(
        `          ${terminalSafe(a.reason, 140)}  [${terminalSafe(a.sources.map((s) => `${s.index}:${s.id}`).join(", "), 80)}]`,
      );
    }
  }
  const stoppedRules = rules.filter(([, r]) => r.stopped);
  if (stoppedRules.length > 0) {
    out.push("", "RULES STOPPED (alerts up to the stop are above)");
    for (const [, r] of stoppedRules)
      out.push(`  ${terminalSafe(r.name, 60)}: ${terminalSafe((r.reason ?? "").replace(/;.*$/s, ""), 120)}`);
  }
  const skippingRules = rules.filter(([, r]) => r.skipped_events);
  if (skippingRules.length > 0) {
    out.push("", "EVENTS SKIPPED BY RULES (each past a limit on its own; the rules went on)");
    for (const [, r] of skippingRules)
      out.push(`${padLeft(String(r.skipped_events), 6)}  ${terminalSafe(r.name, 60)}`);
  }
  const notRunRules = rules.filter(([, r]) => r.status === "not_run");
  if (notRunRules.length > 0) {
    const reasons = new Map<string, number>();
    for (const [, r] of notRunRules) {
      const why = (r.reason ?? "").replace(/: .*$/s, "");
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    out.push("", "RULES NOT RUN");
    for (const [why, n] of [...reasons].sort((a, b) => b[1] - a[1]))
      out.push(`${padLeft(String(n), 6)}  ${terminalSafe(why, 120)}`);
  }
  return `${out.join("\n")}\n`;
}
