/**
 * EQL conditions compiled once into closures over a document (never re-walking the tree per event).
 *
 * Two evaluation modes mirror how Elasticsearch runs a condition:
 * - **Filter mode** (`compilePredicate`): what Elasticsearch turns into queries. A comparison, `:`,
 *   `like`, `regex` or `in` between a field and constants is a term/range/wildcard/regexp/terms query:
 *   it matches when ANY value of a multi-valued field does, and a missing field simply does not
 *   match. Negation is pushed down first, as Elasticsearch's optimizer does: `not (a > 1)` becomes
 *   `a <= 1`, `not (a == 1)` becomes `a != 1`, `not (a and b)` becomes `not a or not b`; what cannot be
 *   flipped (`!=`, `:`, `like`, `regex`, `in`, functions) is a negated query, which DOES match events
 *   where the field is missing (`field != "x"` matches an event without `field`).
 * - **Value mode** (`compileValue`): what Elasticsearch runs as a script (function calls, arithmetic,
 *   comparisons of computed values). Three-valued: anything involving null is null, and a filter only
 *   keeps events whose condition is exactly `true`. A field's script value is its first doc value
 *   (the smallest, as doc values are sorted).
 * `x == null` / `x != null` (either side) are existence checks in both modes.
 */
import { QuarryError, type Span } from "../diagnostics/index.js";
import { compileField, compileFieldTester, type FieldGetter } from "../events/field-access.js";
import type { JsonObject, JsonValue } from "../events/types.js";
import type { FieldInfo, Schema } from "../schema/index.js";
import {
  assertNever,
  type ComparisonOperator,
  type Expression,
  type FieldRef,
  type Literal,
  type MatchPredicate,
} from "./ast.js";
import { type ArithmeticOp, arithmetic, buildFunction, type NumericHint, runtimeError } from "./functions.js";
import { compileLuceneRegex } from "./lucene-regex.js";
import { type KeywordNormalizer, keywordNormalizer, lowercase, lowercaseEquals } from "./normalizer.js";
import {
  compareNumbers,
  compareStrings,
  compareVersions,
  compileCidr,
  compileDateFormat,
  type DateParser,
  type FieldKind,
  fieldKind,
  formatDateNanos,
  formatIpKey,
  type Indexed,
  indexValue,
  ipKey,
  type Scalar,
  toBoolean,
  toDateNanos,
  toDouble,
  toInteger,
} from "./values.js";
import { compileWildcard, foldCase, foldedEquals, hasWildcard, type WildcardMatcher } from "./wildcard.js";

export type DocFn<T> = (doc: JsonObject) => T;

export interface CompileContext {
  readonly schema?: Schema;
  /**
   * The schema lists every field of the data, as an index mapping does: an optional `?field` it does
   * not know is the constant null (Elasticsearch's behaviour). Otherwise every field is read.
   */
  readonly completeSchema: boolean;
  /** Every concrete field path the query reads, collected while compiling. */
  readonly fields: Set<string>;
}

/** A field as the evaluator reads it. */
export interface ResolvedField {
  readonly path: string;
  readonly getter: FieldGetter;
  readonly kind: FieldKind;
  /** The mapping's `null_value`, indexed in place of an explicit null. */
  readonly nullValue?: JsonValue;
  /** For date fields: the mapping's `format` (default: ISO-8601 or epoch milliseconds). */
  readonly dateParser?: DateParser;
  /**
   * The mapping's keyword normalizer (`lowercase` for Elastic Defend's `.caseless` multi-fields): applied
   * to every indexed value (so to script values and join keys too) and to the constants of the
   * term-level queries a comparison becomes (`==`, `in`, `:`, `like`, `regex`, ranges, `startsWith`,
   * `endsWith`, `stringContains`), as Elasticsearch applies it.
   */
  readonly normalizer?: KeywordNormalizer;
  /** An optional field the (complete) schema does not know: the constant null. */
  readonly absent: boolean;
  readonly optional: boolean;
}

export function resolveField(ref: FieldRef | string, context: CompileContext): ResolvedField {
  const path = typeof ref === "string" ? ref : ref.path;
  const optional = typeof ref === "string" ? false : ref.optional;
  const schema = context.schema;
  let concrete = schema ? schema.resolveAlias(path) : path;
  const info: (FieldInfo & { readonly nullValue?: JsonValue; readonly format?: string }) | undefined =
    schema?.lookup(concrete);
  // `name.keyword`, `name.caseless` and other multi-fields have no `_source` of their own: they index
  // the parent's value (a mapping that lists them as table entries included).
  if (schema && info) {
    const dot = concrete.lastIndexOf(".");
    if (dot > 0 && schema.lookup(concrete.slice(0, dot))?.subFields?.[concrete.slice(dot + 1)]) {
      concrete = concrete.slice(0, dot);
    }
  }
  const absent = optional && context.completeSchema && info === undefined;
  if (!absent) context.fields.add(concrete);
  const kind = fieldKind(info);
  return {
    path: concrete,
    getter: compileField(concrete),
    kind,
    dateParser: kind === "date" && info?.format ? compileDateFormat(info.format) : undefined,
    nullValue: info?.nullValue,
    normalizer: kind === "keyword" ? keywordNormalizer(info?.normalizer) : undefined,
    absent,
    optional,
  };
}

/** How a field indexes one source value (its type's conversion, then its normalizer). */
function indexer(field: ResolvedField): (v: JsonValue) => Indexed | undefined {
  const { kind, dateParser } = field;
  if (dateParser) {
    return (v) => {
      const d = dateParser(v);
      return d === undefined ? undefined : { kind: "date", v: d };
    };
  }
  if (field.normalizer === "lowercase") {
    return (v) => {
      const x = indexValue(kind, v);
      return x?.kind === "keyword" ? { kind: "keyword", v: lowercase(x.v) } : x;
    };
  }
  return (v) => indexValue(kind, v);
}

/** Every indexed value of a field in a document (empty when missing). */
export function indexedValues(field: ResolvedField): DocFn<Indexed[]> {
  const { getter, nullValue } = field;
  if (field.absent) return () => [];
  const index = indexer(field);
  const withNulls = nullValue === undefined ? undefined : rawGetter(field.path);
  return (doc) => {
    const raw = getter(doc);
    const out: Indexed[] = [];
    for (const v of raw) {
      const x = index(v);
      if (x !== undefined) out.push(x);
    }
    if (withNulls && nullValue !== undefined && withNulls(doc)) {
      const x = index(nullValue);
      if (x !== undefined) out.push(x);
    }
    return out;
  };
}

/**
 * True when some value of the field passes. Strings of keyword (or dynamically typed) fields go
 * straight to `onString` (no per-value allocation); other values are indexed first. `onString` sees the
 * indexed string: for a normalized field, the normalized value, unless the caller gives `onRawString`,
 * a test of the source string that does the normalizing comparison itself (without allocating).
 */
export function anyValue(
  field: ResolvedField,
  onIndexed: (x: Indexed) => boolean,
  onString?: (s: string) => boolean,
  onRawString?: (s: string) => boolean,
): DocFn<boolean> {
  if (field.absent) return () => false;
  if (field.nullValue !== undefined) {
    const values = indexedValues(field);
    return (doc) => values(doc).some(onIndexed);
  }
  const visitor = compileFieldTester(field.path);
  const { kind } = field;
  const index = indexer(field);
  const stringTest =
    onString === undefined || field.normalizer === undefined
      ? onString
      : (onRawString ?? ((s: string) => onString(lowercase(s))));
  const strings = stringTest !== undefined && (kind === "keyword" || kind === "dynamic");
  const visit = strings
    ? (v: JsonValue): boolean => {
        if (typeof v === "string") return (stringTest as (s: string) => boolean)(v);
        const x = index(v);
        return x !== undefined && onIndexed(x);
      }
    : (v: JsonValue): boolean => {
        const x = index(v);
        return x !== undefined && onIndexed(x);
      };
  return (doc) => visitor(doc, visit);
}

const isIndexed = (_x: Indexed): boolean => true;
const isString = (_s: string): boolean => true;

/** True when the path holds an explicit null (or an array with one): where `null_value` applies. */
function rawGetter(path: string): DocFn<boolean> {
  const segments = path.split(".");
  return (doc) => {
    let node: JsonValue | undefined = doc;
    for (let i = 0; i < segments.length; i++) {
      if (node === null || typeof node !== "object" || Array.isArray(node)) return false;
      const rest = segments.slice(i).join(".");
      if (Object.hasOwn(node, rest)) {
        node = (node as JsonObject)[rest];
        break;
      }
      node = (node as JsonObject)[segments[i]];
    }
    if (node === null) return true;
    return Array.isArray(node) && node.some((v) => v === null);
  };
}

/** The scalar Elasticsearch's scripts see for an indexed value. */
export function indexedScalar(x: Indexed): Scalar {
  switch (x.kind) {
    case "date":
      return formatDateNanos(x.v);
    case "ip":
      return formatIpKey(x.v);
    default:
      return x.v;
  }
}

/** The JSON value a join key shows (as Elasticsearch's response does: dates and ips as text). */
export function indexedJson(x: Indexed): JsonValue {
  return indexedScalar(x);
}

function kindRank(kind: Indexed["kind"]): number {
  return ["boolean", "integer", "float", "date", "ip", "version", "keyword"].indexOf(kind);
}

/** Sort order of doc values (and composite keys): by kind, then by value. */
export function compareIndexed(a: Indexed, b: Indexed): number {
  if (a.kind !== b.kind) {
    const numeric = (k: string) => k === "integer" || k === "float";
    if (numeric(a.kind) && numeric(b.kind)) return compareNumbers(a.v as number, b.v as number);
    return kindRank(a.kind) - kindRank(b.kind);
  }
  switch (a.kind) {
    case "keyword":
    case "ip":
      return compareStrings(a.v, b.v as string);
    case "version":
      return compareVersions(a.v, b.v as string);
    case "boolean":
      return Number(a.v) - Number(b.v);
    case "date":
      return a.v < (b.v as bigint) ? -1 : a.v > (b.v as bigint) ? 1 : 0;
    default:
      return compareNumbers(a.v, b.v as number | bigint);
  }
}

/** A string key identifying an indexed value (for Sets and join keys). */
export function indexedKey(x: Indexed): string {
  switch (x.kind) {
    case "integer":
    case "float":
      return `n:${canonicalNumber(x.v)}`;
    case "keyword":
      return `s:${x.v}`;
    case "boolean":
      return `b:${x.v}`;
    case "date":
      return `d:${x.v}`;
    case "ip":
      return `i:${x.v}`;
    case "version":
      return `v:${x.v}`;
  }
}

function canonicalNumber(v: number | bigint): string {
  if (typeof v === "bigint") return v.toString();
  if (Number.isInteger(v)) return BigInt(v).toString();
  return String(v);
}

// ---------------------------------------------------------------------------------------------------
// Literal comparison against indexed values

type Comparer = (x: Indexed) => number | undefined;

/**
 * How an indexed value compares with a constant, per value kind (the constant is converted to the
 * field's type once, as Elasticsearch converts a query's value to the field's type).
 */
function literalComparer(literal: Scalar, caseInsensitive: boolean, dateParser?: DateParser): Comparer {
  const cache = new Map<string, ((x: Indexed) => number | undefined) | null>();
  const build = (kind: Indexed["kind"]): ((x: Indexed) => number | undefined) | null => {
    switch (kind) {
      case "keyword": {
        if (literal === null || typeof literal === "object") return null;
        const text = caseInsensitive ? foldCase(String(literal)) : String(literal);
        return caseInsensitive
          ? (x) => compareStrings(foldCase(x.v as string), text)
          : (x) => compareStrings(x.v as string, text);
      }
      case "integer":
      case "float": {
        const n = typeof literal === "string" ? toDouble(literal) : literal;
        if (typeof n !== "number" && typeof n !== "bigint") return null;
        const exact = typeof literal === "string" ? (toInteger(literal) ?? n) : n;
        return (x) => compareNumbers(x.v as number | bigint, exact);
      }
      case "boolean": {
        const b =
          typeof literal === "boolean"
            ? literal
            : typeof literal === "string"
              ? toBoolean(literal)
              : undefined;
        if (b === undefined) return null;
        return (x) => Number(x.v) - Number(b);
      }
      case "date": {
        const d =
          typeof literal === "string" || typeof literal === "number" || typeof literal === "bigint"
            ? (dateParser?.(literal) ?? toDateNanos(literal))
            : undefined;
        if (d === undefined) return null;
        return (x) => ((x.v as bigint) < d ? -1 : (x.v as bigint) > d ? 1 : 0);
      }
      case "ip": {
        const k = typeof literal === "string" ? ipKey(literal) : undefined;
        if (k === undefined) return null;
        return (x) => compareStrings(x.v as string, k);
      }
      case "version": {
        if (typeof literal !== "string") return null;
        return (x) => compareVersions(x.v as string, literal);
      }
    }
  };
  return (x) => {
    let fn = cache.get(x.kind);
    if (fn === undefined) {
      fn = build(x.kind);
      cache.set(x.kind, fn);
    }
    return fn === null ? undefined : fn(x);
  };
}

function testComparison(op: ComparisonOperator, c: number | undefined): boolean {
  if (c === undefined || Number.isNaN(c)) return false;
  switch (op) {
    case "==":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

const NEGATED: Record<ComparisonOperator, ComparisonOperator> = {
  "==": "!=",
  "!=": "==",
  "<": ">=",
  "<=": ">",
  ">": "<=",
  ">=": "<",
};
const SWAPPED: Record<ComparisonOperator, ComparisonOperator> = {
  "==": "==",
  "!=": "!=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
};

// ---------------------------------------------------------------------------------------------------
// Value mode

export interface CompiledValue {
  readonly fn: DocFn<Scalar>;
  readonly hint: NumericHint;
  /** Set when the expression reads no field: its value, computed at compile time. */
  readonly constant?: Scalar;
  readonly isConstant: boolean;
}

function constant(value: Scalar, hint: NumericHint = "unknown"): CompiledValue {
  return { fn: () => value, hint, constant: value, isConstant: true };
}

function literalValue(literal: Literal): CompiledValue {
  switch (literal.kind) {
    case "string":
      return constant(literal.value);
    case "number":
      return constant(literal.value, literal.integer ? "integer" : "double");
    case "boolean":
      return constant(literal.value);
    case "null":
      return constant(null);
  }
}

function hintOf(kind: FieldKind): NumericHint {
  return kind === "integer" ? "integer" : kind === "float" ? "double" : "unknown";
}

/** A field's script value: its first (smallest) doc value, or null. */
function fieldValue(field: ResolvedField): CompiledValue {
  if (field.absent) return constant(null);
  const values = indexedValues(field);
  const smallest: DocFn<Scalar> = (doc) => {
    const all = values(doc);
    if (all.length === 0) return null;
    let best = all[0];
    for (let i = 1; i < all.length; i++) if (compareIndexed(all[i], best) < 0) best = all[i];
    return indexedScalar(best);
  };
  if (field.nullValue !== undefined) return { fn: smallest, hint: hintOf(field.kind), isConstant: false };
  // The common case, a single value, is read without building the list.
  const tester = compileFieldTester(field.path);
  const { kind, dateParser } = field;
  const strings = kind === "keyword" || kind === "dynamic";
  // A normalized field's doc values (what scripts read) are normalized.
  const normalized = field.normalizer === "lowercase";
  let first: JsonValue | undefined;
  let count = 0;
  const visit = (v: JsonValue): boolean => {
    if (count++ === 0) first = v;
    return count > 1;
  };
  const fn: DocFn<Scalar> = (doc) => {
    count = 0;
    first = undefined;
    tester(doc, visit);
    const n = count;
    const v = first;
    first = undefined;
    if (n === 0 || v === undefined) return null;
    if (n > 1) return smallest(doc);
    if (strings && typeof v === "string") return normalized ? lowercase(v) : v;
    if (dateParser) {
      const d = dateParser(v);
      return d === undefined ? null : formatDateNanos(d);
    }
    const x = indexValue(kind, v);
    return x === undefined ? null : indexedScalar(x);
  };
  return { fn, hint: hintOf(field.kind), isConstant: false };
}

/** Compare two script values as Elasticsearch's `Comparisons` does; undefined when incomparable. */
function compareScalars(a: Scalar, b: Scalar): number | undefined {
  if (a === null || b === null) return undefined;
  if ((typeof a === "number" || typeof a === "bigint") && (typeof b === "number" || typeof b === "bigint"))
    return compareNumbers(a, b);
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return undefined;
}

export class ExpressionCompiler {
  constructor(private readonly context: CompileContext) {}

  /** Fold a value computed at compile time, reporting a runtime error as a compile error. */
  private fold(fn: DocFn<Scalar>, hint: NumericHint): CompiledValue {
    return constant(fn({}), hint);
  }

  value(e: Expression): CompiledValue {
    const compiled = this.valueUnfolded(e);
    if (!compiled.isConstant && !readsField(e)) return this.fold(compiled.fn, compiled.hint);
    return compiled;
  }

  private valueUnfolded(e: Expression): CompiledValue {
    switch (e.kind) {
      case "string":
      case "number":
      case "boolean":
      case "null":
        return literalValue(e);
      case "field":
        return fieldValue(resolveField(e, this.context));
      case "comparison":
        return this.comparisonValue(e.operator, e.left, e.right);
      case "match": {
        const subject = this.value(e.subject);
        const test = this.matchTest(e);
        if (test === null) return constant(null);
        const s = subject.fn;
        return {
          fn: (doc) => {
            const v = s(doc);
            if (v === null) return null;
            return test(scriptText(v));
          },
          hint: "unknown",
          isConstant: false,
        };
      }
      case "in": {
        const subject = this.value(e.subject);
        const values = e.values.map((v) => this.value(v));
        const s = subject.fn;
        const fns = values.map((v) => v.fn);
        const ci = e.caseInsensitive;
        const negated = e.negated;
        return {
          fn: (doc) => {
            const v = s(doc);
            if (v === null) return null;
            let sawNull = false;
            for (const f of fns) {
              const w = f(doc);
              if (w === null) {
                sawNull = true;
                continue;
              }
              const c =
                ci && typeof v === "string" && typeof w === "string"
                  ? compareStrings(v.toLowerCase(), w.toLowerCase())
                  : compareScalars(v, w);
              if (c === 0) return !negated;
            }
            return sawNull ? null : negated;
          },
          hint: "unknown",
          isConstant: false,
        };
      }
      case "and":
      case "or": {
        const l = this.value(e.left).fn;
        const r = this.value(e.right).fn;
        const isAnd = e.kind === "and";
        return {
          fn: (doc) => {
            const a = l(doc);
            if (isAnd && a === false) return false;
            if (!isAnd && a === true) return true;
            const b = r(doc);
            if (isAnd) return b === false ? false : a === null || b === null ? null : true;
            return b === true ? true : a === null || b === null ? null : false;
          },
          hint: "unknown",
          isConstant: false,
        };
      }
      case "not": {
        const o = this.value(e.operand).fn;
        return {
          fn: (doc) => {
            const v = o(doc);
            return v === null ? null : !v;
          },
          hint: "unknown",
          isConstant: false,
        };
      }
      case "arithmetic": {
        const l = this.value(e.left);
        const r = this.value(e.right);
        const op: ArithmeticOp = e.operator;
        const lf = l.fn;
        const rf = r.fn;
        const span = e.operatorSpan;
        return {
          fn: (doc) => arithmetic(op, lf(doc), rf(doc), l.hint, r.hint, span),
          hint: combineHints(l.hint, r.hint),
          isConstant: false,
        };
      }
      case "negate": {
        const o = this.value(e.operand);
        const f = o.fn;
        const span = e.span;
        return {
          fn: (doc) => arithmetic("-", 0, f(doc), "integer", o.hint, span),
          hint: o.hint,
          isConstant: false,
        };
      }
      case "call": {
        const args = e.args.map((a) => this.value(a));
        const impl = buildFunction({
          name: e.canonicalName,
          caseInsensitive: e.caseInsensitive,
          hints: args.map((a) => a.hint),
          constants: args.map((a) => (a.isConstant ? (a.constant ?? null) : undefined)),
          span: e.span,
        });
        const fns = args.map((a) => a.fn);
        const hint = callHint(
          e.canonicalName,
          args.map((a) => a.hint),
        );
        // One argument array per call site, refilled per event: implementations never keep it, and
        // arguments are computed before it is filled, so a nested call of the same site cannot clash.
        if (fns.length === 1) {
          const f0 = fns[0];
          const buffer: Scalar[] = [null];
          return {
            fn: (doc) => {
              buffer[0] = f0(doc);
              return impl(buffer);
            },
            hint,
            isConstant: false,
          };
        }
        if (fns.length === 2) {
          const [f0, f1] = fns;
          const buffer: Scalar[] = [null, null];
          return {
            fn: (doc) => {
              const a = f0(doc);
              const b = f1(doc);
              buffer[0] = a;
              buffer[1] = b;
              return impl(buffer);
            },
            hint,
            isConstant: false,
          };
        }
        return { fn: (doc) => impl(fns.map((f) => f(doc))), hint, isConstant: false };
      }
      default:
        return assertNever(e);
    }
  }

  private comparisonValue(op: ComparisonOperator, left: Expression, right: Expression): CompiledValue {
    if (
      (op === "==" || op === "!=") &&
      (isNullConstant(left, this.context) || isNullConstant(right, this.context))
    ) {
      const other = isNullConstant(right, this.context) ? left : right;
      const exists = this.exists(other);
      return {
        fn: op === "==" ? (doc) => !exists(doc) : (doc) => exists(doc),
        hint: "unknown",
        isConstant: false,
      };
    }
    const l = this.value(left).fn;
    const r = this.value(right).fn;
    return {
      fn: (doc) => {
        const a = l(doc);
        const b = r(doc);
        if (a === null || b === null) return null;
        const c = compareScalars(a, b);
        if (c === undefined) return op === "!=" ? true : op === "==" ? false : null;
        return testComparison(op, c);
      },
      hint: "unknown",
      isConstant: false,
    };
  }

  /** `x != null`: a field exists (has an indexed value), or a computed value is not null. */
  exists(e: Expression): DocFn<boolean> {
    if (e.kind === "field") {
      const field = resolveField(e, this.context);
      if (field.absent) return () => false;
      return anyValue(field, isIndexed, isString);
    }
    const v = this.value(e).fn;
    return (doc) => v(doc) !== null;
  }

  /**
   * The string test of a `:`/`like`/`regex` with constant patterns; null when every pattern is null.
   * `normalizer`: the field's, which the query applies to its patterns (the values it tests are then
   * normalized ones; the wildcard or regexp query's case-insensitivity changes nothing on top of it).
   */
  private matchTest(e: MatchPredicate, normalizer?: KeywordNormalizer): ((text: string) => boolean) | null {
    // Wildcards test a value folded once per value (not once per pattern); regexes fold themselves.
    const wildcards: WildcardMatcher[] = [];
    const regexes: ((text: string) => boolean)[] = [];
    const equals = new Set<string>();
    const normalized = normalizer === "lowercase";
    const ci = e.caseInsensitive && !normalized;
    for (const p of e.patterns) {
      if (p.kind === "null") continue;
      const source = p.kind === "string" ? p.value : p.kind === "number" ? p.text : String(p.value);
      // Elasticsearch normalizes a regexp's whole text too (elastic/elasticsearch#80189).
      const text = normalized ? lowercase(source) : source;
      if (e.operator === "regex" || e.operator === "regex~") {
        regexes.push(compileLuceneRegex(text, { caseInsensitive: e.caseInsensitive, span: p.span }).test);
      } else if (hasWildcard(text)) {
        wildcards.push(compileWildcard(text, ci));
      } else {
        equals.add(ci ? foldCase(text) : text);
      }
    }
    if (wildcards.length === 0 && regexes.length === 0 && equals.size === 0) return null;
    if (wildcards.length === 0 && regexes.length === 0) {
      if (equals.size === 1) {
        const [only] = equals;
        return ci ? (t) => foldedEquals(t, only) : (t) => t === only;
      }
      return ci ? lengthFiltered(equals, (t) => equals.has(foldCase(t))) : (t) => equals.has(t);
    }
    if (equals.size === 0 && regexes.length === 0 && wildcards.length === 1) return wildcards[0].test;
    if (equals.size === 0 && wildcards.length === 0 && regexes.length === 1) return regexes[0];
    const patterns = wildcards.map((w) => w.testFolded);
    return (t) => {
      if (equals.size > 0 || patterns.length > 0) {
        const folded = ci ? foldCase(t) : t;
        if (equals.has(folded)) return true;
        for (let i = 0; i < patterns.length; i++) if (patterns[i](folded)) return true;
      }
      for (let i = 0; i < regexes.length; i++) if (regexes[i](t)) return true;
      return false;
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Filter mode

  /** The condition as Elasticsearch filters with it; `negated` is a pending `not` pushed down. */
  predicate(e: Expression, negated = false): DocFn<boolean> {
    switch (e.kind) {
      case "and":
      case "or": {
        const l = this.predicate(e.left, negated);
        const r = this.predicate(e.right, negated);
        // De Morgan: a pushed-down `not` turns `and` into `or` and back.
        const isAnd = (e.kind === "and") !== negated;
        return isAnd ? (doc) => l(doc) && r(doc) : (doc) => l(doc) || r(doc);
      }
      case "not":
        return this.predicate(e.operand, !negated);
      case "boolean":
        return e.value !== negated ? () => true : () => false;
      case "null":
        return () => false;
      case "comparison":
        return this.comparisonPredicate(negated ? NEGATED[e.operator] : e.operator, e.left, e.right);
      case "match":
        return this.negate(this.matchPredicate(e), negated);
      case "in":
        return this.negate(this.inPredicate(e.subject, e.values, e.caseInsensitive), negated !== e.negated);
      case "field": {
        const field = resolveField(e, this.context);
        const any = anyValue(field, (x) => x.kind === "boolean" && x.v === true);
        return this.negate(any, negated);
      }
      case "call": {
        const query = this.normalizedStringQuery(e);
        if (query) return this.negate(query, negated);
        return this.scriptPredicate(e, negated);
      }
      default:
        return this.scriptPredicate(e, negated);
    }
  }

  /** A condition Elasticsearch runs as a script: true only when the value is exactly `true`. */
  private scriptPredicate(e: Expression, negated: boolean): DocFn<boolean> {
    const v = this.value(e);
    if (v.isConstant) return (v.constant === true) !== negated ? () => true : () => false;
    const f = v.fn;
    return negated ? (doc) => f(doc) !== true : (doc) => f(doc) === true;
  }

  private negate(fn: DocFn<boolean>, negated: boolean): DocFn<boolean> {
    return negated ? (doc) => !fn(doc) : fn;
  }

  private comparisonPredicate(
    operator: ComparisonOperator,
    left: Expression,
    right: Expression,
  ): DocFn<boolean> {
    let op = operator;
    let l = left;
    let r = right;
    // Literals on the right, as Elasticsearch's optimizer puts them.
    if (!readsField(l) && readsField(r)) {
      [l, r] = [r, l];
      op = SWAPPED[op];
    }
    if (isNullConstant(r, this.context) || isNullConstant(l, this.context)) {
      if (op === "==" || op === "!=") {
        const other = isNullConstant(r, this.context) ? l : r;
        const exists = this.exists(other);
        return op === "==" ? (doc) => !exists(doc) : exists;
      }
      return () => false;
    }
    if (l.kind === "field" && !readsField(r)) {
      const field = resolveField(l, this.context);
      const constant = this.value(r).constant ?? null;
      if (field.absent) return op === "!=" ? () => true : () => false;
      // A term or range query normalizes its constant as the field normalizes its values.
      const normalized = field.normalizer === "lowercase";
      const literal = normalized && typeof constant === "string" ? lowercase(constant) : constant;
      const compare = this.fieldComparer(field, literal, op);
      const text = literal === null || typeof literal === "object" ? undefined : String(literal);
      if (op === "==" || op === "!=") {
        const equal = anyValue(
          field,
          (x) => compare(x) === 0,
          text === undefined ? undefined : (v) => v === text,
          text === undefined || !normalized ? undefined : (v) => lowercaseEquals(v, text),
        );
        // `!=` is a negated term query: no value equals the constant (a missing field matches).
        return op === "==" ? equal : (doc) => !equal(doc);
      }
      return anyValue(
        field,
        (x) => testComparison(op, compare(x)),
        text === undefined ? undefined : (v) => testComparison(op, compareStrings(v, text)),
      );
    }
    const v = this.comparisonValue(op, l, r).fn;
    return (doc) => v(doc) === true;
  }

  /** Comparer for `field op constant`; an ip field with `==`/`!=` and a CIDR block tests membership. */
  private fieldComparer(field: ResolvedField, literal: Scalar, op: ComparisonOperator): Comparer {
    if (
      field.kind === "ip" &&
      (op === "==" || op === "!=") &&
      typeof literal === "string" &&
      literal.includes("/")
    ) {
      const inBlock = compileCidr(literal);
      if (!inBlock) return () => undefined;
      return (x) => (x.kind === "ip" && inBlock(x.v) ? 0 : 1);
    }
    return literalComparer(literal, false, field.dateParser);
  }

  private matchPredicate(e: MatchPredicate): DocFn<boolean> {
    if (e.subject.kind === "field") {
      const field = resolveField(e.subject, this.context);
      const test = this.matchTest(e, field.normalizer);
      if (field.absent || test === null) return () => false;
      const raw = field.normalizer === "lowercase" ? this.normalizedEquality(e) : undefined;
      return anyValue(field, (x) => test(indexedText(x)), test, raw);
    }
    const test = this.matchTest(e);
    if (test === null) return () => false;
    const v = this.value(e.subject).fn;
    return (doc) => {
      const s = v(doc);
      return s !== null && test(scriptText(s));
    };
  }

  /**
   * For a lower-cased field: a test of the source string for a `:`/`like` whose patterns are all plain
   * (no wildcard, no regex), which compares without lower-casing the value (no allocation for ASCII).
   */
  private normalizedEquality(e: MatchPredicate): ((raw: string) => boolean) | undefined {
    if (e.operator === "regex" || e.operator === "regex~") return undefined;
    const texts: string[] = [];
    for (const p of e.patterns) {
      if (p.kind === "null") continue;
      const text = p.kind === "string" ? p.value : p.kind === "number" ? p.text : String(p.value);
      if (hasWildcard(text)) return undefined;
      texts.push(lowercase(text));
    }
    if (texts.length === 1) {
      const [only] = texts;
      return (raw) => lowercaseEquals(raw, only);
    }
    return undefined;
  }

  /**
   * `startsWith`, `endsWith` and `stringContains` of a normalized field and a constant: Elasticsearch
   * runs them as prefix / wildcard queries, which normalize the constant and match any value of the
   * field (undefined for every other call, which runs as a script).
   */
  private normalizedStringQuery(e: Extract<Expression, { kind: "call" }>): DocFn<boolean> | undefined {
    const name = e.canonicalName;
    if (name !== "startswith" && name !== "endswith" && name !== "stringcontains") return undefined;
    if (e.args.length !== 2) return undefined;
    const [subject, arg] = e.args;
    if (subject.kind !== "field" || readsField(arg)) return undefined;
    const field = resolveField(subject, this.context);
    if (field.normalizer !== "lowercase") return undefined;
    const constant = this.value(arg).constant;
    if (typeof constant !== "string") return undefined;
    if (field.absent) return () => false;
    const part = lowercase(constant);
    const test =
      name === "startswith"
        ? (s: string) => s.startsWith(part)
        : name === "endswith"
          ? (s: string) => s.endsWith(part)
          : (s: string) => s.includes(part);
    return anyValue(field, (x) => x.kind === "keyword" && test(x.v), test);
  }

  private inPredicate(subject: Expression, list: readonly Expression[], ci: boolean): DocFn<boolean> {
    const compiled = list.map((v) => this.value(v));
    if (subject.kind === "field" && compiled.every((c) => c.isConstant)) {
      const field = resolveField(subject, this.context);
      if (field.absent) return () => false;
      // A terms query normalizes its constants as the field normalizes its values (then `in~` adds nothing).
      if (field.normalizer === "lowercase") {
        const constants = compiled
          .map((c) => c.constant ?? null)
          .filter((c): c is Exclude<Scalar, null> => c !== null)
          .map((c) => (typeof c === "string" ? lowercase(c) : c));
        const lookup = inLookup(constants, false);
        const strings = new Set(constants.filter((c): c is string => typeof c === "string"));
        return anyValue(
          field,
          lookup,
          (v) => strings.has(v),
          lengthFiltered(strings, (v) => strings.has(lowercase(v))),
        );
      }
      const constants = compiled
        .map((c) => c.constant ?? null)
        .filter((c): c is Exclude<Scalar, null> => c !== null);
      const lookup = inLookup(constants, ci);
      const strings = new Set(
        constants.filter((c): c is string => typeof c === "string").map((c) => (ci ? foldCase(c) : c)),
      );
      return anyValue(
        field,
        lookup,
        ci ? lengthFiltered(strings, (v) => strings.has(foldCase(v))) : (v) => strings.has(v),
      );
    }
    const s = this.value(subject).fn;
    const fns = compiled.map((c) => c.fn);
    return (doc) => {
      const v = s(doc);
      if (v === null) return false;
      for (const f of fns) {
        const w = f(doc);
        if (w === null) continue;
        const c =
          ci && typeof v === "string" && typeof w === "string"
            ? compareStrings(v.toLowerCase(), w.toLowerCase())
            : compareScalars(v, w);
        if (c === 0) return true;
      }
      return false;
    };
  }
}

/**
 * A case-insensitive set test that rejects, without folding, a value whose length no member has
 * (folding keeps the length): most values never pay for the fold.
 */
function lengthFiltered(members: ReadonlySet<string>, test: (s: string) => boolean): (s: string) => boolean {
  const lengths = new Set<number>();
  for (const m of members) lengths.add(m.length);
  if (lengths.size === 1) {
    const [only] = lengths;
    return (s) => s.length === only && test(s);
  }
  return (s) => lengths.has(s.length) && test(s);
}

/**
 * Set lookup for `field in (...)`: constants are converted per value kind once (a 10,000-value list is
 * one hash lookup per value).
 */
function inLookup(constants: readonly Exclude<Scalar, null>[], ci: boolean): (x: Indexed) => boolean {
  const sets = new Map<Indexed["kind"], Set<string>>();
  const setFor = (kind: Indexed["kind"]): Set<string> => {
    let set = sets.get(kind);
    if (set) return set;
    set = new Set<string>();
    for (const c of constants) {
      const x = indexValue(kind, c);
      if (x === undefined) continue;
      if (kind === "keyword" && typeof c !== "string") continue;
      set.add(ci && x.kind === "keyword" ? `s:${foldCase(x.v)}` : indexedKey(x));
    }
    sets.set(kind, set);
    return set;
  };
  return (x) => {
    const set = setFor(x.kind);
    if (set.size === 0) return false;
    return set.has(ci && x.kind === "keyword" ? `s:${foldCase(x.v)}` : indexedKey(x));
  };
}

/** The text a `:`/`like`/`regex` query sees for an indexed value. */
function indexedText(x: Indexed): string {
  const s = indexedScalar(x);
  return typeof s === "string" ? s : String(s);
}

function scriptText(v: Scalar): string {
  return typeof v === "string" ? v : String(v);
}

function combineHints(a: NumericHint, b: NumericHint): NumericHint {
  if (a === "double" || b === "double") return "double";
  if (a === "integer" && b === "integer") return "integer";
  return "unknown";
}

function callHint(name: string, args: readonly NumericHint[]): NumericHint {
  switch (name) {
    case "add":
    case "subtract":
    case "multiply":
    case "divide":
    case "modulo":
      return combineHints(args[0] ?? "unknown", args[1] ?? "unknown");
    case "length":
    case "indexof":
      return "integer";
    default:
      return "unknown";
  }
}

/** True when the expression reads a field (so it cannot be folded at compile time). */
export function readsField(e: Expression): boolean {
  switch (e.kind) {
    case "field":
      return true;
    case "string":
    case "number":
    case "boolean":
    case "null":
      return false;
    case "comparison":
    case "and":
    case "or":
    case "arithmetic":
      return readsField(e.left) || readsField(e.right);
    case "not":
    case "negate":
      return readsField(e.operand);
    case "match":
      return readsField(e.subject);
    case "in":
      return readsField(e.subject) || e.values.some(readsField);
    case "call":
      return e.args.some(readsField);
    default:
      return assertNever(e);
  }
}

/** `null`, or an optional field the complete schema does not know. */
function isNullConstant(e: Expression, context: CompileContext): boolean {
  if (e.kind === "null") return true;
  if (e.kind === "field" && e.optional && context.completeSchema && context.schema) {
    return context.schema.lookup(context.schema.resolveAlias(e.path)) === undefined;
  }
  return false;
}

/** An error raised while compiling (e.g. a too-large join-key product). */
export function compileError(code: string, message: string, span?: Span): QuarryError {
  return new QuarryError({
    code,
    severity: "error",
    title: message,
    labels: span ? [{ span, text: message, primary: true }] : [],
  });
}

export { runtimeError };
