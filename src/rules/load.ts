/**
 * Loading detection-rules TOML files and folders unchanged, with a real TOML 1.0 parser (smol-toml).
 * Every problem is reported per file with `file:line:column` when the parser gives a position; a broken
 * file never stops the others from loading.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse, TomlError } from "smol-toml";
import type { JsonObject, JsonValue } from "../events/types.js";
import {
  type AlertSeverity,
  type DetectionRule,
  type ExceptionListReference,
  type MitreReference,
  type MitreTechnique,
  type RequiredField,
  type RuleLoadError,
  SEVERITIES,
  type ThreatMapping,
  type ThreatMatchMapping,
  type ThresholdSpec,
} from "./types.js";

/** A TOML table as smol-toml returns it. */
type Table = Record<string, unknown>;

const isTable = (v: unknown): v is Table =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Rule files larger than this are refused (the corpus's largest is well under 100 KiB). */
const MAX_RULE_FILE_BYTES = 4 * 1024 * 1024;

export interface RuleFileResult {
  readonly rules: DetectionRule[];
  readonly errors: RuleLoadError[];
  /** Rule files read (TOML files found). */
  readonly files: number;
}

class RuleFieldError extends Error {}

/** Parse one rule file's text. Returns the rule or the errors that stopped it. */
export function parseRuleText(
  text: string,
  file: string,
  options: { explicit?: boolean; pack?: string } = {},
): { rule?: DetectionRule; errors: RuleLoadError[] } {
  const explicit = options.explicit ?? false;
  let doc: Table;
  try {
    doc = parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, {
      maxDepth: 64,
    }) as Table;
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      return {
        errors: [
          {
            code: "RULE201",
            file,
            line: error.line,
            column: error.column,
            message: `not valid TOML: ${firstLine}`,
            explicit,
          },
        ],
      };
    }
    return {
      errors: [{ code: "RULE201", file, message: `not valid TOML: ${(error as Error).message}`, explicit }],
    };
  }
  try {
    return { rule: buildRule(doc, text, file, options.pack), errors: [] };
  } catch (error) {
    if (error instanceof RuleFieldError) {
      return { errors: [{ code: "RULE202", file, message: error.message, explicit }] };
    }
    throw error;
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new RuleFieldError(`missing ${what}`);
  return value;
}

function str(table: Table, key: string, where: string): string | undefined {
  const v = table[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new RuleFieldError(`${where}.${key} must be a string`);
  return v;
}

function num(table: Table, key: string, where: string): number | undefined {
  const v = table[key];
  if (v === undefined) return undefined;
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new RuleFieldError(`${where}.${key} must be a number`);
  return v;
}

function strList(table: Table, key: string, where: string): string[] {
  const v = table[key];
  if (v === undefined) return [];
  if (typeof v === "string") return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
    throw new RuleFieldError(`${where}.${key} must be a list of strings`);
  return v as string[];
}

function tables(table: Table, key: string, where: string): Table[] {
  const v = table[key];
  if (v === undefined) return [];
  if (isTable(v)) return [v];
  if (!Array.isArray(v) || v.some((x) => !isTable(x)))
    throw new RuleFieldError(`${where}.${key} must be an array of tables`);
  return v as Table[];
}

/** TOML values as JSON values (dates as ISO text), for filters and metadata. */
export function tomlToJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(tomlToJson);
  if (typeof value === "object") {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value as Table)) out[k] = tomlToJson(v);
    return out;
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return value;
  return String(value);
}

function mitre(t: Table, where: string): MitreReference {
  return {
    id: str(t, "id", where) ?? "",
    name: str(t, "name", where) ?? "",
    reference: str(t, "reference", where) ?? "",
  };
}

function parseThreat(rule: Table): ThreatMapping[] {
  return tables(rule, "threat", "rule").map((t) => {
    const tactic = t.tactic;
    return {
      framework: str(t, "framework", "rule.threat") ?? "MITRE ATT&CK",
      tactic: isTable(tactic) ? mitre(tactic, "rule.threat.tactic") : { id: "", name: "", reference: "" },
      technique: tables(t, "technique", "rule.threat").map(
        (tech): MitreTechnique => ({
          ...mitre(tech, "rule.threat.technique"),
          subtechnique: tables(tech, "subtechnique", "rule.threat.technique").map((s) =>
            mitre(s, "rule.threat.technique.subtechnique"),
          ),
        }),
      ),
    };
  });
}

function parseThreshold(rule: Table): ThresholdSpec | undefined {
  const t = rule.threshold;
  if (t === undefined) return undefined;
  if (!isTable(t)) throw new RuleFieldError("rule.threshold must be a table");
  const value = need(num(t, "value", "rule.threshold"), "rule.threshold.value");
  return {
    field: strList(t, "field", "rule.threshold"),
    value,
    cardinality: tables(t, "cardinality", "rule.threshold").map((c) => ({
      field: need(str(c, "field", "rule.threshold.cardinality"), "rule.threshold.cardinality.field"),
      value: need(num(c, "value", "rule.threshold.cardinality"), "rule.threshold.cardinality.value"),
    })),
  };
}

/**
 * New-terms parameters: the detection-rules layout (`[rule.new_terms]` with `field = "new_terms_fields"`
 * and `[[rule.new_terms.history_window_start]]`) and Kibana's flat `new_terms_fields` /
 * `history_window_start` are both accepted.
 */
function parseNewTerms(rule: Table): { fields?: string[]; historyWindowStart?: string } {
  let fields: string[] | undefined =
    rule.new_terms_fields !== undefined ? strList(rule, "new_terms_fields", "rule") : undefined;
  let history = str(rule, "history_window_start", "rule");
  const nt = rule.new_terms;
  if (isTable(nt)) {
    if (nt.field === "new_terms_fields" || nt.field === undefined)
      fields = strList(nt, "value", "rule.new_terms");
    for (const h of tables(nt, "history_window_start", "rule.new_terms")) {
      if (h.field === "history_window_start" || h.field === undefined)
        history = str(h, "value", "rule.new_terms.history_window_start");
    }
  }
  return { fields, historyWindowStart: history };
}

function parseThreatMapping(rule: Table): ThreatMatchMapping[] | undefined {
  if (rule.threat_mapping === undefined) return undefined;
  return tables(rule, "threat_mapping", "rule").map((m) => ({
    entries: tables(m, "entries", "rule.threat_mapping").map((e) => {
      const type = str(e, "type", "rule.threat_mapping.entries") ?? "mapping";
      if (type !== "mapping")
        throw new RuleFieldError(`rule.threat_mapping.entries.type must be "mapping" (got "${type}")`);
      return {
        field: need(str(e, "field", "rule.threat_mapping.entries"), "rule.threat_mapping.entries.field"),
        type: "mapping" as const,
        value: need(str(e, "value", "rule.threat_mapping.entries"), "rule.threat_mapping.entries.value"),
      };
    }),
  }));
}

function parseExceptionsList(rule: Table): ExceptionListReference[] {
  return tables(rule, "exceptions_list", "rule").map((e) => ({
    id: str(e, "id", "rule.exceptions_list") ?? "",
    listId: str(e, "list_id", "rule.exceptions_list") ?? str(e, "id", "rule.exceptions_list") ?? "",
    namespaceType: str(e, "namespace_type", "rule.exceptions_list") ?? "single",
    type: str(e, "type", "rule.exceptions_list") ?? "detection",
  }));
}

function parseRequiredFields(rule: Table): RequiredField[] {
  return tables(rule, "required_fields", "rule").map((f) => ({
    name: need(str(f, "name", "rule.required_fields"), "rule.required_fields.name"),
    type: str(f, "type", "rule.required_fields") ?? "keyword",
    ecs: typeof f.ecs === "boolean" ? f.ecs : undefined,
  }));
}

/** 1-based line where the value of top-level-in-table key `query` starts, for diagnostics. */
export function findValueLine(text: string, key: string): number | undefined {
  const re = new RegExp(`^[ \\t]*${key}[ \\t]*=[ \\t]*('''|"""|'|")(\\r?\\n)?`, "m");
  const m = re.exec(text);
  if (!m) return undefined;
  let line = 1;
  const end = m.index + m[0].length;
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function buildRule(doc: Table, text: string, file: string, pack: string | undefined): DetectionRule {
  const rule = doc.rule;
  if (!isTable(rule)) throw new RuleFieldError("no [rule] table: not a detection-rules rule file");
  const metadata = isTable(doc.metadata) ? doc.metadata : {};
  const ruleId = need(str(rule, "rule_id", "rule"), "rule.rule_id");
  const name = need(str(rule, "name", "rule"), "rule.name");
  const type = need(str(rule, "type", "rule"), "rule.type");
  const severityText = (str(rule, "severity", "rule") ?? "low").toLowerCase();
  if (!SEVERITIES.includes(severityText as AlertSeverity))
    throw new RuleFieldError(`rule.severity must be low, medium, high or critical (got "${severityText}")`);
  const riskScore = num(rule, "risk_score", "rule") ?? 21;
  if (riskScore < 0 || riskScore > 100) throw new RuleFieldError("rule.risk_score must be between 0 and 100");
  const maxSignals = num(rule, "max_signals", "rule") ?? 100;
  if (!Number.isInteger(maxSignals) || maxSignals < 1)
    throw new RuleFieldError("rule.max_signals must be a positive integer");
  const query = str(rule, "query", "rule");
  const needsQuery = ["eql", "query", "threshold", "new_terms", "threat_match", "esql"];
  if (needsQuery.includes(type) && query === undefined)
    throw new RuleFieldError(`missing rule.query (required for ${type} rules)`);
  const newTerms = parseNewTerms(rule);
  const threshold = parseThreshold(rule);
  if (type === "threshold" && !threshold)
    throw new RuleFieldError("missing [rule.threshold] (threshold rule)");
  if (type === "new_terms" && (!newTerms.fields || newTerms.fields.length === 0))
    throw new RuleFieldError("missing new_terms_fields (new_terms rule)");
  const threatMapping = parseThreatMapping(rule);
  if (type === "threat_match" && (!threatMapping || threatMapping.length === 0))
    throw new RuleFieldError("missing [[rule.threat_mapping]] (threat_match rule)");
  const jsonTables = (key: string) => tables(rule, key, "rule").map((t) => tomlToJson(t) as JsonObject);
  return {
    ruleId,
    name,
    description: str(rule, "description", "rule") ?? "",
    type,
    language: str(rule, "language", "rule"),
    query,
    queryLine: query !== undefined ? findValueLine(text, "query") : undefined,
    index: strList(rule, "index", "rule"),
    riskScore,
    severity: severityText as AlertSeverity,
    tags: strList(rule, "tags", "rule"),
    threat: parseThreat(rule),
    buildingBlockType: str(rule, "building_block_type", "rule"),
    timestampOverride: str(rule, "timestamp_override", "rule"),
    timestampOverrideFallbackDisabled: rule.timestamp_override_fallback_disabled === true,
    eventCategoryOverride: str(rule, "event_category_override", "rule"),
    tiebreakerField: str(rule, "tiebreaker_field", "rule"),
    maxSignals,
    from: str(rule, "from", "rule") ?? "now-6m",
    interval: str(rule, "interval", "rule") ?? "5m",
    threshold,
    newTermsFields: newTerms.fields,
    historyWindowStart: newTerms.historyWindowStart,
    threatQuery: str(rule, "threat_query", "rule"),
    threatLanguage: str(rule, "threat_language", "rule"),
    threatMapping,
    threatIndex: rule.threat_index !== undefined ? strList(rule, "threat_index", "rule") : undefined,
    threatIndicatorPath: str(rule, "threat_indicator_path", "rule") ?? "threat.indicator",
    threatFilters: jsonTables("threat_filters"),
    filters: jsonTables("filters"),
    exceptionsList: parseExceptionsList(rule),
    requiredFields: parseRequiredFields(rule),
    note: str(rule, "note", "rule"),
    setup: str(rule, "setup", "rule"),
    references: strList(rule, "references", "rule"),
    author: strList(rule, "author", "rule"),
    license: str(rule, "license", "rule"),
    metadata: tomlToJson(metadata) as JsonObject,
    origin: pack !== undefined ? { file, pack } : { file },
  };
}

/** Every `*.toml` under a folder, sorted, recursively (hidden folders skipped). */
export function listTomlFiles(dir: string, skip?: (path: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = join(d, entry.name);
      if (skip?.(path)) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith(".toml")) out.push(path);
    }
  };
  walk(dir);
  return out;
}

/** Read and parse one rule file. */
export function loadRuleFile(
  path: string,
  options: { explicit?: boolean; pack?: string } = {},
): { rule?: DetectionRule; errors: RuleLoadError[] } {
  const explicit = options.explicit ?? false;
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_RULE_FILE_BYTES)
      return {
        errors: [
          {
            code: "RULE204",
            file: path,
            message: `rule file is ${size} bytes; the limit is ${MAX_RULE_FILE_BYTES}`,
            explicit,
          },
        ],
      };
    text = readFileSync(path, "utf8");
  } catch (error) {
    return {
      errors: [
        { code: "RULE204", file: path, message: `cannot read: ${(error as Error).message}`, explicit },
      ],
    };
  }
  return parseRuleText(text, path, options);
}

/**
 * Load rule files and folders. A file named directly is `explicit` (its errors are usage errors); files
 * found under a folder are reported and skipped. A second rule with an already loaded `rule_id` is an
 * error for the later file.
 */
export function loadRules(
  paths: readonly string[],
  options: { pack?: string; skip?: (path: string) => boolean } = {},
): RuleFileResult {
  const rules: DetectionRule[] = [];
  const errors: RuleLoadError[] = [];
  let files = 0;
  const seen = new Map<string, string>();
  const add = (path: string, explicit: boolean) => {
    files++;
    const r = loadRuleFile(path, { explicit, pack: options.pack });
    errors.push(...r.errors);
    if (!r.rule) return;
    const previous = seen.get(r.rule.ruleId);
    if (previous !== undefined) {
      errors.push({
        code: "RULE203",
        file: path,
        message: `rule_id ${r.rule.ruleId} is already used by ${previous}; this copy is skipped`,
        explicit,
      });
      return;
    }
    seen.set(r.rule.ruleId, path);
    rules.push(r.rule);
  };
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (error) {
      errors.push({
        code: "RULE204",
        file: path,
        message: `cannot read: ${(error as Error).message}`,
        explicit: true,
      });
      continue;
    }
    if (isDir) for (const f of listTomlFiles(path, options.skip)) add(f, false);
    else add(path, true);
  }
  return { rules, errors, files };
}
