import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compileField,
  compileFieldTester,
  compileFirstValue,
  projectDocument,
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

test("property: a projected document reads exactly as one read path by path", () => {
  let projected = 0;
  const pathsRead = ["a", "a.b", "a.b.c", "b.c", "c", "__proto__.a", "a.__proto__", "b.a.b"];
  // Compiled before any projection, as a hunt compiles its rules first.
  for (const path of pathsRead) compileFieldTester(path);
  fc.assert(
    fc.property(docArb, fc.constantFrom(...pathsRead), (doc, path) => {
      const copy = JSON.parse(JSON.stringify(doc)) as JsonObject;
      const before = JSON.stringify(copy);
      if (projectDocument(copy)) projected++;
      assert.equal(JSON.stringify(copy), before);
      const expected = compileField(path)(JSON.parse(before) as JsonObject);
      const seen: JsonValue[] = [];
      compileFieldTester(path)(copy, (value) => {
        seen.push(value);
        return false;
      });
      assert.deepEqual(seen, expected);
      assert.deepEqual(compileField(path)(copy), expected);
      assert.deepEqual(compileFirstValue(path)(copy), expected[0]);
    }),
    { numRuns: 3000 },
  );
  assert.ok(projected > 300, `documents were projected (${projected})`);
});

test("projectDocument: dotted keys where a path runs, at any depth or inside arrays, are read path by path", () => {
  const docs: JsonObject[] = [
    { "a.b": { c: 1 }, a: { b: { c: 2 } } },
    { a: [{ "b.c": 1 }, { b: { c: 2 } }] },
    { a: { b: [[{ c: 1 }], { "c.d": 0, c: 2 }] } },
    { a: { b: [[{ c: 1 }], [[{ c: 3 }, null, { c: [4, [5]] }]], { c: 2 }] } },
    { a: { b: { c: null } }, "x.y": 1 },
  ];
  for (const path of ["a.b.c", "a.b", "a"]) compileFieldTester(path);
  // A dotted key that no compiled path runs through ("x.y"; "c.d" where no path goes on from c) does not
  // stop the projection.
  const projects = [false, false, true, true, true];
  docs.forEach((doc, i) => {
    const plain = JSON.parse(JSON.stringify(doc)) as JsonObject;
    assert.equal(projectDocument(doc), projects[i], JSON.stringify(doc));
    for (const path of ["a.b.c", "a.b", "a"]) {
      const seen: JsonValue[] = [];
      compileFieldTester(path)(doc, (v) => {
        seen.push(v);
        return false;
      });
      assert.deepEqual(seen, compileField(path)(plain), `${JSON.stringify(plain)} ${path}`);
    }
  });
});

test("projectDocument: a path compiled after the projection, a frozen or deeply nested document", () => {
  compileFieldTester("p.q");
  const doc = Object.freeze({ p: Object.freeze({ q: 1, r: { s: 2 } }) }) as JsonObject;
  assert.equal(projectDocument(doc), true);
  assert.deepEqual(compileField("p.q")(doc), [1]);
  // New path: the projection made before it cannot answer for it, so it is read path by path.
  assert.deepEqual(compileField("p.r.s")(doc), [2]);
  assert.equal(
    compileFieldTester("p.q")(doc, (v) => v === 1),
    true,
  );
  let deep: JsonValue = { q: 7 };
  for (let i = 0; i < 200; i++) deep = [deep];
  const nested = { p: deep } as JsonObject;
  assert.equal(projectDocument(nested), false);
  assert.deepEqual(compileField("p.q")(nested), [7]);
});

test("projectDocument: a path compiled later changes what a key seen before resolves to, at any depth", () => {
  // Per case: a dotted key no compiled path runs through yet (the walk goes on), then a path through it
  // two levels down, compiled between two documents of the same shape (the second is read path by path).
  const cases: [string, string, () => JsonObject][] = [
    ["u", "u.v.w", () => ({ "u.v.w": 1, u: { v: { w: 3 } } })],
    ["x", "x.y.z", () => ({ x: { "y.z": 2, y: { z: 3 } } })],
  ];
  for (const [first, later, shaped] of cases) {
    compileFieldTester(first);
    assert.equal(projectDocument(shaped()), true, later);
    compileFieldTester(later);
    const doc = shaped();
    assert.equal(projectDocument(doc), false, later);
    assert.deepEqual(compileField(later)(doc), compileField(later)(shaped()));
  }
});
