/**
 * Literal pre-checks: for a rule, a necessary condition on the *text* of its fields ("process.executable
 * has a value ending in `\cmd.exe`", "process.command_line contains `-enc`"), derived once from the
 * query's syntax tree and checked before the rule's own evaluator. Dispatch (dispatch.ts) only routes by
 * whole values; most corpus rules also need wildcard patterns on paths and command lines, which the
 * dispatch index cannot route by but a substring test can rule out for a fraction of the evaluator's cost.
 *
 * Values are read and case-folded once per event and field (FoldedValues), shared by every rule's check,
 * so a check is a few `startsWith`/`endsWith`/`includes` on strings already in hand.
 *
 * A check may only ever be weaker than the query: it holds for every event the query could match.
 * - Only exact comparisons and wildcard patterns on keyword-family fields (see GuardBuilder.exactField)
 *   in positive positions (`and`, `or`; never under `not`); anything else asks nothing.
 * - Only pieces of a literal made of ASCII or caseless characters are required, and both sides are compared case-folded: an ASCII
 *   substring of a value stays a substring of the value's fold, whether the operator folds case or not.
 * - A field holding any non-string value (number, boolean, object) passes: the engine may coerce it.
 */
import type { EqlQuery, EventQuery, Expression } from "../eql/ast.js";
import { foldCase } from "../eql/wildcard.js";
import { compileFieldTester, type FieldTester } from "../events/field-access.js";
import type { JsonObject, JsonValue } from "../events/types.js";
import { KQL_WILDCARD_SYMBOL, type KqlQuery } from "../kql/ast.js";
import type { Schema } from "../schema/index.js";
import { GuardBuilder } from "./guard.js";
import { NeedleScanner } from "./needles.js";

/** One acceptable shape of a folded value: all of its parts must hold. */
export interface TextShape {
  /** The whole folded value (no wildcard in the literal); other parts are then absent. */
  readonly equals?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly contains?: readonly string[];
}

/** A field having a string value of one of these shapes (or any non-string value). */
export interface TextTerm {
  readonly field: string;
  readonly shapes: readonly TextShape[];
}

export type TextNeed =
  | { readonly kind: "term"; readonly term: TextTerm }
  | { readonly kind: "all"; readonly items: readonly TextNeed[] }
  | { readonly kind: "any"; readonly items: readonly TextNeed[] };

function allOf(items: readonly (TextNeed | undefined)[]): TextNeed | undefined {
  const kept: TextNeed[] = [];
  for (const i of items) if (i) kept.push(...(i.kind === "all" ? i.items : [i]));
  return kept.length === 0 ? undefined : kept.length === 1 ? kept[0] : { kind: "all", items: kept };
}

function anyOf(items: readonly (TextNeed | undefined)[]): TextNeed | undefined {
  const kept: TextNeed[] = [];
  for (const i of items) {
    if (!i) return undefined;
    kept.push(...(i.kind === "any" ? i.items : [i]));
  }
  if (kept.length === 0) return undefined;
  if (kept.length === 1) return kept[0];
  // Terms on one field merge into one term (one pass over the field's values).
  const byField = new Map<string, TextShape[]>();
  const rest: TextNeed[] = [];
  for (const k of kept) {
    if (k.kind !== "term") {
      rest.push(k);
      continue;
    }
    let shapes = byField.get(k.term.field);
    if (!shapes) byField.set(k.term.field, (shapes = []));
    shapes.push(...k.term.shapes);
  }
  for (const [field, shapes] of byField) rest.push({ kind: "term", term: { field, shapes } });
  return rest.length === 1 ? rest[0] : { kind: "any", items: rest };
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * A piece of literal text lower-cased, when every character is ASCII or has no case at all (such as
 * U+202E, the right-to-left override): folding maps those one to one whatever surrounds them, so the
 * piece stays a substring of a folded value that contains it. Undefined otherwise.
 */
function asciiFold(text: string): string | undefined {
  if (ASCII.test(text)) return text.toLowerCase();
  for (const c of text)
    if (c.charCodeAt(0) > 0x7f && (c.toLowerCase() !== c || c.toUpperCase() !== c)) return undefined;
  return text.toLowerCase();
}

/** The shape an exact literal gives; undefined when nothing can be required of it. */
export function exactShape(value: string): TextShape | undefined {
  const f = asciiFold(value);
  return f === undefined ? undefined : { equals: f };
}

/**
 * The shape a wildcard pattern gives (`*` any run, `?` one character): its fixed start and end and the
 * pieces between, keeping only ASCII pieces; undefined when it requires nothing.
 */
export function patternShape(pattern: string, anyChar: boolean): TextShape | undefined {
  const segments = pattern.split("*");
  if (segments.length === 1 && !(anyChar && pattern.includes("?"))) return exactShape(pattern);
  let prefix: string | undefined;
  let suffix: string | undefined;
  const contains: string[] = [];
  segments.forEach((segment, k) => {
    const wild = anyChar && segment.includes("?");
    if (!wild && segments.length > 1 && (k === 0 || k === segments.length - 1)) {
      const f = asciiFold(segment);
      if (f === undefined || f === "") return;
      if (k === 0) prefix = f;
      else suffix = f;
      return;
    }
    for (const piece of anyChar ? segment.split("?") : [segment]) {
      // Single ASCII characters rule out almost nothing and cost a scan.
      if (piece.length === 0 || (piece.length === 1 && ASCII.test(piece))) continue;
      const f = asciiFold(piece);
      if (f !== undefined) contains.push(f);
    }
  });
  if (prefix === undefined && suffix === undefined && contains.length === 0) return undefined;
  return {
    ...(prefix !== undefined ? { prefix } : {}),
    ...(suffix !== undefined ? { suffix } : {}),
    ...(contains.length > 0 ? { contains } : {}),
  };
}

/** Fields the dispatch index routes nearly every rule by (see dispatch.ts CORE_FIELDS), or that are broad. */
const ROUTED_FIELDS = new Set([
  "event.category",
  "event.type",
  "event.action",
  "event.kind",
  "event.outcome",
  "event.module",
  "event.dataset",
  "data_stream.dataset",
  "host.os.type",
  "host.os.family",
  "host.os.platform",
  "process.name",
]);

class NeedBuilder {
  private readonly fields: GuardBuilder;
  constructor(schema: Schema) {
    this.fields = new GuardBuilder(schema);
  }

  private term(path: string, shapes: (TextShape | undefined)[]): TextNeed | undefined {
    const field = this.fields.exactField(path);
    if (!field || shapes.length === 0 || shapes.some((s) => s === undefined)) return undefined;
    // Whole values of the fields dispatch routes by are checked there already (for the same values,
    // lower-cased), and most events pass them: checking them again only costs.
    if (ROUTED_FIELDS.has(field) && shapes.every((s) => s!.equals !== undefined)) return undefined;
    return { kind: "term", term: { field, shapes: shapes as TextShape[] } };
  }

  /**
   * An event query needs its condition. An event that matches no stage of a sequence or sample (nor its
   * `until`, nor a missing-event stage) changes none of its state, so those need one of their stages.
   */
  eqlQuery(query: EqlQuery): TextNeed | undefined {
    const body = query.body;
    switch (body.kind) {
      case "event":
        return this.eqlEvent(body);
      case "sequence":
        return anyOf(
          [...body.stages, ...(body.until ? [body.until] : [])].map((s) => this.eqlEvent(s.query)),
        );
      case "sample":
        return anyOf(body.stages.map((s) => this.eqlEvent(s.query)));
      default:
        return undefined;
    }
  }

  private eqlEvent(query: EventQuery): TextNeed | undefined {
    return this.eql(query.condition);
  }

  eql(e: Expression): TextNeed | undefined {
    switch (e.kind) {
      case "and":
        return allOf([this.eql(e.left), this.eql(e.right)]);
      case "or":
        return anyOf([this.eql(e.left), this.eql(e.right)]);
      case "match": {
        if (e.subject.kind !== "field") return undefined;
        if (e.operator === "regex" || e.operator === "regex~") return undefined;
        const shapes: (TextShape | undefined)[] = [];
        for (const p of e.patterns) {
          if (p.kind !== "string") return undefined;
          shapes.push(patternShape(p.value, true));
        }
        return this.term(e.subject.path, shapes);
      }
      case "in": {
        if (e.negated || e.subject.kind !== "field") return undefined;
        const shapes: (TextShape | undefined)[] = [];
        for (const v of e.values) {
          if (v.kind !== "string") return undefined;
          shapes.push(exactShape(v.value));
        }
        return this.term(e.subject.path, shapes);
      }
      case "comparison": {
        if (e.operator !== "==") return undefined;
        const [f, lit] = e.left.kind === "field" ? [e.left, e.right] : [e.right, e.left];
        if (f.kind !== "field" || lit.kind !== "string") return undefined;
        return this.term(f.path, [exactShape(lit.value)]);
      }
      default:
        return undefined;
    }
  }

  kql(node: KqlQuery): TextNeed | undefined {
    switch (node.function) {
      case "and":
        return allOf(node.arguments.map((a) => this.kql(a)));
      case "or":
        return anyOf(node.arguments.map((a) => this.kql(a)));
      case "is": {
        const [fieldNode, valueNode] = node.arguments;
        if (fieldNode.type !== "literal" || typeof fieldNode.value !== "string") return undefined;
        if (typeof valueNode.value !== "string") return undefined;
        if (valueNode.type === "literal") return this.term(fieldNode.value, [exactShape(valueNode.value)]);
        // KQL has only `*` as a wildcard.
        const pattern = valueNode.value.split(KQL_WILDCARD_SYMBOL).join("*");
        return this.term(fieldNode.value, [patternShape(pattern, false)]);
      }
      default:
        return undefined;
    }
  }
}

export function eqlTextNeed(query: EqlQuery, schema: Schema): TextNeed | undefined {
  return new NeedBuilder(schema).eqlQuery(query);
}

export function kqlTextNeed(query: KqlQuery, schema: Schema): TextNeed | undefined {
  return new NeedBuilder(schema).kql(query);
}

/**
 * Which document the folded values are for: one slot shared by every field, so the fields hold no
 * document of their own. (Each field keeping the last document it read kept documents of rarely read
 * fields alive across young-generation collections, which then promoted them.)
 */
class CurrentDocument {
  doc: JsonObject | undefined;
  /** Bumped whenever `doc` changes: a field's values are current when read in this epoch. */
  epoch = 0;
}

/** One field's values for the current document, folded: read once per document, shared by every check. */
class FoldedField {
  private epoch = -1;
  /**
   * The folded string values: the first `count` entries. The array is overwritten, never emptied: setting
   * `length = 0` drops its backing store, and re-growing it per document was most of a hunt's allocation.
   */
  readonly strings: string[] = [];
  count = 0;
  /** The field has a value that is not a string. */
  other = false;
  private readonly visit = (value: JsonValue): boolean => {
    if (typeof value === "string") this.strings[this.count++] = foldCase(value);
    else this.other = true;
    return false;
  };
  constructor(
    private readonly tester: FieldTester,
    private readonly current: CurrentDocument,
  ) {}
  read(doc: JsonObject): this {
    const current = this.current;
    if (doc !== current.doc) {
      current.doc = doc;
      current.epoch++;
    }
    if (this.epoch !== current.epoch) {
      this.epoch = current.epoch;
      // A document with many values must not keep them alive afterwards.
      if (this.strings.length > MAX_KEPT_VALUES) this.strings.length = 0;
      this.count = 0;
      this.other = false;
      this.tester(doc, this.visit);
    }
    return this;
  }
}

/** Folded values a field keeps between documents (more are dropped after the document that had them). */
const MAX_KEPT_VALUES = 64;

/** The folded values of every field some check reads, cached per document. */
export class FoldedValues {
  private readonly fields = new Map<string, FoldedField>();
  private readonly current = new CurrentDocument();
  field(path: string): FoldedField {
    let f = this.fields.get(path);
    if (!f) this.fields.set(path, (f = new FoldedField(compileFieldTester(path), this.current)));
    return f;
  }
}

export type TextCheck = (doc: JsonObject) => boolean;

function shapeTest(shape: TextShape): (v: string) => boolean {
  const { prefix, suffix, contains } = shape;
  const parts: ((v: string) => boolean)[] = [];
  if (prefix !== undefined) parts.push((v) => v.startsWith(prefix));
  if (suffix !== undefined) parts.push((v) => v.endsWith(suffix));
  for (const c of contains ?? []) parts.push((v) => v.includes(c));
  if (parts.length === 1) return parts[0];
  return (v) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i](v)) return false;
    return true;
  };
}

/**
 * Shapes needing at least this many distinct pieces of text are tested with one scan of each value for
 * all of them (NeedleScanner) instead of a string search per piece; below it, the searches cost less than
 * a scan of a path or command line.
 */
const SCAN_MIN_NEEDLES = 6;

/** One test for many shapes: a single scan of the value finds every piece, then each shape is decided. */
function shapeSetTest(shapes: readonly TextShape[]): ((v: string) => boolean) | undefined {
  const ids = new Map<string, number>();
  const id = (needle: string): number => {
    let i = ids.get(needle);
    if (i === undefined) ids.set(needle, (i = ids.size));
    return i;
  };
  // Per shape: prefix id (or -1), suffix id (or -1), the number of pieces it contains, their ids.
  const program: number[] = [];
  for (const s of shapes) {
    const contains = s.contains ?? [];
    program.push(s.prefix !== undefined ? id(s.prefix) : -1, s.suffix !== undefined ? id(s.suffix) : -1);
    program.push(contains.length, ...contains.map(id));
  }
  if (ids.size < SCAN_MIN_NEEDLES) return undefined;
  const scanner = NeedleScanner.build([...ids.keys()]);
  if (!scanner) return undefined;
  const code = Int32Array.from(program);
  const { anywhere, atStart, atEnd } = scanner;
  return (v) => {
    scanner.scan(v);
    const epoch = scanner.epoch;
    let pc = 0;
    while (pc < code.length) {
      const prefix = code[pc];
      const suffix = code[pc + 1];
      const count = code[pc + 2];
      const next = pc + 3 + count;
      let holds = (prefix < 0 || atStart[prefix] === epoch) && (suffix < 0 || atEnd[suffix] === epoch);
      for (let k = pc + 3; holds && k < next; k++) holds = anywhere[code[k]] === epoch;
      if (holds) return true;
      pc = next;
    }
    return false;
  };
}

/** Compile a need into a check over shared folded values; undefined when it requires nothing. */
export function compileTextCheck(need: TextNeed | undefined, values: FoldedValues): TextCheck | undefined {
  if (!need) return undefined;
  switch (need.kind) {
    case "term": {
      const field = values.field(need.term.field);
      const equals = new Set<string>();
      const patterns: TextShape[] = [];
      for (const s of need.term.shapes)
        if (s.equals !== undefined) equals.add(s.equals);
        else patterns.push(s);
      const scan = shapeSetTest(patterns);
      const tests = scan ? [scan] : patterns.map(shapeTest);
      // Whole values are looked up only at a length one of them has (no hashing of long command lines).
      const lengths = new Set([...equals].map((v) => v.length));
      return (doc) => {
        const f = field.read(doc);
        if (f.other) return true;
        const strings = f.strings;
        const count = f.count;
        for (let i = 0; i < count; i++) {
          const v = strings[i];
          if (lengths.has(v.length) && equals.has(v)) return true;
          for (let k = 0; k < tests.length; k++) if (tests[k](v)) return true;
        }
        return false;
      };
    }
    case "all": {
      const items = need.items.map((i) => compileTextCheck(i, values)).filter((c) => c !== undefined);
      if (items.length === 0) return undefined;
      if (items.length === 1) return items[0];
      return (doc) => {
        for (let i = 0; i < items.length; i++) if (!items[i](doc)) return false;
        return true;
      };
    }
    case "any": {
      const items = need.items.map((i) => compileTextCheck(i, values));
      if (items.some((c) => c === undefined)) return undefined;
      const checks = items as TextCheck[];
      return (doc) => {
        for (let i = 0; i < checks.length; i++) if (checks[i](doc)) return true;
        return false;
      };
    }
    default: {
      const never: never = need;
      throw new Error(`unknown need ${JSON.stringify(never)}`);
    }
  }
}
