/**
 * Join keys of sequences and samples (`by` clauses), as Elasticsearch extracts them from doc values:
 * a multi-valued key field gives one key per distinct value (sorted, nulls dropped), several key
 * fields give every combination, a missing optional field (`?field`) gives the key value null, and an
 * event missing a non-optional key takes no part.
 */
import type { Span } from "../diagnostics/index.js";
import { compileFieldTester, type FieldTester } from "../events/field-access.js";
import type { JsonObject, JsonValue } from "../events/types.js";
import type { Expression } from "./ast.js";
import {
  type CompileContext,
  compareIndexed,
  compileError,
  type ExpressionCompiler,
  indexedJson,
  indexedKey,
  indexedValues,
  resolveField,
} from "./compile.js";
import type { Indexed, Scalar } from "./values.js";

export interface JoinKey {
  /** Identity of the key tuple (for maps). */
  readonly id: string;
  /** The key as the response shows it. */
  readonly values: readonly JsonValue[];
  /** The indexed values (null for a null key), for ordering samples by key. */
  readonly indexed: readonly (Indexed | null)[];
}

/** More combinations than this from one event is refused (a hostile multi-valued key). */
export const MAX_KEY_COMBINATIONS = 1024;
export const KeyCode = { tooManyKeys: "EQL174" } as const;

type KeyPart = (doc: JsonObject) => (Indexed | null)[] | undefined;

const NO_KEY: JoinKey = { id: "", values: [], indexed: [] };

/**
 * `dateKeys`: how a date key is shown: `iso` (sequences: the field's text, as the fields API formats
 * it) or `millis` (samples: a composite aggregation's key is epoch milliseconds).
 */
export function compileKeys(
  expressions: readonly Expression[],
  compiler: ExpressionCompiler,
  context: CompileContext,
  span: Span,
  dateKeys: "iso" | "millis" = "iso",
): (doc: JsonObject) => JoinKey[] {
  if (expressions.length === 0) return () => [NO_KEY];
  const parts: KeyPart[] = expressions.map((e) => keyPart(e, compiler, context));
  const n = parts.length;
  const plain = plainKey(expressions, context);
  return (doc) => {
    if (plain) {
      const key = plain(doc);
      if (key) return [key];
    }
    // Most events have one value per key field: one key, built without the combinations' arrays.
    let single: (Indexed | null)[] | undefined = [];
    let many: (Indexed | null)[][] | undefined;
    for (let p = 0; p < n; p++) {
      const values = parts[p](doc);
      if (values === undefined) return [];
      if (single && values.length === 1) {
        single.push(values[0]);
        continue;
      }
      many ??= [single ?? []];
      single = undefined;
      const next: (Indexed | null)[][] = [];
      for (const c of many) for (const v of values) next.push([...c, v]);
      if (next.length > MAX_KEY_COMBINATIONS) {
        throw compileError(
          KeyCode.tooManyKeys,
          `an event has more than ${MAX_KEY_COMBINATIONS} join-key combinations (multi-valued \`by\` fields)`,
          span,
        );
      }
      many = next;
    }
    if (single) return [new BuiltKey(single, dateKeys)];
    return many!.map((indexed) => new BuiltKey(indexed, dateKeys));
  };
}

/** A key tuple; its display values are built only when a hit shows them (most keys never reach one). */
class BuiltKey implements JoinKey {
  readonly id: string;
  private shown: JsonValue[] | undefined;
  constructor(
    readonly indexed: readonly (Indexed | null)[],
    private readonly dateKeys: "iso" | "millis",
  ) {
    let id = "";
    for (let i = 0; i < indexed.length; i++) {
      const x = indexed[i];
      const k = x === null ? "null" : indexedKey(x);
      id = i === 0 ? k : `${id}\u0000${k}`;
    }
    this.id = id;
  }
  get values(): readonly JsonValue[] {
    this.shown ??= this.indexed.map((x) => (x === null ? null : keyJson(x, this.dateKeys)));
    return this.shown;
  }
}

/**
 * Join keys made only of keyword fields (the usual `by host.id, process.entity_id`), for events with one
 * string value in each: the key's id straight from the values, its indexed form only when asked for. Most
 * keys of a hunt are extracted from events that start or advance a sequence and are never shown, so the
 * indexed values, their arrays and the per-part lists the general path builds would be garbage at once.
 * Undefined when some part is not such a field; the function's undefined sends an event to the general path.
 */
function plainKey(
  expressions: readonly Expression[],
  context: CompileContext,
): ((doc: JsonObject) => JoinKey | undefined) | undefined {
  const testers: FieldTester[] = [];
  for (const e of expressions) {
    if (e.kind !== "field") return undefined;
    const field = resolveField(e, context);
    if (field.absent || field.dateParser || field.normalizer || field.nullValue !== undefined)
      return undefined;
    if (field.kind !== "keyword" && field.kind !== "dynamic") return undefined;
    testers.push(compileFieldTester(field.path));
  }
  const n = testers.length;
  let count = 0;
  let found: JsonValue | undefined;
  const take = (value: JsonValue): boolean => {
    found = value;
    return ++count > 1;
  };
  return (doc) => {
    let id = "";
    const texts: string[] = [];
    for (let p = 0; p < n; p++) {
      count = 0;
      found = undefined;
      testers[p](doc, take);
      const value = found;
      found = undefined;
      if (count !== 1 || typeof value !== "string") return undefined;
      texts.push(value);
      id = p === 0 ? `s:${value}` : `${id}\u0000s:${value}`;
    }
    return new TextKey(id, texts);
  };
}

/** A key of keyword values (see `plainKey`): the same id, values and indexed form as a BuiltKey of them. */
class TextKey implements JoinKey {
  private indexedForm: (Indexed | null)[] | undefined;
  constructor(
    readonly id: string,
    readonly values: readonly string[],
  ) {}
  get indexed(): readonly (Indexed | null)[] {
    this.indexedForm ??= this.values.map((v): Indexed => ({ kind: "keyword", v }));
    return this.indexedForm;
  }
}

function keyPart(e: Expression, compiler: ExpressionCompiler, context: CompileContext): KeyPart {
  if (e.kind === "field") {
    const field = resolveField(e, context);
    if (field.absent) return () => [null];
    const values = indexedValues(field);
    const optional = e.optional;
    return (doc) => {
      const all = values(doc);
      if (all.length === 0) return optional ? [null] : undefined;
      if (all.length === 1) return all;
      all.sort(compareIndexed);
      const out: Indexed[] = [all[0]];
      for (let i = 1; i < all.length; i++)
        if (compareIndexed(all[i], out[out.length - 1]) !== 0) out.push(all[i]);
      return out;
    };
  }
  const value = compiler.value(e).fn;
  return (doc) => {
    const v = value(doc);
    return v === null ? undefined : [scalarIndexed(v)];
  };
}

function keyJson(x: Indexed, dateKeys: "iso" | "millis"): JsonValue {
  if (x.kind === "date" && dateKeys === "millis") {
    const ms = x.v / 1_000_000n;
    return Number.isSafeInteger(Number(ms)) ? Number(ms) : ms;
  }
  return indexedJson(x);
}

function scalarIndexed(v: Exclude<Scalar, null>): Indexed {
  switch (typeof v) {
    case "string":
      return { kind: "keyword", v };
    case "boolean":
      return { kind: "boolean", v };
    case "bigint":
      return { kind: "integer", v };
    default:
      return Number.isInteger(v) ? { kind: "integer", v } : { kind: "float", v };
  }
}
