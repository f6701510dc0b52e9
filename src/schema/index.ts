/**
 * Field types, which change query semantics (keyword vs text vs wildcard, numbers, dates, ips).
 * Resolution order, as the handbook and issues fix it: an Elasticsearch mapping given by the user
 * (`--mapping FILE`), else the ECS field table, else inference as Elasticsearch's dynamic mapping would do
 * it (engines call `dynamicType` with the value they see).
 */
import { createRequire } from "node:module";
import type { JsonObject, JsonValue } from "../events/types.js";

export interface FieldInfo {
  /** The Elasticsearch type: keyword, text, match_only_text, wildcard, long, date, ip, nested, ... */
  readonly type: string;
  /** For an `alias` field: the concrete field it points to. */
  readonly aliasOf?: string;
  /** Sub-fields declared under `fields` (e.g. `keyword` for dynamic strings). Name -> type. */
  readonly subFields?: Readonly<Record<string, string>>;
  /** Keyword values longer than this are not indexed (term, wildcard and exists do not see them). */
  readonly ignoreAbove?: number;
  /**
   * A keyword normalizer applied to values and query terms alike (`lowercase` for Elastic Defend's
   * `.caseless` multi-fields: they compare case-insensitively).
   */
  readonly normalizer?: string;
  /** The mapping's `null_value`: indexed in place of an explicit `null` (never of a missing field). */
  readonly nullValue?: JsonValue;
  /** For date fields: the mapping's `format` (`||`-separated; default `strict_date_optional_time||epoch_millis`). */
  readonly format?: string;
}

export interface Schema {
  /** Type information for a concrete field path, with aliases resolved. */
  lookup(field: string): FieldInfo | undefined;
  /** The concrete field an alias points to, or the field itself. */
  resolveAlias(field: string): string;
  /** Every field path the schema knows (for wildcard field names and did-you-mean). */
  fieldNames(): readonly string[];
}

const require = createRequire(import.meta.url);

class TableSchema implements Schema {
  constructor(
    private readonly table: ReadonlyMap<string, FieldInfo>,
    /** Full information about multi-fields that are not table entries (normalizers), by full path. */
    private readonly subInfo: ReadonlyMap<string, FieldInfo> = new Map(),
  ) {}
  lookup(field: string): FieldInfo | undefined {
    const info = this.table.get(field);
    if (info?.type === "alias" && info.aliasOf) return this.table.get(info.aliasOf) ?? info;
    if (info) return info;
    // `foo.keyword` style sub-field of a mapped field.
    const dot = field.lastIndexOf(".");
    if (dot > 0) {
      const parent = this.table.get(field.slice(0, dot));
      const sub = parent?.subFields?.[field.slice(dot + 1)];
      if (sub) return this.subInfo.get(field) ?? { type: sub };
    }
    return undefined;
  }
  resolveAlias(field: string): string {
    const info = this.table.get(field);
    return info?.type === "alias" && info.aliasOf ? info.aliasOf : field;
  }
  fieldNames(): readonly string[] {
    return [...this.table.keys()];
  }
}

let ecs: Schema | undefined;

/**
 * Fields that Elastic Defend's (endpoint package) mappings give a `caseless` multi-field: a keyword with
 * the `lowercase` normalizer, which detection rules use for case-insensitive matches
 * (`process.name.caseless : "powershell.exe"`). ECS itself does not define them, so the ECS table alone
 * would call them unknown; they read their parent's value.
 */
export const CASELESS_FIELDS: readonly string[] = [
  "dll.name",
  "dll.path",
  "file.name",
  "file.path",
  "file.target_path",
  "process.command_line",
  "process.executable",
  "process.name",
  "process.parent.command_line",
  "process.parent.executable",
  "process.parent.name",
  "process.working_directory",
];

/**
 * The ECS 9.4 field table committed in src/schema/ecs-types.json, with its multi-fields (`*.text`,
 * listed in the table as their own entries) declared on their parents too, and the `caseless`
 * multi-fields of CASELESS_FIELDS.
 */
export function ecsSchema(): Schema {
  if (!ecs) {
    const data = require("./ecs-types.json") as { fields: Record<string, string> };
    const table = new Map<string, FieldInfo>();
    for (const [name, type] of Object.entries(data.fields)) table.set(name, { type });
    const subs = new Map<string, Record<string, string>>();
    const addSub = (parent: string, name: string, type: string) => {
      let m = subs.get(parent);
      if (!m) subs.set(parent, (m = {}));
      m[name] = type;
    };
    for (const [name, type] of Object.entries(data.fields)) {
      const dot = name.lastIndexOf(".");
      if (dot > 0 && name.endsWith(".text") && table.has(name.slice(0, dot)))
        addSub(name.slice(0, dot), "text", type);
    }
    const subInfo = new Map<string, FieldInfo>();
    for (const parent of CASELESS_FIELDS) {
      if (!table.has(parent)) continue;
      addSub(parent, "caseless", "keyword");
      subInfo.set(`${parent}.caseless`, { type: "keyword", normalizer: "lowercase" });
    }
    for (const [parent, subFields] of subs) table.set(parent, { ...table.get(parent)!, subFields });
    ecs = new TableSchema(table, subInfo);
  }
  return ecs;
}

/**
 * Parse an Elasticsearch mapping: `{"mappings": {"properties": ...}}`, `{"properties": ...}`, or the
 * `.mapping` files of Elasticsearch's EQL suites (lines starting with `#` are comments).
 * `randomKeywordType` replaces the suites' `[runtime_random_keyword_type]` placeholder.
 */
export function parseMapping(text: string, randomKeywordType = "keyword"): Schema {
  const cleaned = text
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replaceAll("[runtime_random_keyword_type]", randomKeywordType);
  const json = JSON.parse(cleaned) as JsonObject;
  let root: JsonValue = json;
  // Accept `{index: {mappings: ...}}` from GET _mapping too.
  if (isObject(root) && !("properties" in root) && !("mappings" in root)) {
    const values = Object.values(root);
    if (values.length === 1 && isObject(values[0]) && "mappings" in values[0]) root = values[0];
  }
  if (isObject(root) && isObject(root.mappings)) root = root.mappings;
  const table = new Map<string, FieldInfo>();
  if (isObject(root) && isObject(root.properties)) walkProperties(root.properties, "", table);
  if (isObject(root) && isObject(root.runtime)) {
    for (const [name, def] of Object.entries(root.runtime)) {
      if (isObject(def) && typeof def.type === "string") table.set(name, { type: def.type });
    }
  }
  return new TableSchema(table);
}

function walkProperties(props: JsonObject, prefix: string, table: Map<string, FieldInfo>): void {
  for (const [name, def] of Object.entries(props)) {
    if (!isObject(def)) continue;
    const path = prefix + name;
    const type = typeof def.type === "string" ? def.type : isObject(def.properties) ? "object" : "object";
    const info: { -readonly [K in keyof FieldInfo]: FieldInfo[K] } = { type };
    if (type === "alias" && typeof def.path === "string") info.aliasOf = def.path;
    if (typeof def.ignore_above === "number") info.ignoreAbove = def.ignore_above;
    if (typeof def.normalizer === "string") info.normalizer = def.normalizer;
    if (def.null_value !== undefined && def.null_value !== null) info.nullValue = def.null_value;
    if (typeof def.format === "string") info.format = def.format;
    if (isObject(def.fields)) {
      const subs: Record<string, string> = {};
      for (const [sub, subDef] of Object.entries(def.fields)) {
        if (isObject(subDef) && typeof subDef.type === "string") {
          subs[sub] = subDef.type;
          const subInfo: { -readonly [K in keyof FieldInfo]: FieldInfo[K] } = { type: subDef.type };
          if (typeof subDef.normalizer === "string") subInfo.normalizer = subDef.normalizer;
          if (typeof subDef.ignore_above === "number") subInfo.ignoreAbove = subDef.ignore_above;
          table.set(`${path}.${sub}`, subInfo);
        }
      }
      info.subFields = subs;
    }
    table.set(path, info);
    if (isObject(def.properties)) walkProperties(def.properties, `${path}.`, table);
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** First schema that knows a field wins; aliases resolve through the first schema that declares them. */
export function layeredSchema(...schemas: readonly Schema[]): Schema {
  return {
    lookup(field) {
      for (const s of schemas) {
        const info = s.lookup(field);
        if (info) return info;
      }
      return undefined;
    },
    resolveAlias(field) {
      for (const s of schemas) {
        const resolved = s.resolveAlias(field);
        if (resolved !== field) return resolved;
      }
      return field;
    },
    fieldNames() {
      return [...new Set(schemas.flatMap((s) => s.fieldNames()))];
    },
  };
}

/**
 * The type Elasticsearch's dynamic mapping would give a field first seen with this value: strings become
 * `text` with a `keyword` sub-field (ignore_above 256), except strings that look like dates; whole numbers
 * `long`, fractions `float`, booleans `boolean`.
 */
export function dynamicType(value: JsonValue): FieldInfo {
  switch (typeof value) {
    case "string":
      return /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.,]+)?(?:Z|[+-]\d{2}:?\d{2})?$/.test(value)
        ? { type: "date" }
        : { type: "text", subFields: { keyword: "keyword" }, ignoreAbove: 256 };
    case "number":
      return Number.isInteger(value) ? { type: "long" } : { type: "float" };
    case "bigint":
      return { type: "long" };
    case "boolean":
      return { type: "boolean" };
    default:
      return { type: "object" };
  }
}
