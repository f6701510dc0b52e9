import assert from "node:assert/strict";
import { test } from "node:test";
import { loadRules, parseRuleText } from "../../src/rules/load.js";
import { formatRuleLoadError } from "../../src/rules/types.js";
import { tempDir } from "../helpers/tmp.js";
import { ruleToml } from "./fixtures.js";

test("a detection-rules file loads with every field the model keeps", () => {
  const text = ruleToml({
    ruleId: "11111111-2222-4333-8444-555555555555",
    name: "Threshold test",
    type: "threshold",
    severity: "high",
    riskScore: 73,
    query: "event.category:authentication and event.outcome:failure",
    extra: `timestamp_override = "event.ingested"
max_signals = 5
interval = "10m"
building_block_type = "default"
note = "triage"
setup = "setup text"
references = ["https://example.invalid/"]`,
    tables: `[rule.threshold]
field = ["host.id", "user.name"]
value = 10
[[rule.threshold.cardinality]]
field = "source.ip"
value = 3

[[rule.exceptions_list]]
id = "endpoint_list"
list_id = "endpoint_list"
namespace_type = "agnostic"
type = "endpoint"

[[rule.required_fields]]
name = "host.id"
type = "keyword"
ecs = true`,
  });
  const { rule, errors } = parseRuleText(text, "t.toml");
  assert.deepEqual(errors, []);
  assert.ok(rule);
  assert.equal(rule.ruleId, "11111111-2222-4333-8444-555555555555");
  assert.equal(rule.type, "threshold");
  assert.equal(rule.severity, "high");
  assert.equal(rule.riskScore, 73);
  assert.equal(rule.maxSignals, 5);
  assert.equal(rule.from, "now-9m");
  assert.equal(rule.interval, "10m");
  assert.equal(rule.timestampOverride, "event.ingested");
  assert.equal(rule.buildingBlockType, "default");
  assert.equal(rule.note, "triage");
  assert.equal(rule.setup, "setup text");
  assert.deepEqual(rule.threshold, {
    field: ["host.id", "user.name"],
    value: 10,
    cardinality: [{ field: "source.ip", value: 3 }],
  });
  assert.deepEqual(rule.exceptionsList, [
    { id: "endpoint_list", listId: "endpoint_list", namespaceType: "agnostic", type: "endpoint" },
  ]);
  assert.deepEqual(rule.requiredFields, [{ name: "host.id", type: "keyword", ecs: true }]);
  assert.equal(rule.threat.length, 1);
  assert.equal(rule.threat[0].tactic.id, "TA0002");
  assert.equal(rule.threat[0].technique[0].subtechnique[0].id, "T1059.003");
  assert.equal(rule.metadata.maturity, "production");
  assert.equal(rule.query?.trim(), "event.category:authentication and event.outcome:failure");
  // The query starts on the line after `query = '''`.
  const queryLine = text.split("\n").findIndex((l) => l.startsWith("query = '''")) + 2;
  assert.equal(rule.queryLine, queryLine);
});

test("new_terms parameters load from the detection-rules layout", () => {
  const { rule } = parseRuleText(
    ruleToml({
      type: "new_terms",
      tables: `[rule.new_terms]
field = "new_terms_fields"
value = ["host.id", "user.name"]
[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "now-14d"`,
    }),
    "n.toml",
  );
  assert.deepEqual(rule?.newTermsFields, ["host.id", "user.name"]);
  assert.equal(rule?.historyWindowStart, "now-14d");
});

test("threat_match mappings and threat query load", () => {
  const { rule, errors } = parseRuleText(
    ruleToml({
      type: "threat_match",
      query: "source.ip:*",
      extra: `threat_query = "threat.indicator.ip:*"
threat_index = ["logs-ti_*"]
threat_indicator_path = "threat.indicator"`,
      tables: `[[rule.threat_mapping]]
[[rule.threat_mapping.entries]]
field = "source.ip"
type = "mapping"
value = "threat.indicator.ip"`,
    }),
    "tm.toml",
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(rule?.threatMapping, [
    { entries: [{ field: "source.ip", type: "mapping", value: "threat.indicator.ip" }] },
  ]);
  assert.equal(rule?.threatQuery, "threat.indicator.ip:*");
});

test("a TOML syntax error names file, line and column", () => {
  const { rule, errors } = parseRuleText('[rule]\nname = "x"\nrule_id = \n', "bad.toml");
  assert.equal(rule, undefined);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].line, 3);
  assert.ok(errors[0].column !== undefined);
  assert.match(formatRuleLoadError(errors[0]), /^bad\.toml:3:\d+: \[RULE201\] not valid TOML/);
});

test("missing and invalid fields are reported, not thrown", () => {
  assert.match(parseRuleText("[metadata]\n", "a.toml").errors[0].message, /no \[rule\] table/);
  assert.match(
    parseRuleText('[rule]\nname = "x"\ntype = "query"\n', "b.toml").errors[0].message,
    /rule\.rule_id/,
  );
  assert.match(
    parseRuleText(ruleToml({ severity: "urgent" }), "c.toml").errors[0].message,
    /severity must be low, medium, high or critical/,
  );
  assert.match(
    parseRuleText(ruleToml({ type: "threshold" }), "d.toml").errors[0].message,
    /missing \[rule\.threshold\]/,
  );
});

test("a folder loads every rule; a broken file is reported and the others still load", () => {
  const { dir, file } = tempDir();
  file("a.toml", ruleToml({ ruleId: "aaaaaaaa-0000-4000-8000-000000000001" }));
  file("b.toml", "this is = = not toml");
  file("c.toml", ruleToml({ ruleId: "aaaaaaaa-0000-4000-8000-000000000001" }));
  file("notes.txt", "ignored");
  const r = loadRules([dir]);
  assert.equal(r.files, 3);
  assert.equal(r.rules.length, 1);
  assert.equal(r.errors.length, 2);
  assert.ok(r.errors.every((e) => !e.explicit));
  assert.ok(r.errors.some((e) => /already used/.test(e.message)));
  const direct = loadRules([`${dir}/b.toml`]);
  assert.equal(direct.errors[0].explicit, true);
});
