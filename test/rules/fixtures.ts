/** Small rule files and events written at test time. */
import { stringifyJson } from "../../src/events/json.js";
import type { EventRecord, JsonObject } from "../../src/events/types.js";

export interface RuleSpec {
  readonly ruleId?: string;
  readonly name?: string;
  readonly type?: string;
  readonly language?: string;
  readonly query?: string;
  readonly severity?: string;
  readonly riskScore?: number;
  /** Extra `[rule]` lines (TOML) appended before sub-tables. */
  readonly extra?: string;
  /** Sub-tables appended at the end (TOML). */
  readonly tables?: string;
}

let counter = 0;

/** A detection-rules TOML file. */
export function ruleToml(spec: RuleSpec): string {
  counter++;
  const id = spec.ruleId ?? `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`;
  const type = spec.type ?? "query";
  const language = spec.language ?? (type === "eql" ? "eql" : "kuery");
  return `[metadata]
creation_date = "2024/01/01"
maturity = "production"
updated_date = "2024/01/02"

[rule]
author = ["Quarry tests"]
description = "A test rule."
from = "now-9m"
index = ["logs-*"]
language = "${language}"
license = "Elastic License v2"
name = "${spec.name ?? `Test rule ${counter}`}"
risk_score = ${spec.riskScore ?? 47}
rule_id = "${id}"
severity = "${spec.severity ?? "medium"}"
tags = ["Domain: Endpoint", "OS: Windows"]
type = "${type}"
${spec.extra ?? ""}
query = '''
${spec.query ?? 'process.name : "cmd.exe"'}
'''

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1059"
name = "Command and Scripting Interpreter"
reference = "https://attack.mitre.org/techniques/T1059/"
[[rule.threat.technique.subtechnique]]
id = "T1059.003"
name = "Windows Command Shell"
reference = "https://attack.mitre.org/techniques/T1059/003/"
[rule.threat.tactic]
id = "TA0002"
name = "Execution"
reference = "https://attack.mitre.org/tactics/TA0002/"
${spec.tables ?? ""}
`;
}

let seq = 0;

/** An EventRecord as the reader would produce it. */
export function event(source: JsonObject, id?: string, index = "test.ndjson"): EventRecord {
  seq++;
  return {
    source,
    raw: stringifyJson(source),
    index,
    id: id ?? String(seq),
    provenance: { file: index, line: seq },
    seq,
  };
}

export function proc(name: string, time: string, extra: JsonObject = {}): JsonObject {
  return {
    "@timestamp": time,
    event: { category: ["process"], type: ["start"], kind: "event" },
    host: { name: "host-a" },
    process: { name, pid: 100 },
    ...extra,
  };
}

export function ndjson(docs: readonly JsonObject[]): string {
  return `${docs.map((d) => JSON.stringify(d)).join("\n")}\n`;
}
