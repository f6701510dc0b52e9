/**
 * KQL to Elasticsearch Query DSL, exactly as Kibana's `toElasticsearchQuery` builds it: no optimisation,
 * every `is`/`range` wrapped in `bool.should` (one clause per field the name resolves to), `and` as
 * `bool.filter` (or `must`), `or` as `bool.should` with `minimum_should_match: 1`, `not` as
 * `bool.must_not` holding one query object.
 */
import type { JsonObject, JsonValue } from "../events/types.js";
import {
  isLoneWildcard,
  type KqlNode,
  type KqlQuery,
  type LiteralValue,
  spanOf,
  type ValueNode,
} from "./ast.js";
import {
  getFields,
  getFullFieldNameNode,
  type KibanaDataView,
  type KibanaDataViewField,
  nestedPathOf,
  rawFieldName,
  translationError,
} from "./data-view.js";
import { parseKql } from "./parser.js";
import { fieldText, wildcardToElasticsearchQuery, wildcardToQueryStringQuery } from "./print.js";

export interface ToDslOptions {
  /** Kibana data view (field list). Without one, every field is unknown: `match`/`match_phrase`. */
  readonly dataView?: KibanaDataView;
  /** Kibana's `dateFormat:tz`: adds `time_zone` to date clauses (`"Browser"` is the local zone). */
  readonly dateFormatTZ?: string;
  /** Only used when `toDsl` is given query text to parse. */
  readonly allowLeadingWildcards?: boolean;
  /** When a boolean, copied to `case_insensitive` on keyword `term` and `wildcard` clauses. */
  readonly caseInsensitive?: boolean;
  /** `and` becomes `bool.must` instead of `bool.filter` (scoring). */
  readonly filtersInMustClause?: boolean;
  /** When a boolean, copied to `ignore_unmapped` on every `nested` query. */
  readonly nestedIgnoreUnmapped?: boolean;
  /** An enclosing nested group (field names get its path as prefix). */
  readonly context?: { readonly nested?: { readonly path: string } };
}

/**
 * Translate a parsed query (or query text) to Query DSL.
 *
 * @example toDsl("extension:jpg") // {bool:{should:[{match:{extension:"jpg"}}], minimum_should_match:1}}
 * @throws QuarryError (KQL001..KQL003 for text that does not parse, KQL010/KQL011 as Kibana throws)
 */
export function toDsl(query: KqlNode | string | null | undefined, options: ToDslOptions = {}): JsonObject {
  const node =
    typeof query === "string"
      ? parseKql(query, { allowLeadingWildcards: options.allowLeadingWildcards ?? true })
      : query;
  return nodeToDsl(node, options, options.context?.nested?.path);
}

/**
 * Kibana's `buildQueryFromKuery`: several queries ANDed into one bool query body
 * `{must, filter, should, must_not}`. Leading wildcards are refused unless allowed, as in Kibana.
 */
export function buildQueryFromKuery(
  dataView: KibanaDataView | undefined,
  queries: readonly string[],
  options: Omit<ToDslOptions, "dataView" | "context"> = {},
): { must: JsonValue[]; filter: JsonValue[]; should: JsonValue[]; must_not: JsonValue[] } {
  const asts = queries.map((q) =>
    parseKql(q, { allowLeadingWildcards: options.allowLeadingWildcards ?? false }),
  );
  const combined: KqlQuery = { type: "function", function: "and", arguments: asts };
  const dsl = toDsl(combined, { ...options, dataView });
  const bool = dsl.bool as Record<string, JsonValue[]>;
  return { must: [], filter: [], should: [], must_not: [], ...bool };
}

function nodeToDsl(
  node: KqlNode | null | undefined,
  options: ToDslOptions,
  nestedPath: string | undefined,
): JsonObject {
  const raw = node as { readonly type?: unknown } | null | undefined;
  if (!raw || (raw.type !== "function" && raw.type !== "literal" && raw.type !== "wildcard")) {
    return { bool: { filter: [] } };
  }
  const n = node as KqlNode;
  if (n.type !== "function") {
    // Kibana returns a bare value for literal and wildcard nodes; as a query body that is meaningless.
    throw translationError("only a function node translates to a query", spanOf(n), "KQL011");
  }
  switch (n.function) {
    case "is":
      return isToDsl(n.arguments[0], n.arguments[1], options, nestedPath);
    case "range":
      return rangeToDsl(n.arguments[0], n.arguments[1], n.arguments[2], options, nestedPath);
    case "exists":
      return existsToDsl(n.arguments[0], options, nestedPath);
    case "nested": {
      const [pathNode, child] = n.arguments;
      const path = fieldText(pathNode);
      const fullPath = nestedPath ? `${nestedPath}.${path}` : path;
      return {
        nested: {
          path: fullPath,
          query: nodeToDsl(child, options, fullPath),
          score_mode: "none",
          ...ignoreUnmapped(options),
        },
      };
    }
    case "and":
      return {
        bool: {
          [options.filtersInMustClause ? "must" : "filter"]: n.arguments.map((c) =>
            nodeToDsl(c, options, nestedPath),
          ),
        },
      };
    case "or":
      return {
        bool: { should: n.arguments.map((c) => nodeToDsl(c, options, nestedPath)), minimum_should_match: 1 },
      };
    case "not":
      return { bool: { must_not: nodeToDsl(n.arguments[0], options, nestedPath) } };
  }
}

function ignoreUnmapped(options: ToDslOptions): JsonObject {
  return typeof options.nestedIgnoreUnmapped === "boolean"
    ? { ignore_unmapped: options.nestedIgnoreUnmapped }
    : {};
}

function caseInsensitive(options: ToDslOptions): JsonObject {
  return typeof options.caseInsensitive === "boolean" ? { case_insensitive: options.caseInsensitive } : {};
}

/** The value Elasticsearch receives for a value node (`*` restored in wildcards). */
export function dslValueOf(node: ValueNode): LiteralValue {
  return node.type === "wildcard" ? wildcardToElasticsearchQuery(node) : node.value;
}

/** `time_zone` for a date clause: only with `dateFormatTZ`, and never for epoch values. */
function timeZoneParam(options: ToDslOptions, value: LiteralValue): JsonObject {
  if (!options.dateFormatTZ) return {};
  const isEpoch = typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value));
  return isEpoch ? {} : { time_zone: resolveTimeZoneSetting(options.dateFormatTZ) };
}

/** Kibana's `dateFormat:tz`: `Browser` means the local zone. */
export function resolveTimeZoneSetting(setting: string): string {
  return setting === "Browser" ? Intl.DateTimeFormat().resolvedOptions().timeZone : setting;
}

/** The fields a field node resolves to, or one raw placeholder field when the data view has none. */
function resolveFields(fullField: ValueNode, options: ToDslOptions): KibanaDataViewField[] {
  const fields = options.dataView ? getFields(fullField, options.dataView) : [];
  if (fields.length === 0) fields.push({ name: rawFieldName(fullField), type: "", scripted: false });
  return fields;
}

function isToDsl(
  fieldNode: ValueNode,
  valueNode: ValueNode,
  options: ToDslOptions,
  nestedPath: string | undefined,
): JsonObject {
  const isExists = isLoneWildcard(valueNode);
  if (isExists && isLoneWildcard(fieldNode)) return { match_all: {} };
  const fullField = getFullFieldNameNode(fieldNode, options.dataView, nestedPath);
  const value = dslValueOf(valueNode);
  const phrase = valueNode.type === "literal" && valueNode.isQuoted;
  if (fullField.type === "literal" && fullField.value === null) {
    if (valueNode.type === "wildcard")
      return { query_string: { query: wildcardToQueryStringQuery(valueNode) } };
    return { multi_match: { type: phrase ? "phrase" : "best_fields", query: value, lenient: true } };
  }
  const queries: JsonObject[] = [];
  for (const field of resolveFields(fullField, options)) {
    const isKeyword = field.esTypes?.length === 1 && field.esTypes[0] === "keyword";
    const wrap = (query: JsonObject): JsonObject => wrapNested(query, field, fullField, options, nestedPath);
    if (field.scripted) {
      if (!isExists) queries.push({ script: phraseScript(field, value) });
    } else if (isExists) {
      queries.push(wrap({ exists: { field: field.name } }));
    } else if (valueNode.type === "wildcard") {
      const pattern = wildcardToQueryStringQuery(valueNode);
      queries.push(
        wrap(
          isKeyword
            ? { wildcard: { [field.name]: { value: pattern, ...caseInsensitive(options) } } }
            : { query_string: { fields: [field.name], query: pattern } },
        ),
      );
    } else if (field.type === "date") {
      queries.push(
        wrap({ range: { [field.name]: { gte: value, lte: value, ...timeZoneParam(options, value) } } }),
      );
    } else if (isKeyword) {
      queries.push(wrap({ term: { [field.name]: { value, ...caseInsensitive(options) } } }));
    } else {
      queries.push(wrap({ [phrase ? "match_phrase" : "match"]: { [field.name]: value } }));
    }
  }
  return { bool: { should: queries, minimum_should_match: 1 } };
}

function rangeToDsl(
  fieldNode: ValueNode,
  operator: string,
  valueNode: ValueNode,
  options: ToDslOptions,
  nestedPath: string | undefined,
): JsonObject {
  const fullField = getFullFieldNameNode(fieldNode, options.dataView, nestedPath);
  const value = dslValueOf(valueNode);
  const queries = resolveFields(fullField, options).map((field): JsonObject => {
    const params: JsonObject = { [operator]: value };
    if (field.scripted) return { script: rangeScript(field, operator, value) };
    const wrap = (query: JsonObject): JsonObject => wrapNested(query, field, fullField, options, nestedPath);
    if (field.type === "date")
      return wrap({ range: { [field.name]: { ...params, ...timeZoneParam(options, value) } } });
    return wrap({ range: { [field.name]: params } });
  });
  return { bool: { should: queries, minimum_should_match: 1 } };
}

function existsToDsl(
  fieldNode: ValueNode,
  options: ToDslOptions,
  nestedPath: string | undefined,
): JsonObject {
  const name = nestedPath ? `${nestedPath}.${fieldText(fieldNode)}` : fieldText(fieldNode);
  const field = options.dataView?.fields.find((f) => f.name === name);
  if (field?.scripted)
    throw translationError("Exists query does not support scripted fields", spanOf(fieldNode));
  return { exists: { field: name } };
}

/** Wildcard field names can reach nested fields; Kibana wraps those clauses in `nested` itself. */
function wrapNested(
  query: JsonObject,
  field: KibanaDataViewField,
  fullField: ValueNode,
  options: ToDslOptions,
  nestedPath: string | undefined,
): JsonObject {
  const path = nestedPathOf(field);
  if (fullField.type !== "wildcard" || !path || nestedPath) return query;
  return { nested: { path, query, score_mode: "none", ...ignoreUnmapped(options) } };
}

/**
 * A painless script comparing a scripted field with a value (any element of a list counts). Kibana builds
 * an equivalent script; Quarry's own text, since only its presence and parameters matter downstream.
 */
function phraseScript(field: KibanaDataViewField, value: LiteralValue): JsonObject {
  const script = field.script ?? "";
  const source =
    field.lang === "painless"
      ? `boolean matchesAny(Supplier get, def wanted) { def found = get.get(); if (found instanceof List) { for (def item : found) { if (item == wanted) { return true; } } return false; } return found == wanted; } matchesAny(() -> { ${script} }, params.value);`
      : `(${script}) == value`;
  return { source, lang: field.lang ?? "painless", params: { value: scriptValue(field, value) } };
}

function rangeScript(field: KibanaDataViewField, operator: string, value: LiteralValue): JsonObject {
  const comparator = { gt: ">", gte: ">=", lt: "<", lte: "<=" }[operator] ?? ">";
  const script = field.script ?? "";
  const source =
    field.lang === "painless"
      ? `boolean inRange(Supplier get, def bound) { def found = get.get(); return found ${comparator} bound; } inRange(() -> { ${script} }, params.${operator});`
      : `(${script}) ${comparator} ${operator}`;
  return { source, lang: field.lang ?? "painless", params: { [operator]: scriptValue(field, value) } };
}

function scriptValue(field: KibanaDataViewField, value: LiteralValue): JsonValue {
  if (
    field.type === "number" &&
    typeof value === "string" &&
    value.trim() !== "" &&
    Number.isFinite(Number(value))
  ) {
    return Number(value);
  }
  if (field.type === "boolean" && (value === "true" || value === "false")) return value === "true";
  return value;
}
