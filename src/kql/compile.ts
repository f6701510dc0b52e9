/**
 * KQL evaluation over events: the tree is compiled once into closures that answer, per event, what
 * Elasticsearch would answer to the Query DSL Kibana generates for the query (see to-dsl.ts) over an index
 * with the given field types.
 *
 * Two decisions are made per clause, both at compile time where the field is known:
 *  1. which query Kibana sends, from the data view built from the schema (term / wildcard for fields
 *     mapped exactly `keyword`, a gte..lte range for dates, `match` / `match_phrase` / `query_string`
 *     otherwise, `exists` for `*`);
 *  2. how Elasticsearch answers that query for the field's type (exact for keyword-like types, analysed
 *     for text, by value for numbers, dates, ips and booleans).
 * Fields the schema does not know are typed per value as Elasticsearch's dynamic mapping would type them.
 * Multi-valued fields match when any value matches; `not` when none does. docs/kql.md lists every rule.
 */
import { type Diagnostic, QuarryError, type Span } from "../diagnostics/index.js";
import { type KeywordNormalizer, keywordNormalizer, lowercase, lowercaseEquals } from "../eql/index.js";
import { compileFieldTester, type FieldTester } from "../events/field-access.js";
import { parseTimestamp, type Timestamp } from "../events/timestamp.js";
import type { EventRecord, JsonObject, JsonValue } from "../events/types.js";
import type { CompiledQuery, EventHit, QueryRun } from "../query/index.js";
import { dynamicType, ecsSchema, type FieldInfo, type Schema } from "../schema/index.js";
import { analyze, someToken } from "./analyzer.js";
import {
  assertNever,
  isLoneWildcard,
  KQL_WILDCARD_SYMBOL,
  type KqlQuery,
  type LiteralValue,
  type RangeOperator,
  spanOf,
  type ValueNode,
  type WildcardNode,
} from "./ast.js";
import {
  dataViewFromSchema,
  getFullFieldNameNode,
  type KibanaDataView,
  multiFieldParent,
} from "./data-view.js";
import { parseDateMath } from "./date-math.js";
import { parseIp, parseIpOrCidr } from "./ip.js";
import { type ParseOptions, parseKql } from "./parser.js";
import { fieldText, kqlFieldPaths, matchPieces } from "./print.js";
import { resolveTimeZoneSetting } from "./to-dsl.js";

export interface CompileKqlOptions extends ParseOptions {
  /** Field types: an ES mapping layered over ECS, say. Default: ECS; unknown fields are typed per value. */
  readonly schema?: Schema;
  /** Kibana's `dateFormat:tz`, applied to date clauses on mapped date fields. */
  readonly dateFormatTZ?: string;
  /** Kibana's `caseInsensitive` option: keyword term / wildcard clauses ignore case. */
  readonly caseInsensitive?: boolean;
  /** Epoch milliseconds `now` means in date math (fixed when the query compiles). Default: compile time. */
  readonly now?: number;
}

type Predicate = (doc: JsonObject) => boolean;
type ValueTest = (value: JsonValue) => boolean;

/** How Elasticsearch compares values of a field type. */
type Kind =
  | "keyword"
  | "text"
  | "integer"
  | "double"
  | "float"
  | "date"
  | "date_nanos"
  | "ip"
  | "boolean"
  | "object"
  | "other";

/** The query Kibana sends for one field (after its data-view decisions). */
type Clause =
  | { readonly kind: "exists" }
  | { readonly kind: "term"; readonly value: string; readonly caseInsensitive: boolean }
  | { readonly kind: "wildcard"; readonly pieces: readonly string[]; readonly caseInsensitive: boolean }
  | {
      readonly kind: "query_string";
      readonly terms: readonly QueryStringTerm[];
      readonly pieces: readonly string[];
    }
  | { readonly kind: "match"; readonly value: string; readonly phrase: boolean; readonly timeZone?: string }
  | {
      readonly kind: "range";
      readonly op: RangeOperator;
      readonly value: string;
      readonly timeZone?: string;
    };

type QueryStringTerm =
  | { readonly kind: "exists" }
  | { readonly kind: "wildcard"; readonly pieces: readonly string[] }
  | { readonly kind: "plain"; readonly text: string };

/** Where a field's values come from and what the schema says about it. */
interface FieldPlan {
  readonly name: string;
  /**
   * Tests the values, relative to the current root (the event, or the nested element), without building
   * a list: the per-event hot path.
   */
  readonly read: FieldTester;
  /** The schema's type, when the index mapping would know the field. */
  readonly known?: FieldInfo;
  /** True when the field appears in the data view Kibana would build (so its esTypes decide the query). */
  readonly inDataView: boolean;
  /** A `.keyword` sub-field of a dynamically mapped string: values are the parent's strings. */
  readonly dynamicKeyword?: boolean;
}

interface Context {
  readonly schema: Schema;
  readonly view: KibanaDataView;
  readonly options: CompileKqlOptions;
  readonly now: number;
  /** The enclosing nested path, if any: fields are read relative to each nested element. */
  readonly nested: string | undefined;
  readonly source: string | undefined;
}

/**
 * Compile KQL text into a query over events.
 *
 * @example compileKql("process.name:cmd.exe").matches?.(event) // true for {process:{name:"cmd.exe"}}
 * @throws QuarryError: KQL001-003 syntax, KQL010 nested-field errors, KQL020-022 queries Elasticsearch rejects
 */
export function compileKql(text: string, options: CompileKqlOptions = {}): CompiledQuery {
  return compileKqlAst(parseKql(text, options), options, text);
}

/** Compile an already parsed tree (`source` is the query text its spans point into, for diagnostics). */
export function compileKqlAst(
  ast: KqlQuery,
  options: CompileKqlOptions = {},
  source?: string,
): CompiledQuery {
  const schema = options.schema ?? ecsSchema();
  const ctx: Context = {
    schema,
    view: dataViewFromSchema(schema),
    options,
    now: options.now ?? Date.now(),
    nested: undefined,
    source,
  };
  let predicate: Predicate;
  try {
    predicate = compileNode(ast, ctx);
  } catch (error) {
    if (error instanceof QuarryError && error.sourceText === undefined && source !== undefined) {
      throw new QuarryError(error.diagnostic, source, error.origin);
    }
    throw error;
  }
  const matches = (event: EventRecord): boolean => predicate(event.source);
  return {
    language: "kql",
    shape: "event",
    needsTimeOrder: false,
    fields: kqlFieldPaths(ast),
    matches,
    start(): QueryRun {
      return {
        push(event: EventRecord) {
          if (!predicate(event.source)) return undefined;
          const hit: EventHit = { kind: "event", event };
          return [hit];
        },
        finish: () => [],
      };
    },
  };
}

function compileError(code: string, title: string, span: Span | undefined, help?: string): QuarryError {
  const diagnostic: Diagnostic = {
    code,
    severity: "error",
    title,
    labels: span ? [{ span, text: "", primary: true }] : [],
    ...(help ? { help } : {}),
  };
  return new QuarryError(diagnostic);
}

// ---- tree -----------------------------------------------------------------------------------------

function compileNode(node: KqlQuery, ctx: Context): Predicate {
  switch (node.function) {
    case "and": {
      const parts = node.arguments.map((child) => compileNode(child, ctx));
      if (parts.length === 0) return () => true;
      if (parts.length === 1) return parts[0];
      if (parts.length === 2) {
        const [a, b] = parts;
        return (doc) => a(doc) && b(doc);
      }
      return (doc) => {
        for (const part of parts) if (!part(doc)) return false;
        return true;
      };
    }
    case "or":
      return compileOr(node.arguments, ctx);
    case "not": {
      const inner = compileNode(node.arguments[0], ctx);
      return (doc) => !inner(doc);
    }
    case "nested":
      return compileNested(node.arguments[0], node.arguments[1], ctx);
    case "exists":
      return compileLeaf(node.arguments[0], { kind: "exists" }, node, ctx, true);
    case "is":
      return compileIs(node.arguments[0], node.arguments[1], node, ctx);
    case "range":
      return compileRange(node.arguments[0], node.arguments[1], node.arguments[2], node, ctx);
  }
}

function compileNested(pathNode: ValueNode, child: KqlQuery, ctx: Context): Predicate {
  const path = fieldText(pathNode);
  const fullPath = ctx.nested ? `${ctx.nested}.${path}` : path;
  const elements = compileFieldTester(relativeTo(ctx, fullPath));
  const inner = compileNode(child, { ...ctx, nested: fullPath });
  const elementMatches = (element: JsonValue): boolean => isObject(element) && inner(element);
  return (doc) => elements(doc, elementMatches);
}

function relativeTo(ctx: Context, fullName: string): string {
  return ctx.nested && fullName.startsWith(`${ctx.nested}.`)
    ? fullName.slice(ctx.nested.length + 1)
    : fullName;
}

/** `or` children that are plain values on one field compile to one set lookup (IOC lists). */
function compileOr(children: readonly KqlQuery[], ctx: Context): Predicate {
  const groups = new Map<string, { field: ValueNode; values: ValueNode[]; nodes: KqlQuery[] }>();
  const rest: KqlQuery[] = [];
  for (const child of children) {
    if (child.function === "is") {
      const [field, value] = child.arguments;
      if (
        field.type === "literal" &&
        field.value !== null &&
        value.type === "literal" &&
        value.value !== null
      ) {
        const key = `${field.value}`;
        let group = groups.get(key);
        if (!group) {
          group = { field, values: [], nodes: [] };
          groups.set(key, group);
        }
        group.values.push(value);
        group.nodes.push(child);
        continue;
      }
    }
    rest.push(child);
  }
  const parts: Predicate[] = [];
  for (const group of groups.values()) {
    const lookup =
      group.values.length >= 2 ? compileValueSet(group.field, group.values, group.nodes[0], ctx) : undefined;
    if (lookup) parts.push(lookup);
    else for (const node of group.nodes) parts.push(compileNode(node, ctx));
  }
  for (const child of rest) parts.push(compileNode(child, ctx));
  if (parts.length === 1) return parts[0];
  if (parts.length === 2) {
    const [a, b] = parts;
    return (doc) => a(doc) || b(doc);
  }
  return (doc) => {
    for (const part of parts) if (part(doc)) return true;
    return false;
  };
}

// ---- fields ---------------------------------------------------------------------------------------

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Where a concrete field name's values come from and what is known about its type. */
function planField(name: string, ctx: Context): FieldPlan {
  const { schema } = ctx;
  const info = schema.lookup(name);
  if (info && info.type !== "object" && info.type !== "nested" && info.type !== "alias") {
    const parent = multiFieldParent(schema, name);
    const source = parent ?? schema.resolveAlias(name);
    return { name, read: compileFieldTester(relativeTo(ctx, source)), known: info, inDataView: true };
  }
  if (!info) {
    // Leaves under a `flattened` field are keywords.
    let dot = name.lastIndexOf(".");
    while (dot > 0) {
      const ancestor = schema.lookup(name.slice(0, dot));
      if (ancestor) {
        if (ancestor.type === "flattened") {
          return {
            name,
            read: compileFieldTester(relativeTo(ctx, name)),
            known: { type: "keyword" },
            inDataView: false,
          };
        }
        break;
      }
      dot = name.lastIndexOf(".", dot - 1);
    }
    if (name.endsWith(".keyword") && !schema.lookup(name.slice(0, -8))) {
      return {
        name,
        read: compileFieldTester(relativeTo(ctx, name.slice(0, -8))),
        inDataView: false,
        dynamicKeyword: true,
      };
    }
  }
  return { name, read: compileFieldTester(relativeTo(ctx, name)), known: info, inDataView: false };
}

function kindOf(type: string): Kind {
  switch (type) {
    case "keyword":
    case "constant_keyword":
    case "wildcard":
    case "version":
    case "flattened":
      return "keyword";
    case "text":
    case "match_only_text":
    case "annotated_text":
    case "search_as_you_type":
      return "text";
    case "long":
    case "integer":
    case "short":
    case "byte":
    case "unsigned_long":
      return "integer";
    case "double":
    case "scaled_float":
      return "double";
    case "float":
    case "half_float":
      return "float";
    case "date":
      return "date";
    case "date_nanos":
      return "date_nanos";
    case "ip":
      return "ip";
    case "boolean":
      return "boolean";
    case "object":
    case "nested":
      return "object";
    default:
      return "other";
  }
}

// ---- is / range / exists --------------------------------------------------------------------------

function literalText(value: LiteralValue): string {
  return typeof value === "string" ? value : String(value);
}

function compileIs(fieldNode: ValueNode, valueNode: ValueNode, node: KqlQuery, ctx: Context): Predicate {
  const isExists = isLoneWildcard(valueNode);
  if (isExists && isLoneWildcard(fieldNode)) return () => true;
  if (valueNode.type === "literal" && valueNode.value === null) {
    throw compileError(
      "KQL021",
      "an unquoted `null` is a null value, which Elasticsearch rejects as a query value",
      spanOf(valueNode),
      'quote it ("null") to search for the text null, or use `not field:*` for a missing field',
    );
  }
  const full = getFullFieldNameNode(fieldNode, ctx.view, ctx.nested);
  if (full.type === "literal" && full.value === null) return compileFreeText(valueNode, ctx);
  if (isExists) return compileLeaf(full, { kind: "exists" }, node, ctx, false);
  return compileLeaf(full, isClauseFor(valueNode), node, ctx, false);
}

/** The clause for an `is` value on a field the data view does not know (match / match_phrase / query_string). */
function isClauseFor(valueNode: ValueNode): Clause {
  if (valueNode.type === "wildcard") {
    return {
      kind: "query_string",
      terms: queryStringTerms(valueNode),
      pieces: valueNode.value.split(KQL_WILDCARD_SYMBOL),
    };
  }
  return { kind: "match", value: literalText(valueNode.value), phrase: valueNode.isQuoted };
}

function compileRange(
  fieldNode: ValueNode,
  op: RangeOperator,
  valueNode: ValueNode,
  node: KqlQuery,
  ctx: Context,
): Predicate {
  const full = getFullFieldNameNode(fieldNode, ctx.view, ctx.nested);
  const value =
    valueNode.type === "wildcard"
      ? valueNode.value.split(KQL_WILDCARD_SYMBOL).join("*")
      : literalText(valueNode.value);
  return compileLeaf(full, { kind: "range", op, value }, node, ctx, false);
}

/**
 * One field clause. `full` is the field name with any nested prefix; a wildcard name is expanded per
 * event over the fields the event has (a field the event lacks cannot match a positive clause).
 */
function compileLeaf(
  full: ValueNode,
  baseClause: Clause,
  node: KqlQuery,
  ctx: Context,
  bareExists: boolean,
): Predicate {
  if (full.type === "wildcard") return compileWildcardField(full, baseClause, ctx);
  const name = bareExists && ctx.nested ? `${ctx.nested}.${full.value}` : `${full.value}`;
  const plan = planField(name, ctx);
  const clause = refineClause(baseClause, plan, ctx);
  const test = fieldTest(plan, clause, ctx, spanOf(node));
  const read = plan.read;
  return (doc) => read(doc, test);
}

/** Kibana's per-field choices for a field the data view knows: keyword term/wildcard, date range. */
function refineClause(clause: Clause, plan: FieldPlan, ctx: Context): Clause {
  if (!plan.inDataView || !plan.known) return clause;
  const type = plan.known.type;
  const caseInsensitive = ctx.options.caseInsensitive === true;
  const isDate = type === "date" || type === "date_nanos";
  const timeZone = ctx.options.dateFormatTZ ? resolveTimeZoneSetting(ctx.options.dateFormatTZ) : undefined;
  switch (clause.kind) {
    case "query_string":
      if (type === "keyword") {
        return { kind: "wildcard", pieces: clause.pieces, caseInsensitive };
      }
      return clause;
    case "match":
      if (isDate) return { ...clause, timeZone: isEpoch(clause.value) ? undefined : timeZone };
      if (type === "keyword") return { kind: "term", value: clause.value, caseInsensitive };
      return clause;
    case "range":
      if (isDate) return { ...clause, timeZone: isEpoch(clause.value) ? undefined : timeZone };
      return clause;
    default:
      return clause;
  }
}

function isEpoch(value: string): boolean {
  return /^\d+$/.test(value);
}

/** Split a wildcard value the way Lucene's query parser reads Kibana's escaped text: whitespace separates terms. */
function queryStringTerms(node: WildcardNode): QueryStringTerm[] {
  const terms: QueryStringTerm[] = [];
  for (const word of node.value.split(/[ \t\n\r\u3000]+/)) {
    if (word === "") continue;
    if (word === KQL_WILDCARD_SYMBOL) terms.push({ kind: "exists" });
    else if (word.includes(KQL_WILDCARD_SYMBOL))
      terms.push({ kind: "wildcard", pieces: word.split(KQL_WILDCARD_SYMBOL) });
    else terms.push({ kind: "plain", text: word });
  }
  return terms;
}

// ---- testing values -------------------------------------------------------------------------------

/** A value test, or why Elasticsearch would reject the query for this field type. */
type Tester = { readonly test: ValueTest } | { readonly error: string };

const NEVER: ValueTest = () => false;

/** The reader of plans that only decide a test (their values come from a walk over the event). */
const NO_VALUES: FieldTester = () => false;

/** The test for one field's values: the mapped type's, or per value by dynamic mapping. */
function fieldTest(plan: FieldPlan, clause: Clause, ctx: Context, span: Span | undefined): ValueTest {
  let test: ValueTest;
  if (plan.dynamicKeyword) {
    test = testerOrNever(makeTester(clause, "keyword", 256, ctx));
  } else if (plan.known) {
    const tester = makeTester(
      clause,
      kindOf(plan.known.type),
      plan.known.ignoreAbove,
      ctx,
      plan.known.normalizer,
    );
    if ("error" in tester) {
      throw compileError(
        "KQL020",
        `${tester.error} for field \`${plan.name}\` (${plan.known.type})`,
        span,
        "Elasticsearch rejects this query for the field's mapped type",
      );
    }
    test = tester.test;
  } else {
    test = dynamicTest(clause, ctx);
  }
  return test;
}

function testerOrNever(tester: Tester): ValueTest {
  return "error" in tester ? NEVER : tester.test;
}

/** Per-value typing for a field no mapping knows: what dynamic mapping would have made of the value. */
function dynamicTest(clause: Clause, ctx: Context): ValueTest {
  const byKind = new Map<Kind, ValueTest>();
  const forKind = (kind: Kind): ValueTest => {
    let test = byKind.get(kind);
    if (!test) {
      test = testerOrNever(makeTester(clause, kind, undefined, ctx));
      byKind.set(kind, test);
    }
    return test;
  };
  return (value) => forKind(dynamicKind(value))(value);
}

function dynamicKind(value: JsonValue): Kind {
  if (isObject(value)) return "object";
  return kindOf(dynamicType(value).type);
}

function keywordText(value: JsonValue, ignoreAbove: number | undefined): string | undefined {
  let text: string;
  switch (typeof value) {
    case "string":
      text = value;
      break;
    case "number":
    case "bigint":
    case "boolean":
      text = String(value);
      break;
    default:
      return undefined;
  }
  return ignoreAbove !== undefined && text.length > ignoreAbove ? undefined : text;
}

function textOf(value: JsonValue): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
    default:
      return undefined;
  }
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumberText(text: string): number | undefined {
  const trimmed = text.trim();
  return NUMBER.test(trimmed) ? Number(trimmed) : undefined;
}

/** A document value as a number field indexes it (coerced), or undefined when it is not a number. */
function numberOf(value: JsonValue, kind: Kind): number | undefined {
  let n: number | undefined;
  if (typeof value === "number") n = value;
  else if (typeof value === "bigint") n = Number(value);
  else if (typeof value === "string") n = parseNumberText(value);
  if (n === undefined || !Number.isFinite(n)) return undefined;
  return coerce(n, kind);
}

function coerce(n: number, kind: Kind): number {
  if (kind === "integer") return Math.trunc(n);
  if (kind === "float") return Math.fround(n);
  return n;
}

function booleanOf(value: JsonValue): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false" || value === "") return false;
  return undefined;
}

function timestampOf(value: JsonValue, kind: Kind): Timestamp | undefined {
  const ts = parseTimestamp(value);
  if (!ts) return undefined;
  return kind === "date" ? { ms: ts.ms, nanos: 0 } : ts;
}

function compareTs(a: Timestamp, b: Timestamp): number {
  return a.ms - b.ms || a.nanos - b.nanos;
}

/** Compare strings by code point (Lucene compares terms as UTF-8 bytes, which orders the same way). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function rangeHolds(cmp: number, op: RangeOperator): boolean {
  switch (op) {
    case "gt":
      return cmp > 0;
    case "gte":
      return cmp >= 0;
    case "lt":
      return cmp < 0;
    case "lte":
      return cmp <= 0;
  }
}

function hasLeaf(value: JsonValue): boolean {
  if (value === null) return false;
  if (Array.isArray(value)) return value.some(hasLeaf);
  if (typeof value === "object") return Object.values(value).some(hasLeaf);
  return true;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A cheap test that a text may hold `token` (lower case) once analysed: its lower-cased form contains the
 * token. For ASCII it runs as a case-insensitive regular expression (no lower-cased copy per value); text
 * with other characters, whose lower case may change length, takes the exact lower-cased check.
 */
function mayContain(token: string): (text: string) => boolean {
  if (NON_ASCII.test(token)) return (text) => text.toLowerCase().includes(token);
  const pattern = new RegExp(token.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&"), "i");
  return (text) => pattern.test(text) || (NON_ASCII.test(text) && text.toLowerCase().includes(token));
}

/** Matching within analysed text: any query token, or the tokens in order (a phrase). */
function textMatcher(query: string, phrase: boolean): ValueTest {
  const tokens = analyze(query);
  if (tokens.length === 0) return NEVER;
  if (tokens.length === 1 || !phrase) {
    const wanted = new Set(tokens);
    const isWanted = (token: string): boolean => wanted.has(token);
    const prefilter = tokens.length === 1 ? mayContain(tokens[0]) : undefined;
    return (value) => {
      const text = textOf(value);
      if (text === undefined) return false;
      if (prefilter !== undefined && !prefilter(text)) return false;
      return someToken(text, isWanted);
    };
  }
  const prefilters = tokens.map(mayContain);
  // The phrase is found in the token stream with Knuth-Morris-Pratt: linear, and no token list per value.
  const fallback = phraseFallback(tokens);
  let state = 0;
  const step = (token: string): boolean => {
    while (state > 0 && tokens[state] !== token) state = fallback[state - 1];
    if (tokens[state] === token) state++;
    return state === tokens.length;
  };
  return (value) => {
    const text = textOf(value);
    if (text === undefined) return false;
    for (const prefilter of prefilters) if (!prefilter(text)) return false;
    state = 0;
    return someToken(text, step);
  };
}

/** KMP failure table: `table[i]` is the length of the longest proper border of `tokens[0..i]`. */
function phraseFallback(tokens: readonly string[]): Int32Array {
  const table = new Int32Array(tokens.length);
  let k = 0;
  for (let i = 1; i < tokens.length; i++) {
    while (k > 0 && tokens[i] !== tokens[k]) k = table[k - 1];
    if (tokens[i] === tokens[k]) k++;
    table[i] = k;
  }
  return table;
}

function dateBounds(
  value: string,
  timeZone: string | undefined,
  ctx: Context,
): [Timestamp, Timestamp] | undefined {
  const low = parseDateMath(value, { roundUp: false, timeZone, now: ctx.now });
  const high = parseDateMath(value, { roundUp: true, timeZone, now: ctx.now });
  return low && high ? [low, high] : undefined;
}

/**
 * How Elasticsearch answers `clause` on one value of a field of `kind`. `normalizer`: the mapping's
 * keyword normalizer, which Elasticsearch applies to the field's values and to the query's terms.
 */
function makeTester(
  clause: Clause,
  kind: Kind,
  ignoreAbove: number | undefined,
  ctx: Context,
  normalizer?: string,
): Tester {
  if (clause.kind === "exists") return { test: existsTest(kind, ignoreAbove) };
  switch (kind) {
    case "keyword": {
      const known = keywordNormalizer(normalizer);
      return known ? normalizedKeywordTester(clause, ignoreAbove, known) : keywordTester(clause, ignoreAbove);
    }
    case "text":
      return textTester(clause, ctx);
    case "integer":
    case "double":
    case "float":
      return numberTester(clause, kind);
    case "date":
    case "date_nanos":
      return dateTester(clause, kind, ctx);
    case "ip":
      return ipTester(clause);
    case "boolean":
      return booleanTester(clause);
    case "object":
    case "other":
      return { test: NEVER };
  }
}

function existsTest(kind: Kind, ignoreAbove: number | undefined): ValueTest {
  switch (kind) {
    case "keyword":
      return (v) => keywordText(v, ignoreAbove) !== undefined;
    case "text":
      return (v) => textOf(v) !== undefined;
    case "integer":
    case "double":
    case "float":
      return (v) => numberOf(v, kind) !== undefined;
    case "date":
    case "date_nanos":
      return (v) => parseTimestamp(v) !== undefined;
    case "ip":
      return (v) => typeof v === "string" && parseIp(v) !== undefined;
    case "boolean":
      return (v) => booleanOf(v) !== undefined;
    case "object":
      return hasLeaf;
    case "other":
      return (v) => v !== null;
  }
}

function keywordTester(clause: Exclude<Clause, { kind: "exists" }>, ignoreAbove: number | undefined): Tester {
  switch (clause.kind) {
    case "term":
    case "match": {
      const ci = clause.kind === "term" && clause.caseInsensitive;
      const wanted = ci ? clause.value.toLowerCase() : clause.value;
      if (!ci) {
        const limit = ignoreAbove ?? Number.POSITIVE_INFINITY;
        return {
          test: (v) =>
            typeof v === "string"
              ? v.length <= limit && v === wanted
              : keywordText(v, ignoreAbove) === wanted,
        };
      }
      return {
        test: (v) => {
          const text = keywordText(v, ignoreAbove);
          return text !== undefined && (ci ? text.toLowerCase() : text) === wanted;
        },
      };
    }
    case "wildcard": {
      const ci = clause.caseInsensitive;
      const pieces = ci ? clause.pieces.map((p) => p.toLowerCase()) : clause.pieces;
      return {
        test: (v) => {
          const text = keywordText(v, ignoreAbove);
          return text !== undefined && matchPieces(pieces, ci ? text.toLowerCase() : text);
        },
      };
    }
    case "query_string": {
      const tests = clause.terms.map((term): ValueTest => {
        switch (term.kind) {
          case "exists":
            return (v) => keywordText(v, ignoreAbove) !== undefined;
          case "wildcard":
            return (v) => {
              const text = keywordText(v, ignoreAbove);
              return text !== undefined && matchPieces(term.pieces, text);
            };
          case "plain":
            return (v) => keywordText(v, ignoreAbove) === term.text;
        }
        return assertNever(term, "query_string term");
      });
      return { test: anyOf(tests) };
    }
    case "range":
      return {
        test: (v) => {
          const text = keywordText(v, ignoreAbove);
          return text !== undefined && rangeHolds(compareCodePoints(text, clause.value), clause.op);
        },
      };
  }
}

/**
 * A keyword field with the `lowercase` normalizer: values and query terms (term, wildcard, query_string
 * terms, range bounds) are lower-cased as Lucene's LowerCaseFilter does, so the comparison ignores case
 * (and Kibana's `caseInsensitive` option adds nothing). Equality compares without lower-casing the value.
 */
function normalizedKeywordTester(
  clause: Exclude<Clause, { kind: "exists" }>,
  ignoreAbove: number | undefined,
  normalizer: KeywordNormalizer,
): Tester {
  void normalizer;
  const indexed = (v: JsonValue): string | undefined => {
    const text = keywordText(v, ignoreAbove);
    return text === undefined ? undefined : lowercase(text);
  };
  switch (clause.kind) {
    case "term":
    case "match": {
      const wanted = lowercase(clause.value);
      const limit = ignoreAbove ?? Number.POSITIVE_INFINITY;
      return {
        test: (v) => {
          if (typeof v === "string") return v.length <= limit && lowercaseEquals(v, wanted);
          const text = keywordText(v, ignoreAbove);
          return text !== undefined && lowercaseEquals(text, wanted);
        },
      };
    }
    case "wildcard": {
      const pieces = clause.pieces.map(lowercase);
      return {
        test: (v) => {
          const text = indexed(v);
          return text !== undefined && matchPieces(pieces, text);
        },
      };
    }
    case "query_string": {
      const tests = clause.terms.map((term): ValueTest => {
        switch (term.kind) {
          case "exists":
            return (v) => keywordText(v, ignoreAbove) !== undefined;
          case "wildcard": {
            const pieces = term.pieces.map(lowercase);
            return (v) => {
              const text = indexed(v);
              return text !== undefined && matchPieces(pieces, text);
            };
          }
          case "plain": {
            const wanted = lowercase(term.text);
            return (v) => {
              const text = keywordText(v, ignoreAbove);
              return text !== undefined && lowercaseEquals(text, wanted);
            };
          }
        }
        return assertNever(term, "query_string term");
      });
      return { test: anyOf(tests) };
    }
    case "range": {
      const bound = lowercase(clause.value);
      return {
        test: (v) => {
          const text = indexed(v);
          return text !== undefined && rangeHolds(compareCodePoints(text, bound), clause.op);
        },
      };
    }
  }
}

function anyOf(tests: readonly ValueTest[]): ValueTest {
  if (tests.length === 1) return tests[0];
  return (v) => {
    for (const test of tests) if (test(v)) return true;
    return false;
  };
}

function textTester(clause: Exclude<Clause, { kind: "exists" }>, ctx: Context): Tester {
  void ctx;
  switch (clause.kind) {
    case "term":
    case "match":
      return { test: textMatcher(clause.value, clause.kind === "match" && clause.phrase) };
    case "wildcard":
    case "query_string": {
      const terms: readonly QueryStringTerm[] =
        clause.kind === "wildcard" ? [{ kind: "wildcard", pieces: clause.pieces }] : clause.terms;
      const tests = terms.map((term): ValueTest => {
        switch (term.kind) {
          case "exists":
            return (v) => textOf(v) !== undefined;
          case "wildcard": {
            const pieces = term.pieces.map((p) => p.toLowerCase());
            const fits = (token: string): boolean => matchPieces(pieces, token);
            return (v) => {
              const text = textOf(v);
              return text !== undefined && someToken(text, fits);
            };
          }
          case "plain":
            return textMatcher(term.text, false);
        }
        return assertNever(term, "query_string term");
      });
      return { test: anyOf(tests) };
    }
    case "range": {
      const inRange = (token: string): boolean =>
        rangeHolds(compareCodePoints(token, clause.value), clause.op);
      return {
        test: (v) => {
          const text = textOf(v);
          return text !== undefined && someToken(text, inRange);
        },
      };
    }
  }
}

function numberTester(clause: Exclude<Clause, { kind: "exists" }>, kind: Kind): Tester {
  const equalsText = (text: string): Tester => {
    const wanted = parseNumberText(text);
    if (wanted === undefined) return { error: `\`${text}\` is not a number` };
    // A fraction never equals an integer field's values (Elasticsearch matches nothing).
    if (kind === "integer" && !Number.isInteger(wanted)) return { test: NEVER };
    const target = coerce(wanted, kind);
    return { test: (v) => numberOf(v, kind) === target };
  };
  switch (clause.kind) {
    case "term":
    case "match":
      return equalsText(clause.value);
    case "wildcard":
      return { error: "a wildcard query can only run on keyword and text fields" };
    case "query_string":
      return valueQueryString(clause.terms, (v) => numberOf(v, kind) !== undefined, equalsText);
    case "range": {
      const bound = parseNumberText(clause.value);
      if (bound === undefined) return { error: `\`${clause.value}\` is not a number` };
      return {
        test: (v) => {
          const n = numberOf(v, kind);
          return n !== undefined && rangeHolds(n - bound, clause.op);
        },
      };
    }
  }
}

function dateTester(clause: Exclude<Clause, { kind: "exists" }>, kind: Kind, ctx: Context): Tester {
  const between = (value: string, timeZone: string | undefined): Tester => {
    const bounds = dateBounds(value, timeZone, ctx);
    if (!bounds) return { error: `\`${value}\` is not a date Elasticsearch can parse` };
    const [low, high] = bounds;
    return {
      test: (v) => {
        const ts = timestampOf(v, kind);
        return ts !== undefined && compareTs(ts, low) >= 0 && compareTs(ts, high) <= 0;
      },
    };
  };
  switch (clause.kind) {
    case "term":
      return between(clause.value, undefined);
    case "match":
      return between(clause.value, clause.timeZone);
    case "wildcard":
      return { error: "a wildcard query can only run on keyword and text fields" };
    case "query_string":
      return valueQueryString(
        clause.terms,
        (v) => parseTimestamp(v) !== undefined,
        (text) => between(text, undefined),
      );
    case "range": {
      const roundUp = clause.op === "gt" || clause.op === "lte";
      const bound = parseDateMath(clause.value, { roundUp, timeZone: clause.timeZone, now: ctx.now });
      if (!bound) return { error: `\`${clause.value}\` is not a date Elasticsearch can parse` };
      return {
        test: (v) => {
          const ts = timestampOf(v, kind);
          return ts !== undefined && rangeHolds(compareTs(ts, bound), clause.op);
        },
      };
    }
  }
}

function ipOf(value: JsonValue): bigint | undefined {
  return typeof value === "string" ? parseIp(value) : undefined;
}

function ipTester(clause: Exclude<Clause, { kind: "exists" }>): Tester {
  const inBlock = (text: string): Tester => {
    const block = parseIpOrCidr(text);
    if (!block) return { error: `\`${text}\` is not an IP address or CIDR block` };
    return {
      test: (v) => {
        const ip = ipOf(v);
        return ip !== undefined && ip >= block.low && ip <= block.high;
      },
    };
  };
  switch (clause.kind) {
    case "term":
    case "match":
      return inBlock(clause.value);
    case "wildcard":
      return { error: "a wildcard query can only run on keyword and text fields" };
    case "query_string":
      return valueQueryString(clause.terms, (v) => ipOf(v) !== undefined, inBlock);
    case "range": {
      const bound = parseIp(clause.value);
      if (bound === undefined) return { error: `\`${clause.value}\` is not an IP address` };
      return {
        test: (v) => {
          const ip = ipOf(v);
          return ip !== undefined && rangeHolds(ip > bound ? 1 : ip < bound ? -1 : 0, clause.op);
        },
      };
    }
  }
}

function booleanTester(clause: Exclude<Clause, { kind: "exists" }>): Tester {
  const equalsText = (text: string): Tester => {
    const wanted = booleanOf(text);
    if (wanted === undefined) return { error: `\`${text}\` is not a boolean (true or false)` };
    return { test: (v) => booleanOf(v) === wanted };
  };
  switch (clause.kind) {
    case "term":
    case "match":
      return equalsText(clause.value);
    case "wildcard":
      return { error: "a wildcard query can only run on keyword and text fields" };
    case "query_string":
      return valueQueryString(clause.terms, (v) => booleanOf(v) !== undefined, equalsText);
    case "range": {
      const bound = booleanOf(clause.value);
      if (bound === undefined) return { error: `\`${clause.value}\` is not a boolean (true or false)` };
      return {
        test: (v) => {
          const b = booleanOf(v);
          return b !== undefined && rangeHolds(Number(b) - Number(bound), clause.op);
        },
      };
    }
  }
}

// ---- fields found per event: wildcard names and free text -----------------------------------------

/**
 * Visit every leaf value of a document with its dotted path; stop when `visit` returns true. `skip`
 * prunes paths (free text does not look inside nested objects, which Elasticsearch keeps in separate
 * documents).
 */
function someLeaf(
  value: JsonValue,
  path: string,
  visit: (path: string, value: JsonValue) => boolean,
  skip?: (path: string) => boolean,
): boolean {
  if (value === null) return false;
  if (Array.isArray(value)) {
    for (const element of value) if (someLeaf(element, path, visit, skip)) return true;
    return false;
  }
  if (typeof value === "object") {
    for (const key of Object.keys(value)) {
      const child = path === "" ? key : `${path}.${key}`;
      if (skip?.(child)) continue;
      if (someLeaf(value[key] as JsonValue, child, visit, skip)) return true;
    }
    return false;
  }
  return visit(path, value);
}

/** The tests a leaf at `path` answers `clause` with: its own type's, then its multi-fields'. */
function leafTests(
  path: string,
  clause: Clause,
  ctx: Context,
  withSubFields: boolean,
): { own: ValueTest; keyword?: ValueTest; subs: readonly ValueTest[] } {
  const info = ctx.schema.lookup(path);
  if (info && info.type !== "object" && info.type !== "nested") {
    const plan: FieldPlan = { name: path, read: NO_VALUES, known: info, inDataView: true };
    const own = testerOrNever(
      makeTester(refineClause(clause, plan, ctx), kindOf(info.type), info.ignoreAbove, ctx, info.normalizer),
    );
    const subs: ValueTest[] = [];
    if (withSubFields) {
      for (const [sub, type] of Object.entries(info.subFields ?? {})) {
        subs.push(subFieldTest(`${path}.${sub}`, type, clause, ctx));
      }
    }
    return { own, subs };
  }
  const own = dynamicTest(clause, ctx);
  // Dynamic strings get a `.keyword` sub-field (ignore_above 256).
  const keyword = testerOrNever(makeTester(clause, "keyword", 256, ctx));
  return { own, keyword, subs: [] };
}

/** The test of a multi-field (`name.keyword`, `name.caseless`) on its parent's value. */
function subFieldTest(subPath: string, type: string, clause: Clause, ctx: Context): ValueTest {
  const known = ctx.schema.lookup(subPath) ?? { type };
  const plan: FieldPlan = { name: subPath, read: NO_VALUES, known, inDataView: true };
  return testerOrNever(
    makeTester(refineClause(clause, plan, ctx), kindOf(known.type), known.ignoreAbove, ctx, known.normalizer),
  );
}

/** A wildcard field name: every field of the event whose full name fits the pattern. */
function compileWildcardField(full: WildcardNode, clause: Clause, ctx: Context): Predicate {
  const pieces = full.value.split(KQL_WILDCARD_SYMBOL);
  const prefix = ctx.nested ? `${ctx.nested}.` : "";
  const cache = new Map<string, ReturnType<typeof leafTests>>();
  const testsFor = (path: string) => {
    let tests = cache.get(path);
    if (!tests) {
      tests = leafTests(path, clause, ctx, false);
      if (cache.size < 10_000) cache.set(path, tests);
    }
    return tests;
  };
  return (doc) =>
    someLeaf(doc, "", (relative, value) => {
      const path = prefix + relative;
      if (matchPieces(pieces, path) && testsFor(path).own(value)) return true;
      const info = ctx.schema.lookup(path);
      if (info?.subFields) {
        for (const [sub, type] of Object.entries(info.subFields)) {
          const subPath = `${path}.${sub}`;
          if (!matchPieces(pieces, subPath)) continue;
          if (subFieldTest(subPath, type, clause, ctx)(value)) return true;
        }
      } else if (!info && typeof value === "string" && matchPieces(pieces, `${path}.keyword`)) {
        const keyword = testsFor(path).keyword;
        if (keyword?.(value)) return true;
      }
      return false;
    });
}

/**
 * Free text: `multi_match` (lenient) or `query_string` over every field of the event, with the field types
 * the schema or dynamic mapping give them; nested objects are not searched.
 */
function compileFreeText(valueNode: ValueNode, ctx: Context): Predicate {
  const clause: Clause =
    valueNode.type === "wildcard"
      ? {
          kind: "query_string",
          terms: queryStringTerms(valueNode),
          pieces: valueNode.value.split(KQL_WILDCARD_SYMBOL),
        }
      : { kind: "match", value: literalText(valueNode.value), phrase: valueNode.isQuoted };
  const cache = new Map<string, ReturnType<typeof leafTests>>();
  const skip = (path: string) => ctx.schema.lookup(path)?.type === "nested";
  return (doc) =>
    someLeaf(
      doc,
      "",
      (path, value) => {
        let tests = cache.get(path);
        if (!tests) {
          tests = leafTests(path, clause, ctx, true);
          if (cache.size < 10_000) cache.set(path, tests);
        }
        if (tests.own(value)) return true;
        if (tests.keyword && typeof value === "string" && tests.keyword(value)) return true;
        for (const sub of tests.subs) if (sub(value)) return true;
        return false;
      },
      skip,
    );
}

// ---- value sets -----------------------------------------------------------------------------------

/**
 * `field:(v1 or v2 or ...)` (and `field:v1 or field:v2 ...`) on one field: one hash lookup per value
 * instead of one clause per query value. Returns undefined when the field's type has no set form (dates,
 * ips, multi-word phrases...), and the caller compiles the clauses one by one.
 */
function compileValueSet(
  fieldNode: ValueNode,
  values: readonly ValueNode[],
  sample: KqlQuery,
  ctx: Context,
): Predicate | undefined {
  const full = getFullFieldNameNode(fieldNode, ctx.view, ctx.nested);
  if (full.type !== "literal" || full.value === null) return undefined;
  const plan = planField(`${full.value}`, ctx);
  const texts = values.map((v) => (v.type === "literal" ? literalText(v.value) : ""));
  const quoted = values.map((v) => v.type === "literal" && v.isQuoted);
  const read = plan.read;
  const kind: Kind | "dynamic" = plan.dynamicKeyword
    ? "keyword"
    : plan.known
      ? kindOf(plan.known.type)
      : "dynamic";
  const ignoreAbove = plan.dynamicKeyword ? 256 : plan.known?.ignoreAbove;
  void sample;
  const anyValue =
    (test: ValueTest): Predicate =>
    (doc) =>
      read(doc, test);
  if (kind === "keyword") {
    if (keywordNormalizer(plan.known?.normalizer) === "lowercase") {
      // A terms-like lookup of lower-cased terms; only values with upper case (or non-ASCII) pay for
      // lower-casing (lowercase() returns lower-case ASCII as it is).
      const set = new Set(texts.map(lowercase));
      const lengths = new Set(texts.map((t) => t.length));
      const limit = ignoreAbove ?? Number.POSITIVE_INFINITY;
      return anyValue((value) => {
        const text = typeof value === "string" ? value : keywordText(value, ignoreAbove);
        return (
          text !== undefined && text.length <= limit && lengths.has(text.length) && set.has(lowercase(text))
        );
      });
    }
    const ci = plan.inDataView && ctx.options.caseInsensitive === true && plan.known?.type === "keyword";
    if (!ci) {
      // The hot path of IOC lists: one hash lookup per string value, no other work.
      const set = new Set(texts);
      const limit = ignoreAbove ?? Number.POSITIVE_INFINITY;
      return anyValue((value) => {
        if (typeof value === "string") return value.length <= limit && set.has(value);
        const text = keywordText(value, ignoreAbove);
        return text !== undefined && set.has(text);
      });
    }
    const folded = new Set(texts.map((t) => t.toLowerCase()));
    return anyValue((v) => {
      const text = keywordText(v, ignoreAbove);
      return text !== undefined && folded.has(text.toLowerCase());
    });
  }
  if (kind === "integer" || kind === "double" || kind === "float") {
    const numbers = numberSet(texts, kind);
    if (!numbers) return undefined;
    return anyValue((v) => {
      const n = numberOf(v, kind);
      return n !== undefined && numbers.has(n);
    });
  }
  if (kind === "text") {
    const tokens = tokenSet(texts, quoted);
    if (!tokens) return undefined;
    return anyValue((v) => {
      const text = textOf(v);
      return text !== undefined && someToken(text, (token) => tokens.has(token));
    });
  }
  if (kind !== "dynamic") return undefined;
  const tokens = tokenSet(texts, quoted);
  if (!tokens) return undefined;
  const integers = numberSet(texts, "integer", true) ?? new Set<number>();
  const floats = numberSet(texts, "float", true) ?? new Set<number>();
  const booleans = new Set<string>(texts.filter((t) => t === "true" || t === "false"));
  const perValue = values.map((v) =>
    compileNode({ type: "function", function: "is", arguments: [fieldNode, v] }, ctx),
  );
  const hasToken = (token: string): boolean => tokens.has(token);
  // The document under test, for the rare date values that fall back to the clauses one by one.
  let current: JsonObject | undefined;
  const test = (value: JsonValue): boolean => {
    switch (dynamicKind(value)) {
      case "text":
        return someToken(value as string, hasToken);
      case "integer": {
        const n = numberOf(value, "integer");
        return n !== undefined && integers.has(n);
      }
      case "float": {
        const n = numberOf(value, "float");
        return n !== undefined && floats.has(n);
      }
      case "boolean":
        return booleans.has(String(value));
      case "date": {
        const doc = current as JsonObject;
        for (const p of perValue) if (p(doc)) return true;
        return false;
      }
      default:
        return false;
    }
  };
  return (doc) => {
    const saved = current;
    current = doc;
    try {
      return read(doc, test);
    } finally {
      current = saved;
    }
  };
}

function numberSet(texts: readonly string[], kind: Kind, lenient = false): Set<number> | undefined {
  const set = new Set<number>();
  for (const text of texts) {
    const n = parseNumberText(text);
    if (n === undefined) {
      if (lenient) continue;
      return undefined;
    }
    if (kind === "integer" && !Number.isInteger(n)) continue;
    set.add(coerce(n, kind));
  }
  return set;
}

/** Tokens any of which makes a `match` hit; undefined when a multi-word phrase needs order. */
function tokenSet(texts: readonly string[], quoted: readonly boolean[]): Set<string> | undefined {
  const set = new Set<string>();
  for (let i = 0; i < texts.length; i++) {
    const tokens = analyze(texts[i]);
    if (quoted[i] && tokens.length > 1) return undefined;
    for (const token of tokens) set.add(token);
  }
  return set;
}

/**
 * A query_string clause on a field that is not keyword or text (number, date, ip, boolean): each term is
 * an exact value or `*` (exists); a wildcard term is an error, as Elasticsearch reports it.
 */
function valueQueryString(
  terms: readonly QueryStringTerm[],
  exists: ValueTest,
  single: (text: string) => Tester,
): Tester {
  const tests: ValueTest[] = [];
  for (const term of terms) {
    if (term.kind === "wildcard")
      return { error: "a wildcard query can only run on keyword and text fields" };
    if (term.kind === "exists") tests.push(exists);
    else {
      const tester = single(term.text);
      if ("error" in tester) return tester;
      tests.push(tester.test);
    }
  }
  return { test: anyOf(tests) };
}
