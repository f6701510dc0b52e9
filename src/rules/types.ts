/**
 * The model of a detection rule as Elastic's detection-rules repository writes it (`[metadata]` + `[rule]`
 * TOML), plus the IOC-list rules that packs and `--iocs` add. Loaders produce `DetectionRule`; the hunt
 * engine compiles it; outputs read it for alert fields.
 */
import type { JsonObject } from "../events/types.js";

/** Kibana's alert severities, least to most severe. */
export type AlertSeverity = "low" | "medium" | "high" | "critical";
export const SEVERITIES: readonly AlertSeverity[] = ["low", "medium", "high", "critical"];

export function severityRank(severity: string): number {
  return SEVERITIES.indexOf(severity as AlertSeverity);
}

/** Rule types Quarry runs. `ioc` is Quarry's own: an IOC list that alerts like a rule. */
export type RunnableRuleType = "eql" | "query" | "threshold" | "new_terms" | "threat_match" | "ioc";
/** Rule types that are loaded and listed but not run (with a reason). */
export type NotRunRuleType = "esql" | "machine_learning";
export type RuleType = RunnableRuleType | NotRunRuleType | "saved_query";

export interface MitreReference {
  readonly id: string;
  readonly name: string;
  readonly reference: string;
}

export interface MitreTechnique extends MitreReference {
  readonly subtechnique: readonly MitreReference[];
}

/** One `[[rule.threat]]` entry: a MITRE ATT&CK tactic and its techniques. */
export interface ThreatMapping {
  readonly framework: string;
  readonly tactic: MitreReference;
  readonly technique: readonly MitreTechnique[];
}

export interface ThresholdCardinality {
  readonly field: string;
  readonly value: number;
}

export interface ThresholdSpec {
  /** Group-by fields; empty means one group over all events. */
  readonly field: readonly string[];
  readonly value: number;
  readonly cardinality: readonly ThresholdCardinality[];
}

export interface ThreatMappingEntry {
  /** The source event's field. */
  readonly field: string;
  readonly type: "mapping";
  /** The indicator document's field. */
  readonly value: string;
}

/** One `[[rule.threat_mapping]]`: its entries must all match (AND); mappings are alternatives (OR). */
export interface ThreatMatchMapping {
  readonly entries: readonly ThreatMappingEntry[];
}

export interface ExceptionListReference {
  readonly id: string;
  readonly listId: string;
  readonly namespaceType: string;
  readonly type: string;
}

export interface RequiredField {
  readonly name: string;
  readonly type: string;
  readonly ecs?: boolean;
}

/** Where a rule came from: the file as given, and for pack rules the pack. */
export interface RuleOrigin {
  readonly file: string;
  readonly pack?: string;
}

export interface DetectionRule {
  readonly ruleId: string;
  readonly name: string;
  readonly description: string;
  /** The `[rule] type` as written (`eql`, `query`, ...); `ioc` for IOC-list rules. */
  readonly type: string;
  readonly language?: string;
  readonly query?: string;
  /** 1-based line of the query's first character in `origin.file` (for diagnostics). */
  readonly queryLine?: number;
  readonly index: readonly string[];
  readonly riskScore: number;
  readonly severity: AlertSeverity;
  readonly tags: readonly string[];
  readonly threat: readonly ThreatMapping[];
  readonly buildingBlockType?: string;
  readonly timestampOverride?: string;
  /** Kibana's `timestamp_override_fallback_disabled`: when true, no fallback to `@timestamp`. */
  readonly timestampOverrideFallbackDisabled: boolean;
  readonly eventCategoryOverride?: string;
  readonly tiebreakerField?: string;
  /** Kibana's default is 100. */
  readonly maxSignals: number;
  /** Lookback as date math, e.g. `now-6m` (Kibana's default). */
  readonly from: string;
  /** Schedule interval, e.g. `5m` (Kibana's default). */
  readonly interval: string;
  readonly threshold?: ThresholdSpec;
  readonly newTermsFields?: readonly string[];
  /** Date math, e.g. `now-14d`. */
  readonly historyWindowStart?: string;
  readonly threatQuery?: string;
  readonly threatLanguage?: string;
  readonly threatMapping?: readonly ThreatMatchMapping[];
  readonly threatIndex?: readonly string[];
  /** Default `threat.indicator`. */
  readonly threatIndicatorPath: string;
  /** Kibana filters (query DSL) applied to the indicator documents. */
  readonly threatFilters: readonly JsonObject[];
  /** Kibana filters (query DSL) applied to the source events, ANDed with the query. */
  readonly filters: readonly JsonObject[];
  readonly exceptionsList: readonly ExceptionListReference[];
  readonly requiredFields: readonly RequiredField[];
  readonly note?: string;
  readonly setup?: string;
  readonly references: readonly string[];
  readonly author: readonly string[];
  readonly license?: string;
  /** `[metadata]` as written (creation_date, maturity, updated_date, ...). */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly origin: RuleOrigin;
}

/** A rule file (or part of one) that could not be loaded. */
export interface RuleLoadError {
  /** Stable code (docs/errors/rules.md): RULE201 TOML syntax, RULE202 field, RULE203 duplicate rule_id, ... */
  readonly code?: string;
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
  /** True when the file was named directly (not found by walking a folder): a usage error. */
  readonly explicit: boolean;
}

export function formatRuleLoadError(error: RuleLoadError): string {
  const at =
    error.line !== undefined ? `:${error.line}${error.column !== undefined ? `:${error.column}` : ""}` : "";
  return `${error.file}${at}: ${error.code ? `[${error.code}] ` : ""}${error.message}`;
}
