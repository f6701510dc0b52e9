/**
 * Kibana filters (`[[rule.filters]]`, `[[rule.threat_filters]]`): saved query-DSL clauses with a `meta`
 * block (`negate`, `disabled`). Compiled once into predicates over a document. The subset covers what
 * rules use: term, terms, match, match_phrase, wildcard, prefix, exists, range and bool.
 */
import { compileField, type FieldGetter } from "../events/field-access.js";
import type { JsonObject, JsonValue } from "../events/types.js";
import { compileWildcard, valueText } from "./wildcard.js";

export type DocPredicate = (doc: JsonObject) => boolean;

export class FilterError extends Error {}

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** AND of every enabled filter, each negated when its meta says so. */
export function compileFilters(filters: readonly JsonObject[]): DocPredicate | undefined {
  const parts: DocPredicate[] = [];
  for (const filter of filters) {
    const meta = isObject(filter.meta) ? filter.meta : {};
    if (meta.disabled === true) continue;
    const clause = filterClause(filter);
    if (!clause) {
      // Kibana saved filters sometimes carry only `meta` (e.g. a phrase filter's params): rebuild it.
      if (meta.type === "phrase" && typeof meta.key === "string" && isObject(meta.params)) {
        const q = meta.params.query;
        parts.push(
          maybeNegate(compileClause({ match_phrase: { [meta.key]: q ?? null } }), meta.negate === true),
        );
        continue;
      }
      if (meta.type === "exists" && typeof meta.key === "string") {
        parts.push(maybeNegate(compileClause({ exists: { field: meta.key } }), meta.negate === true));
        continue;
      }
      throw new FilterError(
        `a filter has no query clause Quarry can read: ${JSON.stringify(Object.keys(filter))}`,
      );
    }
    parts.push(maybeNegate(compileClause(clause), meta.negate === true));
  }
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return (doc) => {
    for (const p of parts) if (!p(doc)) return false;
    return true;
  };
}

function maybeNegate(p: DocPredicate, negate: boolean): DocPredicate {
  return negate ? (doc) => !p(doc) : p;
}

/** The query clause of a saved filter: under `query`, or at the top level beside `meta`. */
function filterClause(filter: JsonObject): JsonObject | undefined {
  if (isObject(filter.query)) return filter.query;
  const clause: JsonObject = {};
  let any = false;
  for (const [k, v] of Object.entries(filter)) {
    if (k === "meta" || k === "$state") continue;
    clause[k] = v;
    any = true;
  }
  return any ? clause : undefined;
}

function fieldAndParams(body: JsonValue, what: string): [string, JsonValue] {
  if (!isObject(body)) throw new FilterError(`${what} must be an object`);
  const keys = Object.keys(body).filter((k) => k !== "boost" && k !== "_name");
  if (keys.length !== 1) throw new FilterError(`${what} must name exactly one field`);
  return [keys[0], body[keys[0]]];
}

const anyValue =
  (getter: FieldGetter, test: (text: string, raw: JsonValue) => boolean): DocPredicate =>
  (doc) => {
    for (const v of getter(doc)) {
      const t = valueText(v);
      if (t !== undefined && test(t, v)) return true;
    }
    return false;
  };

function compileClause(clause: JsonObject): DocPredicate {
  const kinds = Object.keys(clause);
  if (kinds.length !== 1) {
    if (kinds.length === 0) return () => true;
    // Several clauses in one object: all must hold (as a bool filter would).
    const parts = kinds.map((k) => compileClause({ [k]: clause[k] }));
    return (doc) => parts.every((p) => p(doc));
  }
  const kind = kinds[0];
  const body = clause[kind];
  switch (kind) {
    case "match_all":
      return () => true;
    case "exists": {
      if (!isObject(body) || typeof body.field !== "string") throw new FilterError("exists needs a field");
      const getter = compileField(body.field);
      return (doc) => getter(doc).length > 0;
    }
    case "term":
    case "match":
    case "match_phrase": {
      const [field, params] = fieldAndParams(body, kind);
      const value = isObject(params) ? (params.value ?? params.query ?? null) : params;
      const ci = isObject(params) && params.case_insensitive === true;
      const want = valueText(value);
      if (want === undefined) throw new FilterError(`${kind} on ${field} needs a value`);
      const getter = compileField(field);
      if (kind === "match" || kind === "match_phrase") {
        // Analysed text fields are out of reach offline; keyword semantics (exact) is what ECS fields use.
        return anyValue(getter, (t) => t === want);
      }
      const w = ci ? want.toLowerCase() : want;
      return anyValue(getter, (t) => (ci ? t.toLowerCase() : t) === w);
    }
    case "terms": {
      if (!isObject(body)) throw new FilterError("terms must be an object");
      const field = Object.keys(body).find((k) => k !== "boost");
      const values = field !== undefined ? body[field] : undefined;
      if (field === undefined || !Array.isArray(values))
        throw new FilterError("terms needs a field and a list");
      const set = new Set(values.map(valueText).filter((v): v is string => v !== undefined));
      return anyValue(compileField(field), (t) => set.has(t));
    }
    case "wildcard":
    case "prefix": {
      const [field, params] = fieldAndParams(body, kind);
      const value = isObject(params) ? (params.value ?? params.wildcard ?? null) : params;
      const pattern = valueText(value);
      if (pattern === undefined) throw new FilterError(`${kind} on ${field} needs a value`);
      const ci = isObject(params) && params.case_insensitive === true;
      const m = compileWildcard(kind === "prefix" ? `${pattern.replace(/[\\*?]/g, "\\$&")}*` : pattern, ci);
      return anyValue(compileField(field), (t) => m(t));
    }
    case "range": {
      const [field, params] = fieldAndParams(body, kind);
      if (!isObject(params)) throw new FilterError("range needs bounds");
      const bound = (k: string) => {
        const v = params[k];
        return typeof v === "number"
          ? v
          : typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))
            ? Number(v)
            : undefined;
      };
      const gt = bound("gt");
      const gte = bound("gte");
      const lt = bound("lt");
      const lte = bound("lte");
      return anyValue(compileField(field), (_t, raw) => {
        const n = typeof raw === "number" ? raw : typeof raw === "bigint" ? Number(raw) : Number(raw);
        if (Number.isNaN(n)) return false;
        return (
          (gt === undefined || n > gt) &&
          (gte === undefined || n >= gte) &&
          (lt === undefined || n < lt) &&
          (lte === undefined || n <= lte)
        );
      });
    }
    case "bool": {
      if (!isObject(body)) throw new FilterError("bool must be an object");
      const list = (k: string): DocPredicate[] => {
        const v = body[k];
        if (v === undefined) return [];
        const items = Array.isArray(v) ? v : [v];
        return items.map((x) => {
          if (!isObject(x)) throw new FilterError(`bool.${k} entries must be objects`);
          return compileClause(x);
        });
      };
      const must = [...list("must"), ...list("filter")];
      const should = list("should");
      const mustNot = list("must_not");
      const msm =
        typeof body.minimum_should_match === "number"
          ? body.minimum_should_match
          : should.length > 0 && must.length === 0
            ? 1
            : 0;
      return (doc) => {
        for (const p of must) if (!p(doc)) return false;
        for (const p of mustNot) if (p(doc)) return false;
        if (msm > 0) {
          let n = 0;
          for (const p of should) if (p(doc) && ++n >= msm) return true;
          return false;
        }
        return true;
      };
    }
    default:
      throw new FilterError(`query-DSL clause "${kind}" in a filter is not supported`);
  }
}
