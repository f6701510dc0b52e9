/**
 * `--format html`: one self-contained file (inline CSS, no scripts, no external assets): a summary, the
 * hosts, a timeline per host, and every alert's details. Events are attacker-controlled, so every value
 * from them goes through `escapeHtml` (text and attribute contexts alike); nothing from an event is ever
 * placed in a URL, style or script context. A Content-Security-Policy forbids scripts even if a value
 * slipped through.
 */
import { stringifyJson } from "../events/json.js";
import { formatTimestamp } from "../events/timestamp.js";
import type { Alert } from "../rules/alerts.js";
import { severityRank } from "../rules/types.js";
import { type HuntReport, NO_HOST, rulesBySeverity } from "./report.js";

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/** Escape for HTML text and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/[&<>"'`]/g, (c) => ENTITIES[c])
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\ufffd");
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1d1d1f;background:#fafafa}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;background:#fff}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}.num{text-align:right}
.sev{font-weight:600;border-radius:3px;padding:0 6px}
.critical{background:#b3261e;color:#fff}.high{background:#e8710a;color:#fff}.medium{background:#f9ab00}.low{background:#cfe2f3}
details{background:#fff;border:1px solid #ddd;margin:.4em 0;padding:.3em .6em}summary{cursor:pointer}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:.6em;max-height:40em;overflow:auto}
.muted{color:#666}
`;

function sev(s: string): string {
  return `<span class="sev ${escapeHtml(s)}">${escapeHtml(s)}</span>`;
}

function time(a: Alert): string {
  return a.time ? formatTimestamp(a.time) : "-";
}

function anchor(n: number): string {
  return `alert-${n}`;
}

export function renderHtml(report: HuntReport, title = "Quarry hunt report"): string {
  const out: string[] = [];
  const alerts = report.alerts;
  const ids = new Map<Alert, number>();
  for (const [i, a] of alerts.entries()) ids.set(a, i + 1);
  out.push(
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
  );
  const rules = rulesBySeverity(report.rules);
  const ran = rules.filter(([, r]) => r.status === "ran").length;
  out.push(
    `<p>${alerts.length} alerts from ${rules.filter(([, r]) => r.alerts > 0).length} rules on ${Object.keys(report.hosts).length} hosts. ` +
      `${ran} rules ran, ${rules.length - ran} not run. Input: ${report.input.events} events from ${report.input.files} files` +
      `${report.input.skipped_lines ? `, ${report.input.skipped_lines} lines skipped` : ""}.</p>`,
  );
  // Summary per rule.
  out.push("<h2>Rules with alerts</h2>");
  const alerting = rules.filter(([, r]) => r.alerts > 0);
  if (alerting.length === 0) out.push('<p class="muted">No alerts.</p>');
  else {
    out.push("<table><tr><th>Severity</th><th>Alerts</th><th>Rule</th><th>Type</th><th>rule_id</th></tr>");
    for (const [id, r] of alerting)
      out.push(
        `<tr><td>${sev(r.severity)}</td><td class="num">${r.alerts}${r.truncated ? ` (+${r.truncated} over max_signals)` : ""}</td><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.type)}</td><td><code>${escapeHtml(id)}</code></td></tr>`,
      );
    out.push("</table>");
  }
  // Hosts.
  out.push("<h2>Hosts</h2>");
  const hosts = Object.entries(report.hosts);
  if (hosts.length === 0) out.push('<p class="muted">No hosts with alerts.</p>');
  else {
    out.push("<table><tr><th>Host</th><th>Max severity</th><th>Alerts</th><th>Rules</th></tr>");
    for (const [host, h] of hosts)
      out.push(
        `<tr><td>${escapeHtml(host)}</td><td>${sev(h.max_severity)}</td><td class="num">${h.alerts}</td><td>${h.rules
          .map((id) => escapeHtml(report.rules[id]?.name ?? id))
          .join("<br>")}</td></tr>`,
      );
    out.push("</table>");
  }
  // Timeline per host.
  out.push("<h2>Timeline per host</h2>");
  for (const [host] of hosts) {
    const mine = alerts
      .filter((a) => (a.hostName ?? NO_HOST) === host)
      .sort((a, b) =>
        a.time && b.time ? a.time.ms - b.time.ms || a.time.nanos - b.time.nanos : a.time ? -1 : 1,
      );
    out.push(
      `<h3>${escapeHtml(host)}</h3><table><tr><th>Time</th><th>Severity</th><th>Rule</th><th>Reason</th></tr>`,
    );
    for (const a of mine)
      out.push(
        `<tr><td>${escapeHtml(time(a))}</td><td>${sev(a.severity)}</td><td><a href="#${anchor(ids.get(a)!)}">${escapeHtml(a.ruleName)}</a></td><td>${escapeHtml(a.reason)}</td></tr>`,
      );
    out.push("</table>");
  }
  // Alert details, most severe first.
  out.push("<h2>Alert details</h2>");
  const ordered = [...alerts].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || b.riskScore - a.riskScore,
  );
  for (const a of ordered) {
    out.push(
      `<details id="${anchor(ids.get(a)!)}"><summary>${sev(a.severity)} ${escapeHtml(time(a))} — ${escapeHtml(a.ruleName)} — ${escapeHtml(a.hostName ?? NO_HOST)}</summary>`,
      `<p>${escapeHtml(a.reason)}</p>`,
      `<p class="muted">Source events: ${a.sources.map((s) => `<code>${escapeHtml(`${s.index}:${s.id}`)}</code>`).join(" ")}</p>`,
      `<pre>${escapeHtml(stringifyJson(a.doc, 2))}</pre></details>`,
    );
  }
  // Rules not run.
  const notRun = rules.filter(([, r]) => r.status === "not_run");
  if (notRun.length > 0) {
    out.push(
      `<h2>Rules not run (${notRun.length})</h2><details><summary>Show</summary><table><tr><th>Rule</th><th>Type</th><th>Reason</th></tr>`,
    );
    for (const [, r] of notRun)
      out.push(
        `<tr><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.type)}</td><td>${escapeHtml(r.reason ?? "")}</td></tr>`,
      );
    out.push("</table></details>");
  }
  if (report.input.errors.length > 0) {
    out.push(`<h2>Input problems (${report.input.errors.length})</h2><pre>`);
    out.push(escapeHtml(report.input.errors.join("\n")));
    out.push("</pre>");
  }
  out.push(`<p class="muted">Generated by Quarry.</p></body></html>\n`);
  return out.join("\n");
}
