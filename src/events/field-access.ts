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
  const slot = slotFor(segments);
  return (doc) => {
    const out: JsonValue[] = [];
    if (doc === projection.doc) {
      if (projection.stamp[slot] === projection.epoch) pushFlat(projection.values[slot], out);
    } else resolve(doc, 0, out);
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
  const slot = slotFor(segments);
  return (doc, test) => {
    if (doc === projection.doc)
      return projection.stamp[slot] === projection.epoch && testFlat(projection.values[slot], test);
    return resolve(doc, 0, test);
  };
}

// ---------------------------------------------------------------------------------------------------
// The projected document

/**
 * Every multi-segment path a tester or getter was compiled for, as a trie by segment; a path's node holds
 * its slot in the projection. Trie keys never hold a `.`.
 */
interface PathNode {
  readonly children: Map<string, PathNode>;
  slot: number;
  /**
   * The keys of the last object walked at this node, in order, and what each resolved to: parsed events
   * of one source share their key order (and V8 hands out the same key strings), so most keys are matched
   * by identity with the previous object's instead of looked up in `children`.
   */
  readonly seenKeys: string[];
  readonly seenChildren: (PathNode | null | typeof DOTTED_PATH)[];
}

/** A dotted key that spells part of a compiled path (`{"process.name": ...}`): the walk gives up. */
const DOTTED_PATH = 0;
/** Keys remembered per trie node: an object with more (hostile input) is not remembered past them. */
const MAX_SEEN_KEYS = 512;

function pathNode(): PathNode {
  return { children: new Map(), slot: -1, seenKeys: [], seenChildren: [] };
}

const paths: PathNode = pathNode();
let slots = 0;

/**
 * The values of every compiled path in one document, read by a single walk over the document
 * (`projectDocument`): a reader of the projected document takes its values from its slot instead of
 * looking the path up level by level. A hunt of the detection-rules corpus reads ~75 multi-segment fields
 * per event, most of them more than once (dispatch, literal pre-checks, the rules themselves).
 * A slot holds the value reached (a JSON array as it is), or, when the path reaches several values
 * through arrays of objects, a list of them in the order a path lookup finds them; readers flatten either.
 */
const projection = {
  doc: undefined as JsonObject | undefined,
  epoch: 0,
  /** Per slot: the epoch its value was written in (other slots are absent from the document). */
  stamp: new Int32Array(256),
  /** Per slot: the epoch in which its value became a list of values made here. */
  multi: new Int32Array(256),
  values: [] as JsonValue[],
};

function slotFor(segments: readonly string[]): number {
  let node = paths;
  const visited: PathNode[] = [];
  let grew = false;
  for (const segment of segments) {
    visited.push(node);
    let child = node.children.get(segment);
    if (!child) {
      node.children.set(segment, (child = pathNode()));
      grew = true;
    }
    node = child;
  }
  // A new path can change what a key seen before resolves to, here or (a dotted key) at any node above.
  if (grew)
    for (const n of visited) {
      n.seenKeys.length = 0;
      n.seenChildren.length = 0;
    }
  if (node.slot < 0) {
    node.slot = slots++;
    if (slots > projection.stamp.length) {
      const grown = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      projection.stamp = grown(projection.stamp);
      projection.multi = grown(projection.multi);
    }
    // A projection made before this path existed has no value for it: it must not answer for it.
    projection.doc = undefined;
  }
  return node.slot;
}

/** The last epoch before the stamps are reset (they are Int32Array entries). */
const MAX_EPOCH = 0x7fff_ffff - 1;

/** Arrays and objects nested deeper than this are not walked: the document is then read path by path. */
const MAX_PROJECT_DEPTH = 64;

/**
 * Walk a parsed document once and keep the values of every compiled path, so that reads of this document
 * (until the next call) cost one slot lookup. Only the parts of the document some path enters are
 * visited. A document with a dotted key where a path could run through it (`{"process.name": ...}`),
 * or nested too deeply, is not projected: it is read path by path, as any other document. Returns
 * whether it was projected. The document must not be modified while it is the projected one.
 */
export function projectDocument(doc: JsonObject): boolean {
  projection.doc = undefined;
  if (projection.epoch >= MAX_EPOCH) {
    // Stamps are 32-bit: before the epoch would wrap, forget every stamp and count again.
    projection.stamp.fill(0);
    projection.multi.fill(0);
    projection.epoch = 0;
  }
  const epoch = ++projection.epoch;
  if (!projectObject(doc, paths, epoch, 0)) return false;
  projection.doc = doc;
  return true;
}

function projectObject(node: JsonObject, trie: PathNode, epoch: number, depth: number): boolean {
  const seenKeys = trie.seenKeys;
  const seenChildren = trie.seenChildren;
  let i = 0;
  for (const key in node) {
    let child: PathNode | null | typeof DOTTED_PATH;
    if (seenKeys[i] === key) child = seenChildren[i];
    else {
      child =
        trie.children.get(key) ??
        // A dotted key that spells part of a compiled path (`{"process.name": ...}`): read path by path.
        (key.indexOf(".") >= 0 && spellsPath(trie, key) ? DOTTED_PATH : null);
      if (i < MAX_SEEN_KEYS) {
        seenKeys[i] = key;
        seenChildren[i] = child;
      }
    }
    i++;
    if (child === null) continue;
    if (child === DOTTED_PATH) return false;
    const value = node[key];
    if (value === null || !isOwnJsonValue(value)) continue;
    if (child.slot >= 0) record(child.slot, value, epoch);
    if (typeof value === "object" && child.children.size > 0 && !projectValue(value, child, epoch, depth + 1))
      return false;
  }
  return true;
}

/** Whether the segments of a dotted key lead through the trie from `trie`. */
function spellsPath(trie: PathNode, key: string): boolean {
  let node: PathNode | undefined = trie;
  for (const segment of key.split(".")) {
    node = node.children.get(segment);
    if (!node) return false;
  }
  return true;
}

function projectValue(
  value: JsonObject | JsonValue[],
  trie: PathNode,
  epoch: number,
  depth: number,
): boolean {
  if (depth > MAX_PROJECT_DEPTH) return false;
  if (!Array.isArray(value)) return projectObject(value, trie, epoch, depth);
  for (const element of value)
    if (element !== null && typeof element === "object" && !projectValue(element, trie, epoch, depth + 1))
      return false;
  return true;
}

function record(slot: number, value: JsonValue, epoch: number): void {
  const values = projection.values;
  if (projection.stamp[slot] !== epoch) {
    projection.stamp[slot] = epoch;
    values[slot] = value;
  } else if (projection.multi[slot] !== epoch) {
    projection.multi[slot] = epoch;
    values[slot] = [values[slot], value];
  } else (values[slot] as JsonValue[]).push(value);
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
