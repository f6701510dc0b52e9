/**
 * Alert documents in the spirit of Elastic's `.alerts-security.alerts-*` index: the source event's fields
 * keep their shape, `event.kind` becomes `signal` (the original `event.*` values are kept under
 * `kibana.alert.original_event.*`), and the alert's own fields are written as flat dotted
 * `kibana.alert.*` keys, as the alert index stores them.
 */
import { createHash } from "node:crypto";
import { compileField, type FieldGetter } from "../events/field-access.js";
import { compareTimestamps, formatTimestamp, parseTimestamp, type Timestamp } from "../events/timestamp.js";
import type { EventRecord, JsonObject, JsonValue } from "../events/types.js";
import type { AlertSeverity, DetectionRule, ThreatMapping } from "./types.js";

/** A hit of one rule, before it becomes an alert document. */
export type RuleHit =
  | {
      readonly kind: "event";
      readonly event: EventRecord;
      /** The event's time for ordering and `original_time` (its `@timestamp`). */
      readonly time: Timestamp | undefined;
      /** threat_match and IOC rules: `threat.enrichments` entries. */
      readonly enrichments?: readonly JsonObject[];
      /** new_terms rules: the new term values. */
      readonly newTerms?: readonly JsonValue[];
    }
  | {
      readonly kind: "sequence";
      readonly events: readonly (EventRecord | null)[];
      readonly joinKeys: readonly JsonValue[];
      readonly time: Timestamp | undefined;
    }
  | {
      readonly kind: "threshold";
      readonly terms: readonly { readonly field: string; readonly value: JsonValue }[];
      readonly count: number;
      readonly cardinality: readonly { readonly field: string; readonly value: number }[];
      /** Earliest and latest event times in the group. */
      readonly time: Timestamp | undefined;
      readonly last: Timestamp | undefined;
      /** Up to 100 member events' `_index`/`_id`. */
      readonly members: readonly { readonly index: string; readonly id: string }[];
    };

/** An alert: the document, plus what outputs need without digging into it. */
export interface Alert {
  readonly doc: JsonObject;
  readonly ruleId: string;
  readonly ruleName: string;
  readonly ruleType: string;
  readonly severity: AlertSeverity;
  readonly riskScore: number;
  readonly reason: string;
  /** The hit's time (`kibana.alert.original_time`), when it has one. */
  readonly time: Timestamp | undefined;
  readonly hostName: string | undefined;
  readonly buildingBlock: boolean;
  /** `_index:_id` of the source events (ancestors). */
  readonly sources: readonly { readonly index: string; readonly id: string }[];
}

/** The order of a hunt's alerts: by time (timeless last), then rule id. Sorts using it must be stable. */
export function compareAlerts(a: Alert, b: Alert): number {
  return (
    (a.time && b.time ? compareTimestamps(a.time, b.time) : a.time ? -1 : b.time ? 1 : 0) ||
    (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0)
  );
}

const get = (path: string): FieldGetter => compileField(path);
const F = {
  ts: get("@timestamp"),
  category: get("event.category"),
  processName: get("process.name"),
  parentName: get("process.parent.name"),
  fileName: get("file.name"),
  sourceAddress: get("source.address"),
  sourceIp: get("source.ip"),
  sourcePort: get("source.port"),
  destAddress: get("destination.address"),
  destIp: get("destination.ip"),
  destPort: get("destination.port"),
  userName: get("user.name"),
  hostName: get("host.name"),
};

function first(doc: JsonObject, g: FieldGetter): string | undefined {
  const v = g(doc)[0];
  if (v === undefined || (typeof v === "object" && v !== null)) return undefined;
  return String(v);
}

/**
 * Kibana's reason text: "<category> event with process P, parent process Q, file F, source A:port,
 * destination B:port, by U on H created <severity> alert <rule>." (parts present in the event only).
 */
export function buildReason(doc: JsonObject, rule: DetectionRule, kind = "event"): string {
  const parts: string[] = [];
  const categories = F.category(doc).filter((v): v is string => typeof v === "string");
  const what = categories.length > 0 ? `${categories.join(", ")} event` : kind;
  const process = first(doc, F.processName);
  if (process) parts.push(`process ${process}`);
  const parent = first(doc, F.parentName);
  if (parent) parts.push(`parent process ${parent}`);
  const file = first(doc, F.fileName);
  if (file) parts.push(`file ${file}`);
  const src = first(doc, F.sourceAddress) ?? first(doc, F.sourceIp);
  if (src) {
    const p = first(doc, F.sourcePort);
    parts.push(`source ${src}${p ? `:${p}` : ""}`);
  }
  const dst = first(doc, F.destAddress) ?? first(doc, F.destIp);
  if (dst) {
    const p = first(doc, F.destPort);
    parts.push(`destination ${dst}${p ? `:${p}` : ""}`);
  }
  let text = what;
  if (parts.length > 0) text += ` with ${parts.join(", ")}`;
  const user = first(doc, F.userName);
  if (user) text += `${parts.length > 0 ? "," : ""} by ${user}`;
  const host = first(doc, F.hostName);
  if (host) text += ` on ${host}`;
  return `${text} created ${rule.severity} alert ${rule.name}.`;
}

function threatJson(threat: readonly ThreatMapping[]): JsonValue {
  return threat.map((t) => ({
    framework: t.framework,
    tactic: { id: t.tactic.id, name: t.tactic.name, reference: t.tactic.reference },
    technique: t.technique.map((tech) => ({
      id: tech.id,
      name: tech.name,
      reference: tech.reference,
      subtechnique: tech.subtechnique.map((s) => ({ id: s.id, name: s.name, reference: s.reference })),
    })),
  }));
}

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The event object and flat `event.*` keys get `kind: signal`; their old values go to original_event. */
function markSignal(doc: JsonObject, out: JsonObject): void {
  const original: [string, JsonValue][] = [];
  if (isObject(doc.event)) {
    for (const [k, v] of Object.entries(doc.event)) original.push([k, v]);
    out.event = { ...doc.event, kind: "signal" };
  } else if (!("event.kind" in doc)) {
    out.event = { kind: "signal" };
  }
  for (const [k, v] of Object.entries(doc)) {
    if (k.startsWith("event.")) original.push([k.slice(6), v]);
  }
  if ("event.kind" in doc) out["event.kind"] = "signal";
  for (const [k, v] of original) out[`kibana.alert.original_event.${k}`] = v;
}

/** Fields on which every document agrees (Kibana's intersection for a sequence's shell alert). */
export function intersectDocuments(docs: readonly JsonObject[]): JsonObject {
  if (docs.length === 0) return {};
  const [head, ...rest] = docs;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(head)) {
    const others = rest.map((d) => (Object.hasOwn(d, k) ? d[k] : undefined));
    if (others.some((o) => o === undefined)) continue;
    if (isObject(v)) {
      if (!others.every(isObject)) continue;
      const sub = intersectDocuments([v, ...(others as JsonObject[])]);
      if (Object.keys(sub).length > 0) out[k] = sub;
    } else {
      const text = JSON.stringify(v, bigintReplacer);
      if (others.every((o) => JSON.stringify(o, bigintReplacer) === text)) out[k] = v;
    }
  }
  return out;
}

const bigintReplacer = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}n` : v);

/** Set a dotted path as nested objects (threshold terms keep ECS shape). */
function setPath(doc: JsonObject, path: string, value: JsonValue): void {
  const parts = path.split(".");
  let node = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = node[parts[i]];
    if (isObject(next)) node = next;
    else {
      const created: JsonObject = {};
      node[parts[i]] = created;
      node = created;
    }
  }
  node[parts[parts.length - 1]] = value;
}

function originalTime(event: EventRecord): JsonValue | undefined {
  const v = F.ts(event.source)[0];
  if (typeof v === "string") return v;
  const t = parseTimestamp(v);
  return t ? formatTimestamp(t) : undefined;
}

function alertUuid(ruleId: string, sources: readonly { index: string; id: string }[], extra = ""): string {
  const h = createHash("sha256");
  h.update(ruleId);
  for (const s of sources) h.update(`\u0000${s.index}\u0000${s.id}`);
  h.update(extra);
  return h.digest("hex");
}

/**
 * Build the alert for one hit. `executionTime` is the rule run's "now" (Kibana writes the alert's
 * `@timestamp` as the time the rule ran; the event's own time is `kibana.alert.original_time`).
 */
export function buildAlert(rule: DetectionRule, hit: RuleHit, executionTime: Timestamp | undefined): Alert {
  let doc: JsonObject;
  let sources: { index: string; id: string }[];
  let base: JsonObject;
  let origTime: JsonValue | undefined;
  let groupKey = "";
  switch (hit.kind) {
    case "event": {
      base = hit.event.source;
      sources = [{ index: hit.event.index, id: hit.event.id }];
      origTime = originalTime(hit.event);
      break;
    }
    case "sequence": {
      const members = hit.events.filter((e): e is EventRecord => e !== null);
      base = intersectDocuments(members.map((e) => e.source));
      sources = members.map((e) => ({ index: e.index, id: e.id }));
      origTime = members.length > 0 ? originalTime(members[0]) : undefined;
      break;
    }
    case "threshold": {
      base = {};
      for (const t of hit.terms) setPath(base, t.field, t.value);
      sources = [...hit.members];
      origTime = hit.time ? formatTimestamp(hit.time) : undefined;
      groupKey = JSON.stringify(hit.terms, bigintReplacer);
      break;
    }
    default: {
      const never: never = hit;
      throw new Error(`unknown hit ${JSON.stringify(never)}`);
    }
  }
  doc = {};
  const execIso = executionTime ? formatTimestamp(executionTime) : new Date(0).toISOString();
  doc["@timestamp"] = execIso;
  for (const [k, v] of Object.entries(base)) if (k !== "@timestamp") doc[k] = v;
  markSignal(base, doc);
  if (hit.kind === "event" && hit.enrichments && hit.enrichments.length > 0) {
    const threat = isObject(base.threat) ? base.threat : {};
    const existing = Array.isArray(threat.enrichments) ? threat.enrichments : [];
    doc.threat = { ...threat, enrichments: [...existing, ...hit.enrichments] };
  }
  const reason = buildReason(
    hit.kind === "threshold" ? doc : base,
    rule,
    hit.kind === "sequence" ? "sequence" : "event",
  );
  const uuid = alertUuid(rule.ruleId, sources, groupKey);
  const k = (key: string, value: JsonValue | undefined) => {
    if (value !== undefined) doc[`kibana.alert.${key}`] = value;
  };
  k("uuid", uuid);
  k("status", "active");
  k("workflow_status", "open");
  k("depth", 1);
  k("severity", rule.severity);
  k("risk_score", rule.riskScore);
  k("reason", reason);
  k("original_time", origTime);
  k(
    "ancestors",
    sources.map((s) => ({ id: s.id, type: "event", index: s.index, depth: 0 })),
  );
  if (rule.buildingBlockType) k("building_block_type", rule.buildingBlockType);
  k("rule.name", rule.name);
  k("rule.rule_id", rule.ruleId);
  k("rule.uuid", rule.ruleId);
  k("rule.type", rule.type);
  k("rule.description", rule.description);
  k("rule.severity", rule.severity);
  k("rule.risk_score", rule.riskScore);
  k("rule.tags", [...rule.tags]);
  k("rule.threat", threatJson(rule.threat));
  k("rule.from", rule.from);
  k("rule.interval", rule.interval);
  k("rule.max_signals", rule.maxSignals);
  if (rule.origin.pack) k("rule.pack", rule.origin.pack);
  if (hit.kind === "sequence") {
    k("group.id", uuid);
    k("sequence.join_keys", [...hit.joinKeys]);
    k("sequence.events", hit.events.length);
  }
  if (hit.kind === "event" && hit.newTerms) k("new_terms", [...hit.newTerms]);
  if (hit.kind === "threshold") {
    k("threshold_result", {
      terms: hit.terms.map((t) => ({ field: t.field, value: t.value })),
      count: hit.count,
      from: origTime ?? null,
      ...(hit.cardinality.length > 0
        ? { cardinality: hit.cardinality.map((c) => ({ field: c.field, value: c.value })) }
        : {}),
    });
  }
  const host = first(doc, F.hostName);
  return {
    doc,
    ruleId: rule.ruleId,
    ruleName: rule.name,
    ruleType: rule.type,
    severity: rule.severity,
    riskScore: rule.riskScore,
    reason,
    time: hit.time,
    hostName: host,
    buildingBlock: rule.buildingBlockType !== undefined,
    sources,
  };
}
