import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compileField,
  compileFieldTester,
  compileFirstValue,
  markNestedOnly,
} from "../../src/events/field-access.js";
import type { JsonObject, JsonValue } from "../../src/events/types.js";
import fc from "../fc.js";

const get = (path: string, doc: JsonObject) => compileField(path)(doc);

test("nested objects", () => {
  assert.deepEqual(get("process.parent.name", { process: { parent: { name: "a.exe" } } }), ["a.exe"]);
});

test("dotted keys and mixtures of dotted and nested", () => {
  assert.deepEqual(get("process.parent.name", { "process.parent.name": "x" }), ["x"]);
  assert.deepEqual(get("process.parent.name", { process: { "parent.name": "y" } }), ["y"]);
  assert.deepEqual(get("process.parent.name", { "process.parent": { name: "z" } }), ["z"]);
  // Both spellings present: Elasticsearch indexes both values into one field.
  assert.deepEqual(get("a.b", { "a.b": 1, a: { b: 2 } }).sort(), [1, 2]);
});

test("arrays of values and arrays of objects are multi-valued fields", () => {
  assert.deepEqual(get("event.category", { event: { category: ["process", "network"] } }), [
    "process",
    "network",
  ]);
  assert.deepEqual(get("dll.name", { dll: [{ name: "a.dll" }, { name: "b.dll" }, { path: "x" }] }), [
    "a.dll",
    "b.dll",
  ]);
  assert.deepEqual(get("a.b", { a: [{ b: [1, [2]] }, { b: null }] }), [1, 2]);
});

test("missing, null and empty arrays give no values", () => {
  assert.deepEqual(get("a.b", {}), []);
  assert.deepEqual(get("a.b", { a: null }), []);
  assert.deepEqual(get("a.b", { a: { b: null } }), []);
  assert.deepEqual(get("a.b", { a: { b: [] } }), []);
  assert.deepEqual(get("a.b", { a: "scalar" }), []);
});

test("objects at the path are returned (exists semantics are the engine's call)", () => {
  assert.deepEqual(get("a", { a: { b: 1 } }), [{ b: 1 }]);
});

test("keys that look like prototype members are plain data", () => {
  assert.deepEqual(get("constructor", {}), []);
  assert.deepEqual(get("__proto__.x", JSON.parse('{"__proto__": {"x": 1}}') as JsonObject), [1]);
});

// The non-allocating readers must agree with compileField on every document shape.
const keyArb = fc.constantFrom("a", "b", "a.b", "b.c", "a.b.c", "c", "__proto__", "constructor");
const leafArb = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 3 }), fc.boolean());
const docArb = fc.letrec<{ doc: JsonObject; value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    leafArb,
    fc.array(tie("value"), { maxLength: 3 }),
    tie("doc"),
  ) as fc.Arbitrary<JsonValue>,
  doc: fc.dictionary(keyArb, tie("value"), { maxKeys: 4 }) as fc.Arbitrary<JsonObject>,
})).doc;

test("property: compileFieldTester and compileFirstValue agree with compileField", () => {
  fc.assert(
    fc.property(docArb, fc.constantFrom("a", "a.b", "a.b.c", "b.c", "c", "constructor"), (doc, path) => {
      const all = compileField(path)(doc);
      const seen: JsonValue[] = [];
      const found = compileFieldTester(path)(doc, (value) => {
        seen.push(value);
        return false;
      });
      assert.equal(found, false);
      assert.deepEqual(seen, all);
      assert.equal(
        compileFieldTester(path)(doc, () => true),
        all.length > 0,
      );
      assert.deepEqual(compileFirstValue(path)(doc), all[0]);
    }),
    { numRuns: 3000 },
  );
});

test("property: a document marked nested-only reads exactly as unmarked, and the mark is invisible", () => {
  let marked = 0;
  fc.assert(
    fc.property(docArb, fc.constantFrom("a", "a.b", "a.b.c", "b.c", "c", "__proto__.a"), (doc, path) => {
      const copy = JSON.parse(JSON.stringify(doc)) as JsonObject;
      const before = JSON.stringify(copy);
      markNestedOnly(copy);
      assert.equal(JSON.stringify(copy), before);
      assert.deepEqual(Object.keys(copy), Object.keys(JSON.parse(before) as JsonObject));
      assert.deepEqual(copy, JSON.parse(before));
      const expected = compileField(path)(JSON.parse(before) as JsonObject);
      const seen: JsonValue[] = [];
      compileFieldTester(path)(copy, (value) => {
        seen.push(value);
        return false;
      });
      assert.deepEqual(seen, expected);
      if (!before.includes('.":') && !/"[^"]*\.[^"]*":/.test(before)) marked++;
    }),
    { numRuns: 3000 },
  );
  assert.ok(marked > 300, `documents without dotted keys were generated (${marked})`);
});

test("markNestedOnly: dotted keys at any depth, also inside arrays, keep the full resolution", () => {
  const docs: JsonObject[] = [
    { "a.b": { c: 1 }, a: { b: { c: 2 } } },
    { a: [{ "b.c": 1 }, { b: { c: 2 } }] },
    { a: { b: [[{ c: 1 }], { "c.d": 0, c: 2 }] } },
  ];
  for (const doc of docs) {
    const plain = JSON.parse(JSON.stringify(doc)) as JsonObject;
    markNestedOnly(doc);
    for (const path of ["a.b.c", "a.b", "a"]) {
      const seen: JsonValue[] = [];
      compileFieldTester(path)(doc, (v) => {
        seen.push(v);
        return false;
      });
      assert.deepEqual(seen, compileField(path)(plain), `${JSON.stringify(plain)} ${path}`);
    }
  }
});

test("markNestedOnly leaves a frozen document unmarked and readable", () => {
  const doc = Object.freeze({ a: Object.freeze({ b: 1 }) }) as JsonObject;
  markNestedOnly(doc);
  assert.deepEqual(compileField("a.b")(doc), [1]);
  assert.equal(
    compileFieldTester("a.b")(doc, (v) => v === 1),
    true,
  );
});
