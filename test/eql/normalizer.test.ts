/**
 * Keyword fields with the `lowercase` normalizer (Elastic Defend's `.caseless` multi-fields, or a mapping's
 * `"normalizer": "lowercase"`): Elasticsearch lower-cases the indexed values and the constants of the
 * term-level queries a condition becomes, but not what a script compares.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileEql } from "../../src/eql/index.js";
import { lowercase, lowercaseEquals } from "../../src/eql/normalizer.js";
import type { JsonObject } from "../../src/events/types.js";
import { ecsSchema, layeredSchema, parseMapping } from "../../src/schema/index.js";
import fc from "../fc.js";
import { event, matches, noMatch, runAll } from "./engine-helpers.js";

const ecs = { schema: ecsSchema() };
const proc = (name: unknown, extra: JsonObject = {}): JsonObject =>
  ({ event: { category: "process" }, process: { name, ...extra } }) as JsonObject;

/** Which of `sources` an event query matches, as a string of 0/1. */
function pattern(query: string, sources: readonly JsonObject[], options = ecs): string {
  const q = compileEql(query, options);
  return sources.map((s) => (q.matches?.(event(s)) ? "1" : "0")).join("");
}

const NAMES = [
  proc("cmd.exe"),
  proc("Cmd.Exe"),
  proc("CMD.EXE"),
  proc("powershell.exe"),
  proc(["x", "CmD.eXe"]),
];

test("== on a .caseless field ignores the case of values and constant", () => {
  assert.equal(pattern('process where process.name.caseless == "CMD.EXE"', NAMES), "11101");
  assert.equal(pattern('process where process.name.caseless == "cmd.exe"', NAMES), "11101");
  // The parent keyword field stays case-sensitive.
  assert.equal(pattern('process where process.name == "CMD.EXE"', NAMES), "00100");
  // Constant on the left.
  assert.equal(pattern('process where "Cmd.exe" == process.name.caseless', NAMES), "11101");
});

test("!= and not on a .caseless field are the negated term query", () => {
  assert.equal(pattern('process where process.name.caseless != "CMD.EXE"', NAMES), "00010");
  assert.equal(pattern('process where not process.name.caseless == "cmd.EXE"', NAMES), "00010");
  // A missing field matches a negated query.
  matches('process where process.name.caseless != "cmd.exe"', { event: { category: "process" } }, ecs);
});

test("in / not in / in~ on a .caseless field", () => {
  assert.equal(pattern('process where process.name.caseless in ("CMD.EXE", "nope")', NAMES), "11101");
  assert.equal(pattern('process where process.name.caseless in~ ("CMD.EXE", "nope")', NAMES), "11101");
  assert.equal(pattern('process where process.name.caseless not in ("CMD.EXE", "nope")', NAMES), "00010");
  assert.equal(pattern('process where process.name in ("CMD.EXE", "nope")', NAMES), "00100");
});

test(": like like~ regex on a .caseless field", () => {
  assert.equal(pattern('process where process.name.caseless : "CMD.EXE"', NAMES), "11101");
  assert.equal(pattern('process where process.name.caseless : ("CMD.EXE", "Other")', NAMES), "11101");
  assert.equal(pattern('process where process.name.caseless : "*SHELL*"', NAMES), "00010");
  assert.equal(pattern('process where process.name.caseless like "CMD.*"', NAMES), "11101");
  assert.equal(pattern('process where process.name.caseless like ("C?D.EXE", "none")', NAMES), "11101");
  assert.equal(pattern('process where process.name.caseless like~ "cMd.*"', NAMES), "11101");
  // like on the parent is case-sensitive.
  assert.equal(pattern('process where process.name like "CMD.*"', NAMES), "00100");
  // The regexp's text is normalized too (Elasticsearch normalizes a regexp query's value).
  assert.equal(pattern('process where process.name.caseless regex "CMD\\\\.EXE"', NAMES), "11101");
  assert.equal(pattern('process where process.name.caseless regex "[A-Z]+\\\\.exe"', NAMES), "11111");
});

test("startsWith / endsWith / stringContains of a .caseless field and a constant are prefix / wildcard queries", () => {
  assert.equal(pattern('process where startsWith(process.name.caseless, "CMD")', NAMES), "11101");
  assert.equal(pattern('process where endsWith(process.name.caseless, ".EXE")', NAMES), "11111");
  assert.equal(pattern('process where stringContains(process.name.caseless, "ERSH")', NAMES), "00010");
  assert.equal(pattern('process where not startsWith(process.name.caseless, "CMD")', NAMES), "00010");
  // On the parent, a case-sensitive script.
  assert.equal(pattern('process where startsWith(process.name, "CMD")', NAMES), "00100");
});

test("scripts see the normalized doc values, and do not normalize their constants", () => {
  // length() and string() read the (lower-cased) doc value.
  assert.equal(pattern("process where length(process.name.caseless) == 7", NAMES.slice(0, 3)), "111");
  assert.equal(pattern('process where string(process.name.caseless) == "cmd.exe"', NAMES.slice(0, 3)), "111");
  // A script comparison (`== true` makes the `:` a script) compares the lowered doc value as it is.
  assert.equal(
    pattern('process where (process.name.caseless like "CMD.EXE") == true', NAMES.slice(0, 3)),
    "000",
  );
  assert.equal(
    pattern('process where (process.name.caseless like "cmd.exe") == true', NAMES.slice(0, 3)),
    "111",
  );
});

test("ranges on a .caseless field compare lower-cased values and bounds", () => {
  assert.equal(
    pattern('process where process.name.caseless >= "CMD" and process.name.caseless < "D"', NAMES),
    "11101",
  );
  assert.equal(pattern('process where process.name.caseless > "CMD.EXE"', NAMES), "00011");
  // The parent compares code points as they are.
  assert.equal(pattern('process where process.name >= "CMD" and process.name < "D"', NAMES), "01101");
});

test("a mapping's lowercase normalizer on a plain keyword field and on a multi-field", () => {
  const mapping = parseMapping(
    JSON.stringify({
      properties: {
        user: { type: "keyword", normalizer: "lowercase" },
        host: { type: "keyword", fields: { lc: { type: "keyword", normalizer: "lowercase" } } },
        other: { type: "keyword", normalizer: "my_custom" },
      },
    }),
  );
  const options = { schema: layeredSchema(mapping) };
  matches('user == "ADMIN"', { user: "Admin" }, options);
  matches('user : "adm*"', { user: "ADMINISTRATOR" }, options);
  noMatch('user == "ADMIN"', { user: "root" }, options);
  matches('host.lc == "WEB-01"', { host: "web-01" }, options);
  noMatch('host == "WEB-01"', { host: "web-01" }, options);
  // An unknown (custom) normalizer is not applied: the field compares exactly.
  noMatch('other == "X"', { other: "x" }, options);
  matches('other == "x"', { other: "x" }, options);
});

test("non-ASCII values lower-case per code point as Lucene's LowerCaseFilter does", () => {
  const docs = [proc("İSTANBUL"), proc("istanbul"), proc("ΟΔΟΣ"), proc("ÉCOLE.EXE"), proc("\u212Aey")];
  // İ lowers to a plain i (simple mapping), not i + combining dot.
  assert.equal(pattern('process where process.name.caseless == "istanbul"', docs), "11000");
  // Σ lowers to σ even at the end of a word (no final-sigma rule).
  assert.equal(pattern('process where process.name.caseless == "οδοσ"', docs), "00100");
  assert.equal(pattern('process where process.name.caseless == "ΟΔΟΣ"', docs), "00100");
  assert.equal(pattern('process where process.name.caseless : "école.*"', docs), "00010");
  // KELVIN SIGN lowers to ASCII k.
  assert.equal(pattern('process where process.name.caseless == "key"', docs), "00001");
  assert.equal(pattern('process where process.name.caseless in ("KEY", "x")', docs), "00001");
});

test("numbers and booleans in a normalized field compare by their text", () => {
  matches('process where process.name.caseless == "12"', proc(12), ecs);
  matches('process where process.name.caseless == "TRUE"', proc(true), ecs);
});

test("sequence join keys on a .caseless field are the lower-cased values", () => {
  const hits = runAll(
    'sequence by process.name.caseless [process where event.type == "start"] [process where event.type == "end"]',
    [
      { "@timestamp": 1, event: { category: "process", type: "start" }, process: { name: "CMD.EXE" } },
      { "@timestamp": 2, event: { category: "process", type: "end" }, process: { name: "cmd.exe" } },
    ],
    ecs,
  );
  assert.equal(hits.length, 1);
  const hit = hits[0];
  assert.ok("events" in hit);
  assert.deepEqual(hit.joinKeys, ["cmd.exe"]);
});

test("lowercase matches Java's Character.toLowerCase on samples, and lowercaseEquals agrees with it", () => {
  assert.equal(lowercase("cmd.exe"), "cmd.exe");
  assert.equal(lowercase("CMD.EXE"), "cmd.exe");
  assert.equal(lowercase("\u0130"), "i");
  assert.equal(lowercase("ΑΣ ΣΑ"), "ασ σα");
  assert.equal(lowercase("\u{10400}"), "\u{10428}");
  fc.assert(
    fc.property(fc.string({ unit: "grapheme-composite" }), fc.string(), (a, b) => {
      const la = lowercase(a);
      assert.equal(la.length, a.length);
      assert.equal(lowercaseEquals(a, la), true);
      assert.equal(lowercaseEquals(b, la), lowercase(b) === la);
      const upper = a.toUpperCase();
      assert.equal(lowercaseEquals(upper, la), lowercase(upper) === la);
    }),
  );
});

test("a lower-cased category field compares the query's category lower-cased", () => {
  const schema = layeredSchema(
    parseMapping(JSON.stringify({ properties: { cat: { type: "keyword", normalizer: "lowercase" } } })),
  );
  const options = { schema, categoryField: "cat" };
  matches("process where true", { cat: "PROCESS" }, options);
  matches("Process where true", { cat: "process" }, options);
  noMatch("process where true", { cat: "network" }, options);
  const hits = runAll(
    "sequence [process where true] [network where true]",
    [
      { "@timestamp": 1, cat: "Process" },
      { "@timestamp": 2, cat: "NETWORK" },
    ],
    options,
  );
  assert.equal(hits.length, 1);
});

test("property: ==, in, : and like on a .caseless field agree with comparing lower-cased texts", () => {
  const alphabet = [
    "a",
    "A",
    "k",
    "K",
    "\u212A",
    "i",
    "I",
    "\u0130",
    "\u03c3",
    "\u03a3",
    "\u03c2",
    "é",
    "É",
    "ß",
    "ẞ",
    "ǅ",
    "ǆ",
    ".",
    "1",
  ];
  const word = fc
    .array(fc.constantFrom(...alphabet), { minLength: 0, maxLength: 6 })
    .map((cs) => cs.join(""));
  fc.assert(
    fc.property(word, word, (value, constant) => {
      const expected = lowercase(value) === lowercase(constant);
      const doc = proc(value);
      for (const query of [
        `process where process.name.caseless == "${constant}"`,
        `process where process.name.caseless in ("${constant}", "-")`,
        `process where process.name.caseless : "${constant}"`,
        `process where process.name.caseless : ("${constant}", "-")`,
        `process where process.name.caseless like "${constant}"`,
      ]) {
        assert.equal(compileEql(query, ecs).matches?.(event(doc)), expected, query);
      }
    }),
  );
});
