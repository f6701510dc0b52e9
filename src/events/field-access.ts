import type { JsonObject, JsonValue } from "./types.js";

/**
 * Reads every value of one field from a document, the way Elasticsearch resolves a field path:
 * nested objects, dotted keys (`{"process.name": ...}`) and any mixture of the two, arrays of values and
 * arrays of objects (multi-valued fields). Arrays are flattened and `null`s dropped, so a missing field,
 * `null` and `[]` all give an empty list. Objects found at the path are returned as they are.
 */
export type FieldGetter = (doc: JsonObject) => JsonValue[];

const getterCache = new Map<string, FieldGetter>();

/** Compile a field path once; engines call the returned getter per event. */
export function compileField(path: string): FieldGetter {
  const cached = getterCache.get(path);
  if (cached) return cached;
  const getter = buildGetter(path);
  if (getterCache.size < 100_000) getterCache.set(path, getter);
  return getter;
}

function buildGetter(path: string): FieldGetter {
  const segments = path.split(".");
  const n = segments.length;
  // keys[i][j] = segments i..j-1 joined by "." : every way a dotted key can cover part of the path.
  const keys: string[][] = [];
  for (let i = 0; i < n; i++) {
    const row: string[] = [];
    for (let j = i + 1; j <= n; j++) row[j] = segments.slice(i, j).join(".");
    keys[i] = row;
  }
  if (n === 1) {
    const key = path;
    return (doc) => {
      const out: JsonValue[] = [];
      if (Object.hasOwn(doc, key)) pushFlat(doc[key] as JsonValue, out);
      return out;
    };
  }
  const resolve = (node: JsonValue, at: number, out: JsonValue[]): void => {
    if (node === null) return;
    if (Array.isArray(node)) {
      for (const element of node) resolve(element, at, out);
      return;
    }
    if (at === n) {
      out.push(node);
      return;
    }
    if (typeof node !== "object" || typeof node === "bigint") return;
    const row = keys[at];
    for (let j = at + 1; j <= n; j++) {
      const key = row[j];
      if (Object.hasOwn(node, key)) resolve((node as JsonObject)[key] as JsonValue, j, out);
    }
  };
  return (doc) => {
    const out: JsonValue[] = [];
    resolve(doc, 0, out);
    return out;
  };
}

function pushFlat(value: JsonValue, out: JsonValue[]): void {
  if (value === null) return;
  if (Array.isArray(value)) {
    for (const element of value) pushFlat(element, out);
    return;
  }
  out.push(value);
}

/**
 * Tests the values of one field without building a list: calls `test` on each value (arrays flattened,
 * `null`s dropped, the same values and order `compileField` gives) until it returns true. Returns whether
 * one did. The hot path of every "any value matches" comparison; it allocates nothing per event.
 */
export type FieldTester = (doc: JsonObject, test: (value: JsonValue) => boolean) => boolean;

const testerCache = new Map<string, FieldTester>();

export function compileFieldTester(path: string): FieldTester {
  const cached = testerCache.get(path);
  if (cached) return cached;
  const tester = buildTester(path);
  if (testerCache.size < 100_000) testerCache.set(path, tester);
  return tester;
}

function testFlat(value: JsonValue, test: (value: JsonValue) => boolean): boolean {
  if (value === null) return false;
  if (Array.isArray(value)) {
    for (const element of value) if (testFlat(element, test)) return true;
    return false;
  }
  return test(value);
}

function buildTester(path: string): FieldTester {
  const segments = path.split(".");
  const n = segments.length;
  if (n === 1) {
    const key = path;
    if (key === "__proto__")
      return (doc, test) => Object.hasOwn(doc, key) && testFlat(doc[key] as JsonValue, test);
    return (doc, test) => {
      const value = doc[key];
      return value !== undefined && isOwnJsonValue(value) && testFlat(value, test);
    };
  }
  const keys: string[][] = [];
  for (let i = 0; i < n; i++) {
    const row: string[] = [];
    for (let j = i + 1; j <= n; j++) row[j] = segments.slice(i, j).join(".");
    keys[i] = row;
  }
  const resolve = (node: JsonValue, at: number, test: (value: JsonValue) => boolean): boolean => {
    if (node === null) return false;
    if (Array.isArray(node)) {
      for (const element of node) if (resolve(element, at, test)) return true;
      return false;
    }
    if (at === n) return test(node);
    if (typeof node !== "object") return false;
    const row = keys[at];
    for (let j = at + 1; j <= n; j++) {
      const key = row[j];
      const child = (node as JsonObject)[key];
      if (child === undefined) continue;
      const own = key === "__proto__" ? Object.hasOwn(node, key) : isOwnJsonValue(child);
      if (own && resolve(child, j, test)) return true;
    }
    return false;
  };
  // A document marked nested-only has no dotted key anywhere: one lookup per segment is the whole path.
  const nested = (node: JsonValue, at: number, test: (value: JsonValue) => boolean): boolean => {
    if (node === null) return false;
    if (Array.isArray(node)) {
      for (const element of node) if (nested(element, at, test)) return true;
      return false;
    }
    if (at === n) return test(node);
    if (typeof node !== "object") return false;
    const key = segments[at];
    const child = (node as JsonObject)[key];
    if (child === undefined) return false;
    if (key === "__proto__" ? !Object.hasOwn(node, key) : !isOwnJsonValue(child)) return false;
    return nested(child, at + 1, test);
  };
  return (doc, test) =>
    (doc as Marked)[NESTED_ONLY] === true ? nested(doc, 0, test) : resolve(doc, 0, test);
}

/**
 * Marks a parsed document whose keys hold no `.` at any depth, so that field testers skip the dotted-key
 * lookups a path otherwise needs at every level (`a.b.c` is also `{"a.b": {"c"}}`, `{"a.b.c"}`, ...).
 * One walk over the document's keys costs less than those lookups once a consumer reads dozens of
 * fields per event (a hunt); engines reading a few fields do not mark. The mark is a non-enumerable
 * symbol: JSON output, key enumeration and structured clones do not see it. Marked documents must not be
 * modified afterwards.
 */
export function markNestedOnly(doc: JsonObject): void {
  // A frozen document (a caller's own) is left unmarked: it is read the general way.
  if (Object.isExtensible(doc) && !hasDottedKey(doc, 0))
    Object.defineProperty(doc, NESTED_ONLY, { value: true });
}

const NESTED_ONLY: unique symbol = Symbol("quarry.nestedOnly");

type Marked = JsonObject & { [NESTED_ONLY]?: true };

/** Documents nested deeper than this are not walked (and so never marked). */
const MAX_MARK_DEPTH = 64;

function hasDottedKey(node: JsonObject | JsonValue[], depth: number): boolean {
  if (depth > MAX_MARK_DEPTH) return true;
  if (Array.isArray(node)) {
    for (const element of node)
      if (element !== null && typeof element === "object" && hasDottedKey(element as JsonObject, depth + 1))
        return true;
    return false;
  }
  for (const key in node) {
    if (key.indexOf(".") >= 0) return true;
    const value = node[key];
    if (value !== null && typeof value === "object" && hasDottedKey(value as JsonObject, depth + 1))
      return true;
  }
  return false;
}

/**
 * Whether a value read by key from a parsed document is the document's own: what objects inherit from
 * Object.prototype is a function (`constructor`, `toString`, ...) except through `__proto__`, which callers
 * check with Object.hasOwn, and JSON never holds a function. Saves an Object.hasOwn per path step.
 */
function isOwnJsonValue(value: unknown): boolean {
  return typeof value !== "function";
}

/** Reads the first value of a field (as `compileField(path)(doc)[0]`) without allocating. */
export type FirstValueGetter = (doc: JsonObject) => JsonValue | undefined;

export function compileFirstValue(path: string): FirstValueGetter {
  const tester = compileFieldTester(path);
  let found: JsonValue | undefined;
  const take = (value: JsonValue): boolean => {
    found = value;
    return true;
  };
  return (doc) => {
    found = undefined;
    tester(doc, take);
    const value = found;
    found = undefined;
    return value;
  };
}

/** First value of a field, or undefined: for single-valued reads such as `@timestamp` or `host.name`. */
export function firstValue(doc: JsonObject, getter: FieldGetter): JsonValue | undefined {
  const values = getter(doc);
  return values.length > 0 ? values[0] : undefined;
}
