/**
 * Dispatch guards: for each rule, a necessary condition of the form "some field in this list has a value
 * whose lower-case text is in this set", derived once from the query's syntax tree. The hunt indexes
 * rules by (field, value) so an event reaches only the rules that could match it, instead of every rule
 * evaluating every event. A guard may only ever be weaker than the query (a rule is never skipped for an
 * event it would match): anything not clearly an exact keyword comparison yields no guard.
 */
import type { EqlQuery, EventQuery, Expression } from "../eql/ast.js";
import type { KqlQuery, ValueNode } from "../kql/ast.js";
import type { Schema } from "../schema/index.js";

export interface GuardTerm {
  /** The field as the event holds it (aliases resolved, multi-field suffixes such as `.text` dropped). */
  readonly field: string;
  /**
   * Lower-cased values: the term holds when a value of `field`, lower-cased, is in the set. Undefined: the
   * term holds when the field has any value (an existence guard, for comparisons that are not exact).
   */
  readonly values?: readonly string[];
}

/** A disjunction of terms; `undefined` means no guard (the rule sees every event). */
export type Guard = readonly GuardTerm[] | undefined;

/**
 * Every necessary condition found, before choosing: `all` (from AND: any one item is necessary, so the
 * most selective is chosen), `any` (from OR and sequence stages: the union of one choice per item).
 */
export type GuardExpr =
  | { readonly kind: "term"; readonly term: GuardTerm }
  | { readonly kind: "all"; readonly items: readonly GuardExpr[] }
  | { readonly kind: "any"; readonly items: readonly GuardExpr[] };

const term = (t: GuardTerm): GuardExpr => ({ kind: "term", term: t });

function allOf(items: readonly (GuardExpr | undefined)[]): GuardExpr | undefined {
  const kept: GuardExpr[] = [];
  for (const i of items) if (i) kept.push(...(i.kind === "all" ? i.items : [i]));
  return kept.length === 0 ? undefined : kept.length === 1 ? kept[0] : { kind: "all", items: kept };
}

function anyOf(items: readonly (GuardExpr | undefined)[]): GuardExpr | undefined {
  const kept: GuardExpr[] = [];
  for (const i of items) {
    if (!i) return undefined;
    kept.push(...(i.kind === "any" ? i.items : [i]));
  }
  return kept.length === 0 ? undefined : kept.length === 1 ? kept[0] : { kind: "any", items: kept };
}

/** Every term in an expression (for statistics). */
export function guardTerms(expr: GuardExpr | undefined, out: GuardTerm[] = []): GuardTerm[] {
  if (!expr) return out;
  if (expr.kind === "term") out.push(expr.term);
  else for (const i of expr.items) guardTerms(i, out);
  return out;
}

/**
 * Choose the guard: for `all` the cheapest item, for `any` the union of each item's choice. `estimate`
 * says what fraction of events a term lets through (from a sample of the input, or a static guess).
 */
export function chooseGuard(
  expr: GuardExpr | undefined,
  estimate: (t: GuardTerm) => number = staticEstimate,
): { guard: Guard; cost: number } {
  if (!expr) return { guard: undefined, cost: Number.POSITIVE_INFINITY };
  switch (expr.kind) {
    case "term":
      return { guard: [expr.term], cost: estimate(expr.term) };
    case "all": {
      let best = { guard: undefined as Guard, cost: Number.POSITIVE_INFINITY };
      for (const item of expr.items) {
        const c = chooseGuard(item, estimate);
        if (c.cost < best.cost) best = c;
      }
      return best;
    }
    case "any": {
      let guard: Guard = [];
      let cost = 0;
      for (const item of expr.items) {
        const c = chooseGuard(item, estimate);
        guard = union(guard, c.guard);
        cost += c.cost;
      }
      return { guard, cost };
    }
    default: {
      const never: never = expr;
      throw new Error(`unknown guard ${JSON.stringify(never)}`);
    }
  }
}

/** Fields whose values split events into few large groups: a guard on them filters little. */
const BROAD_FIELDS = new Set([
  "event.category",
  "event.type",
  "event.kind",
  "event.outcome",
  "event.module",
  "event.dataset",
  "data_stream.dataset",
  "data_stream.type",
  "host.os.type",
  "host.os.family",
  "host.os.platform",
  "host.os.name",
  "agent.type",
  "ecs.version",
]);

/** Sub-field names that hold another view of their parent's value (multi-fields), never a value of their own. */
const MULTI_FIELD_SUFFIXES = new Set(["keyword", "text", "caseless", "raw", "wildcard"]);

/** Integer types: a value compares by its integer (Elasticsearch coerces numeric strings and truncates). */
const INTEGER_TYPES = new Set(["long", "integer", "short", "byte", "unsigned_long"]);

/**
 * The key an integer-typed value is indexed and looked up under: its integer part as decimal text.
 * Undefined for anything that is not a finite number or numeric string.
 */
export function integerKey(value: unknown): string | undefined {
  if (typeof value === "bigint") return value.toString();
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\s*[-+]?\d+(\.\d+)?\s*$/.test(value)) n = Number(value);
  else return undefined;
  if (!Number.isFinite(n) || !Number.isSafeInteger(Math.trunc(n))) return undefined;
  return String(Math.trunc(n));
}

/** Keyword-family types compare whole values exactly, so lower-cased equality is a necessary condition. */
const EXACT_TYPES = new Set(["keyword", "constant_keyword", "wildcard"]);

/** `event.kind` values that most events carry; other kinds (signal, alert, enrichment) are selective. */
const COMMON_EVENT_KINDS = new Set(["event", "state", "metric"]);

/** Field prefixes present on most events: an existence guard on them filters little. */
const COMMON_PREFIXES = [
  "@timestamp",
  "event.",
  "host.",
  "agent.",
  "ecs.",
  "data_stream.",
  "process.",
  "user.",
  "file.",
  "source.",
  "destination.",
  "network.",
  "related.",
  "message",
  "log.",
  "cloud.",
];

function termCost(t: GuardTerm): number {
  if (t.values === undefined) return COMMON_PREFIXES.some((p) => t.field.startsWith(p)) ? 50 : 3;
  if (t.field === "event.kind") return t.values.some((v) => COMMON_EVENT_KINDS.has(v)) ? 100 : 1;
  return BROAD_FIELDS.has(t.field) ? 100 : 1;
}

/** A static guess of the fraction of events a term lets through (used when no sample is available). */
export function staticEstimate(t: GuardTerm): number {
  return termCost(t) / 1000;
}

export function union(a: Guard, b: Guard): Guard {
  if (!a || !b) return undefined;
  // Per field: the union of values, or existence when either side only asks for existence.
  const byField = new Map<string, Set<string> | undefined>();
  for (const t of [...a, ...b]) {
    if (byField.has(t.field) && byField.get(t.field) === undefined) continue;
    if (t.values === undefined) {
      byField.set(t.field, undefined);
      continue;
    }
    let s = byField.get(t.field);
    if (!s) byField.set(t.field, (s = new Set()));
    for (const v of t.values) s.add(v);
  }
  return [...byField].map(([field, values]) => (values ? { field, values: [...values] } : { field }));
}

/** A literal usable as a guard value: text that cannot be confused with a number or boolean. */
function guardText(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  if (value.trim() === "" || !Number.isNaN(Number(value)) || value === "true" || value === "false")
    return undefined;
  return value.toLowerCase();
}

export class GuardBuilder {
  constructor(private readonly schema: Schema) {}

  /** The field to compare values of when the clause's type compares whole values exactly, else undefined. */
  exactField(path: string): string | undefined {
    if (path.includes("*")) return undefined;
    const concrete = this.schema.resolveAlias(path);
    if (concrete.endsWith(".caseless")) {
      // Elastic's lower-casing keyword multi-field: it compares the parent's value lower-cased, which is
      // the guard's own comparison (the mapping may not list it; the parent's type decides).
      const parent = this.sourceField(concrete);
      const parentInfo = parent ? this.schema.lookup(parent) : undefined;
      return parent && parentInfo && EXACT_TYPES.has(parentInfo.type) ? parent : undefined;
    }
    const info = this.schema.lookup(concrete);
    if (!info || !EXACT_TYPES.has(info.type)) return undefined;
    const source = this.sourceField(path);
    return source === concrete ? concrete : undefined;
  }

  /** The field when it is integer-typed (and holds its own value), else undefined. */
  integerField(path: string): string | undefined {
    if (path.includes("*")) return undefined;
    const concrete = this.schema.resolveAlias(path);
    const info = this.schema.lookup(concrete);
    return info && INTEGER_TYPES.has(info.type) && this.sourceField(path) === concrete ? concrete : undefined;
  }

  /** An integer literal (number or numeric string with no fraction) as its key. */
  integerLiteral(value: unknown): string | undefined {
    if (typeof value === "number" && !Number.isInteger(value)) return undefined;
    if (typeof value === "string" && value.includes(".")) return undefined;
    return integerKey(value);
  }

  /**
   * The path whose presence in the event a clause on `path` needs: aliases resolved, and a multi-field
   * (`process.name.caseless`, `foo.keyword`, `message.text`) mapped to the field holding the value.
   */
  sourceField(path: string): string | undefined {
    if (path.includes("*") || path === "") return undefined;
    const concrete = this.schema.resolveAlias(path);
    const dot = concrete.lastIndexOf(".");
    if (dot > 0) {
      const last = concrete.slice(dot + 1);
      const parent = concrete.slice(0, dot);
      if (MULTI_FIELD_SUFFIXES.has(last) || this.schema.lookup(parent)?.subFields?.[last] !== undefined)
        return this.sourceField(parent);
    }
    return concrete;
  }

  /** An existence term for a field, when it has a source path. */
  exists(path: string): GuardExpr | undefined {
    const field = this.sourceField(path);
    return field ? term({ field }) : undefined;
  }

  // ---- EQL

  eqlQuery(query: EqlQuery, categoryField: string): GuardExpr | undefined {
    const body = query.body;
    switch (body.kind) {
      case "event":
        return this.eqlEvent(body, categoryField);
      case "sequence":
        // Every stage (and `until`) needs its events: the guard is the union of the stages' guards.
        return anyOf(
          [...body.stages, ...(body.until ? [body.until] : [])].map((s) =>
            this.eqlEvent(s.query, categoryField),
          ),
        );
      case "sample":
        return anyOf(body.stages.map((s) => this.eqlEvent(s.query, categoryField)));
      default:
        return undefined;
    }
  }

  eqlEvent(query: EventQuery, categoryField: string): GuardExpr | undefined {
    const condition = this.eqlExpr(query.condition);
    if (query.category === null) return condition;
    const field =
      this.exactField(categoryField) ?? (categoryField === "event.category" ? categoryField : undefined);
    const text = guardText(query.category);
    return allOf([condition, field && text !== undefined ? term({ field, values: [text] }) : undefined]);
  }

  eqlExpr(e: Expression): GuardExpr | undefined {
    switch (e.kind) {
      case "and":
        return allOf([this.eqlExpr(e.left), this.eqlExpr(e.right)]);
      case "or":
        return anyOf([this.eqlExpr(e.left), this.eqlExpr(e.right)]);
      case "match": {
        // A null (missing) subject never matches a pattern.
        if (e.subject.kind !== "field") return undefined;
        const present = this.exists(e.subject.path);
        if (e.operator === "regex" || e.operator === "regex~") return present;
        const field = this.exactField(e.subject.path);
        if (!field) return present;
        const values: string[] = [];
        for (const p of e.patterns) {
          if (p.kind !== "string") return present;
          // `*` and `?` are wildcards for `:` as for `like` (rules write `"?:\\Windows\\..."` with `:`).
          if (/[*?]/.test(p.value)) return present;
          const t = guardText(p.value);
          if (t === undefined) return present;
          values.push(t);
        }
        return term({ field, values });
      }
      case "in": {
        if (e.negated || e.subject.kind !== "field") return undefined;
        const present = this.exists(e.subject.path);
        const intField = this.integerField(e.subject.path);
        if (intField) {
          const keys: string[] = [];
          for (const v of e.values) {
            const k = v.kind === "number" || v.kind === "string" ? this.integerLiteral(v.value) : undefined;
            if (k === undefined) return present;
            keys.push(k);
          }
          return term({ field: intField, values: keys });
        }
        const field = this.exactField(e.subject.path);
        if (!field) return present;
        const values: string[] = [];
        for (const v of e.values) {
          if (v.kind !== "string") return present;
          const t = guardText(v.value);
          if (t === undefined) return present;
          values.push(t);
        }
        return term({ field, values });
      }
      case "comparison": {
        const [f, lit] =
          e.left.kind === "field"
            ? [e.left, e.right]
            : e.right.kind === "field"
              ? [e.right, e.left]
              : [undefined, undefined];
        // `field == null` holds for a missing field; a comparison with a non-null literal needs the field.
        if (!f || !lit || f.kind !== "field" || !isNonNullLiteral(lit)) return undefined;
        const present = this.exists(f.path);
        if (e.operator !== "==") return present;
        const intField = this.integerField(f.path);
        if (intField && (lit.kind === "number" || lit.kind === "string")) {
          const k = this.integerLiteral(lit.value);
          return k !== undefined ? term({ field: intField, values: [k] }) : present;
        }
        if (lit.kind !== "string") return present;
        const field = this.exactField(f.path);
        const t = guardText(lit.value);
        return field && t !== undefined ? term({ field, values: [t] }) : present;
      }
      default:
        return undefined;
    }
  }

  // ---- KQL

  kql(node: KqlQuery): GuardExpr | undefined {
    switch (node.function) {
      case "and":
        return allOf(node.arguments.map((a) => this.kql(a)));
      case "or":
        return anyOf(node.arguments.map((a) => this.kql(a)));
      case "is": {
        const [fieldNode, valueNode] = node.arguments;
        if (fieldNode.type !== "literal" || typeof fieldNode.value !== "string") return undefined;
        // `field:value` and `field:*` both need the field (a missing field matches nothing).
        const present = this.exists(fieldNode.value);
        const intField = this.integerField(fieldNode.value);
        if (intField && valueNode.type === "literal") {
          const k = this.integerLiteral(valueNode.value);
          return k !== undefined ? term({ field: intField, values: [k] }) : present;
        }
        const field = this.exactField(fieldNode.value);
        const t = kqlValueText(valueNode);
        return field && t !== undefined ? term({ field, values: [t] }) : present;
      }
      case "range":
      case "exists": {
        const fieldNode = node.arguments[0];
        if (fieldNode.type !== "literal" || typeof fieldNode.value !== "string") return undefined;
        return this.exists(fieldNode.value);
      }
      default:
        return undefined;
    }
  }
}

function isNonNullLiteral(e: Expression): boolean {
  return e.kind === "string" || e.kind === "number" || e.kind === "boolean";
}

function kqlValueText(v: ValueNode): string | undefined {
  if (v.type !== "literal") return undefined;
  return guardText(v.value);
}

export function eqlGuard(query: EqlQuery, schema: Schema, categoryField: string): GuardExpr | undefined {
  return new GuardBuilder(schema).eqlQuery(query, categoryField);
}

export function kqlGuard(query: KqlQuery, schema: Schema): GuardExpr | undefined {
  return new GuardBuilder(schema).kql(query);
}
