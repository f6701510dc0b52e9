import assert from "node:assert/strict";
import { test } from "node:test";
import { parseJsonLossless } from "../../src/events/json.js";
import type { JsonObject } from "../../src/events/types.js";
import {
  CSV_COLUMNS,
  csvCell,
  escapeHtml,
  type HuntReport,
  makeReport,
  renderAlerts,
  terminalSafe,
} from "../../src/output/index.js";
import { Hunt } from "../../src/rules/engine.js";
import { parseRuleText } from "../../src/rules/load.js";
import { ecsSchema } from "../../src/schema/index.js";
import { event, proc, ruleToml } from "../rules/fixtures.js";

const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

function report(): HuntReport {
  const high = parseRuleText(
    ruleToml({ name: "Cmd <b>bold</b>", severity: "high", riskScore: 73, query: "process.name : cmd.exe" }),
    "a.toml",
  ).rule!;
  const low = parseRuleText(
    ruleToml({ name: "Any note", severity: "low", riskScore: 21, query: "process.name : notepad.exe" }),
    "b.toml",
  ).rule!;
  const esql = parseRuleText(
    ruleToml({ name: "ESQL", type: "esql", language: "esql", query: "from x" }),
    "c.toml",
  ).rule!;
  const h = new Hunt({ schema: ecsSchema(), rules: [high, low, esql] });
  const pass = h.pass();
  pass.push([
    event(
      proc("cmd.exe", "2024-05-01T10:00:00Z", {
        host: { name: HOSTILE },
        process: { name: "cmd.exe", command_line: '=HYPERLINK("http://x","y")' },
      }),
      "1",
    ),
    event(
      proc("notepad.exe", "2024-05-01T10:00:01Z", { host: { name: "ws-2" }, big: 123456789012345678901n }),
      "2",
    ),
    event(proc("cmd.exe", "2024-05-01T10:00:02Z", { host: { name: "ws-2" } }), "3"),
  ]);
  return makeReport(pass.finish(), {
    files: 1,
    events: 3,
    skipped_lines: 1,
    errors: ["test.ndjson:9: not JSON"],
  });
}

const render = (r: HuntReport, f: "table" | "ndjson" | "json" | "csv" | "html") =>
  [...renderAlerts(r, f)].join("");

test("ndjson: one alert per line, numbers kept exactly", () => {
  const lines = render(report(), "ndjson").trimEnd().split("\n");
  assert.equal(lines.length, 3);
  const docs = lines.map((l) => parseJsonLossless(l) as JsonObject);
  assert.ok(docs.every((d) => d.event && (d.event as JsonObject).kind === "signal"));
  assert.ok(lines[1].includes("123456789012345678901"));
  assert.equal(docs[1].big, 123456789012345678901n);
});

test("json: exactly alerts, hosts, rules and input", () => {
  const doc = JSON.parse(render(report(), "json"));
  assert.deepEqual(Object.keys(doc), ["alerts", "hosts", "rules", "input"]);
  assert.equal(doc.alerts.length, 3);
  assert.deepEqual(doc.hosts["ws-2"].max_severity, "high");
  assert.equal(doc.hosts["ws-2"].alerts, 2);
  assert.equal(doc.hosts["ws-2"].rules.length, 2);
  const rules = Object.values(doc.rules) as {
    name: string;
    status: string;
    reason?: string;
    alerts: number;
    ms: number;
    type: string;
  }[];
  assert.equal(rules.length, 3);
  const esql = rules.find((r) => r.name === "ESQL")!;
  assert.equal(esql.status, "not_run");
  assert.match(esql.reason!, /ES\|QL/);
  const cmd = rules.find((r) => r.type === "query" && r.alerts === 2)!;
  assert.deepEqual(Object.keys(cmd), ["name", "type", "status", "alerts", "ms"]);
  assert.deepEqual(doc.input, { files: 1, events: 3, skipped_lines: 1, errors: ["test.ndjson:9: not JSON"] });
});

test("csv: Timesketch columns first, proper quoting, formulas defused", () => {
  const text = render(report(), "csv");
  const lines = text.trimEnd().split("\r\n");
  assert.equal(lines[0], CSV_COLUMNS.join(","));
  assert.deepEqual(CSV_COLUMNS.slice(0, 3), ["datetime", "timestamp_desc", "message"]);
  assert.equal(lines.length, 4);
  assert.ok(lines[1].startsWith("2024-05-01T10:00:00.000Z,Event Time,"));
  assert.ok(text.includes(`"'=HYPERLINK(""http://x"",""y"")"`), "formula prefixed with ' and quotes doubled");
  assert.equal(csvCell("plain"), "plain");
  assert.equal(csvCell("a,b"), '"a,b"');
  assert.equal(csvCell("-1+1"), "'-1+1");
  assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvCell("line\nbreak"), '"line\nbreak"');
});

test("html: self-contained, every event value escaped, hostile script inert", () => {
  const html = render(report(), "html");
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.ok(!html.includes("<script"), "no script element, not even from the hostile host name");
  assert.ok(!/<img/i.test(html));
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  assert.ok(html.includes("Cmd &lt;b&gt;bold&lt;/b&gt;"), "rule names are escaped too");
  assert.ok(!/\b(src|href)=["']?(https?:|\/\/)/i.test(html), "no external assets");
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  for (const section of ["Rules with alerts", "Hosts", "Timeline per host", "Alert details", "Rules not run"])
    assert.ok(html.includes(section), section);
  assert.equal(escapeHtml(`<a href='x'>&"\``), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&#96;");
});

test("table: most severe first, per rule and per host, control characters neutralised", () => {
  const text = render(report(), "table");
  const rulesAt = text.indexOf("ALERTS PER RULE");
  const hostsAt = text.indexOf("ALERTS PER HOST");
  assert.ok(rulesAt >= 0 && hostsAt > rulesAt);
  const ruleLines = text.slice(rulesAt, hostsAt).split("\n").slice(2, 4);
  assert.match(ruleLines[0], /^high/);
  assert.match(ruleLines[1], /^low/);
  assert.match(text, /RULES NOT RUN/);
  assert.equal(terminalSafe("a\u001b[31mred\u0007"), "a?[31mred?");
});
