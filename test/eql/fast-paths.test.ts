/**
 * The evaluator's allocation-free fast paths agree with the plain definitions they replace: folded
 * equality, folded wildcard tests, `startsWith~`/`endsWith~` with a constant, single-value script reads,
 * the shared category read, pending sequence events held as text, and join keys of keyword values.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileEql } from "../../src/eql/index.js";
import { compileWildcard, foldCase, foldedEquals } from "../../src/eql/wildcard.js";
import type { JsonObject } from "../../src/events/types.js";
import { ecsSchema, layeredSchema, parseMapping } from "../../src/schema/index.js";
import fc from "../fc.js";
import { event, ids, matches, noMatch, runAll } from "./engine-helpers.js";

/** Text mixing ASCII with characters whose case mapping is unusual (Kelvin sign, dotted I, sigma, ß). */
const tricky = fc.string({
  unit: fc.constantFrom(
    "a",
    "A",
    "z",
    "Z",
    "k",
    "K",
    "\u212a",
    "\u0130",
    "i",
    "\u03a3",
    "\u03c3",
    "\u00df",
    ".",
  ),
  maxLength: 8,
});

test("foldedEquals(v, foldCase(p)) is foldCase(v) === foldCase(p)", () => {
  fc.assert(
    fc.property(tricky, tricky, (v, p) => {
      assert.equal(foldedEquals(v, foldCase(p)), foldCase(v) === foldCase(p));
    }),
  );
  assert.ok(foldedEquals("3CXDesktopApp.EXE", "3cxdesktopapp.exe"));
  assert.ok(!foldedEquals("3CXDesktopApp.exe ", "3cxdesktopapp.exe"));
});

test("a case-insensitive wildcard tests a folded value as test() does", () => {
  const pattern = fc.string({ unit: fc.constantFrom("a", "K", "\u212a", "*", "?", "\u03a3"), maxLength: 6 });
  fc.assert(
    fc.property(pattern, tricky, (p, v) => {
      const m = compileWildcard(p, true);
      assert.equal(m.testFolded(foldCase(v)), m.test(v));
    }),
  );
  // Too short for the pattern's fixed text: rejected before any scan.
  assert.equal(compileWildcard("*abc*def", true).test("abcde"), false);
  assert.equal(compileWildcard("a?c", false).test("a\u{1f600}c"), true);
});

test("startsWith~ / endsWith~ with a constant agree with lower-casing both sides", () => {
  const text = fc.string({
    unit: fc.constantFrom("a", "B", "c", "\u0130", "\u212a", "k", "\u03a3", "x"),
    maxLength: 6,
  });
  fc.assert(
    fc.property(text, text, (s, p) => {
      const doc = { a: s, b: p };
      for (const fn of ["startsWith", "endsWith"] as const) {
        const expected =
          fn === "startsWith"
            ? s.toLowerCase().startsWith(p.toLowerCase())
            : s.toLowerCase().endsWith(p.toLowerCase());
        const constant = compileEql(`any where ${fn}~(a, ${JSON.stringify(p)})`).matches?.(event(doc));
        const computed = compileEql(`any where ${fn}~(a, b)`).matches?.(event(doc));
        assert.equal(constant, expected, `${fn}~(${JSON.stringify(s)}, ${JSON.stringify(p)})`);
        assert.equal(computed, expected);
      }
    }),
  );
});

test("a function reads a multi-valued field's smallest value, a single value directly", () => {
  matches("length(a) == 1", { a: ["bb", "a"] });
  matches('startsWith~(a, "B")', { a: ["bb", "c"] });
  noMatch('startsWith~(a, "C")', { a: ["bb", "c"] });
  matches("length(a) == 3", { a: "abc" });
  matches("length(a) == 2", { a: 12 });
  matches("length(a) == null", { a: [] });
  matches("length(a) == null", { b: 1 });
  matches("length(a.b) == 2", { "a.b": "xy" });
});

test("a sequence reads the category once per event and still matches every stage it names", () => {
  const sources: JsonObject[] = [
    { id: 1, "@timestamp": 1, event: { category: ["process", "network"] }, k: "x" },
    { id: 2, "@timestamp": 2, event: { category: "file" }, k: "x" },
    { id: 3, "@timestamp": 3, event: { category: ["network"] }, k: "x" },
  ];
  const hits = runAll("sequence by k [process where true] [file where true] [network where true]", sources);
  assert.deepEqual(ids(hits), [[1, 2, 3]]);
  // `until` shares the category read: an until event of the key drops the pending sequence.
  const dropped = runAll("sequence by k [process where true] [network where true] until [file where true]", [
    sources[0],
    sources[1],
    sources[2],
  ]);
  assert.deepEqual(ids(dropped), []);
});

test("events held by pending sequences come back whole (document, id, index, seq)", () => {
  const sources: JsonObject[] = [
    { id: 1, "@timestamp": 1, event: { category: "process" }, k: "x", big: 12345678901234567890n },
    { id: 2, "@timestamp": 2, event: { category: "process" }, k: "y" },
    { id: 3, "@timestamp": 3, event: { category: "file" }, k: "x", nested: { a: [1, null, "z"] } },
  ];
  const q = compileEql("sequence by k [process where true] [file where true]");
  const run = q.start();
  // The text of each document as the reader keeps it (the long integer exactly as written).
  const records = sources.map((s, i) => ({
    source: s,
    raw: JSON.stringify(s, (_k, v) => (typeof v === "bigint" ? "<big>" : v)).replace(
      '"<big>"',
      "12345678901234567890",
    ),
    index: "test",
    id: String(i),
    provenance: { file: "test" },
    seq: i,
  }));
  const hits = records.flatMap((r) => run.push(r) ?? []);
  hits.push(...run.finish());
  assert.equal(hits.length, 1);
  const hit = hits[0];
  assert.equal(hit.kind, "sequence");
  if (hit.kind !== "sequence") return;
  const [first, second] = hit.events;
  assert.ok(first && second);
  assert.deepEqual(first.source, sources[0]);
  assert.equal(first.source.big, 12345678901234567890n);
  assert.equal(first.id, "0");
  assert.equal(first.index, "test");
  assert.equal(first.seq, 0);
  assert.deepEqual(first.provenance, { file: "test" });
  assert.equal(first.raw, records[0].raw);
  assert.equal(second, records[2]);
});

test("events without their text are held as they are", () => {
  const sources: JsonObject[] = [
    { "@timestamp": 1, event: { category: "process" }, k: "x" },
    { "@timestamp": 2, event: { category: "file" }, k: "x" },
  ];
  const records = sources.map((s, i) => ({ ...event(s, i), raw: "" }));
  const run = compileEql("sequence by k [process where true] [file where true]").start();
  const hits = records.flatMap((r) => run.push(r) ?? []);
  hits.push(...run.finish());
  assert.equal(hits.length, 1);
  const hit = hits[0];
  assert.ok(hit.kind === "sequence" && hit.events[0] === records[0]);
});

test("endsWith~ with a constant: a length-changing lower case before the suffix (İ) keeps it aligned", () => {
  // "aİc".toLowerCase() is "ai̇c": it ends with "İc".toLowerCase(); found by a random fast-check seed.
  const q = compileEql('any where endsWith~(a, "İc")');
  assert.equal(q.matches?.(event({ a: "aİc" })), true);
  assert.equal(q.matches?.(event({ a: "aİd" })), false);
});

test("join keys read straight from keyword values are the keys the general path builds", () => {
  // A mapping's null_value sends a key field through the general path (indexed values, sorted and
  // deduplicated combinations); with no explicit nulls in the events, the keys must be the same.
  const general = {
    schema: layeredSchema(
      parseMapping(
        JSON.stringify({
          properties: {
            user: { properties: { name: { type: "keyword", null_value: "none" } } },
            host: { properties: { id: { type: "keyword", null_value: "none" } } },
          },
        }),
      ),
      ecsSchema(),
    ),
  };
  const value = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom("a", "b", "A", "a\u0000s:b", ""),
    fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 3 }),
    fc.constantFrom(7, true, 2.5),
  );
  const doc = fc.record({
    category: fc.constantFrom("process", "network"),
    user: value,
    host: value,
  });
  const queries = [
    "sequence by user.name, host.id [process where true] [network where true]",
    "sequence by user.name [process where true] by host.id [network where true] by host.id",
    "sample by user.name, host.id [process where true] [network where true]",
  ];
  fc.assert(
    fc.property(fc.array(doc, { maxLength: 30 }), (docs) => {
      const sources: JsonObject[] = docs.map((d, i) => {
        const source: JsonObject = { "@timestamp": 1_700_000_000_000 + i, event: { category: d.category } };
        if (d.user !== undefined) source.user = { name: d.user };
        if (d.host !== undefined) source.host = { id: d.host };
        return source;
      });
      for (const q of queries) {
        const fast = runAll(q, sources, { schema: ecsSchema() });
        const slow = runAll(q, sources, general);
        assert.deepEqual(JSON.parse(JSON.stringify(fast)), JSON.parse(JSON.stringify(slow)), q);
      }
    }),
    { numRuns: 300 },
  );
});
