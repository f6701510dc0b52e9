/**
 * KQL on keyword fields with the `lowercase` normalizer (`.caseless` multi-fields of the ECS schema, or a
 * mapping's `"normalizer": "lowercase"`): Elasticsearch lower-cases values and query terms alike.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventRecord, JsonObject } from "../../src/events/types.js";
import { type CompileKqlOptions, compileKql } from "../../src/kql/index.js";
import { ecsSchema, layeredSchema, parseMapping } from "../../src/schema/index.js";
import fc from "../fc.js";

function event(source: JsonObject): EventRecord {
  return {
    source,
    raw: JSON.stringify(source),
    index: "test",
    id: "1",
    provenance: { file: "test" },
    seq: 0,
  };
}

/** Which of `sources` the query matches, as a string of 0/1. */
function pattern(query: string, sources: readonly JsonObject[], options: CompileKqlOptions = {}): string {
  const q = compileKql(query, options);
  return sources.map((s) => (q.matches?.(event(s)) ? "1" : "0")).join("");
}

const proc = (name: unknown): JsonObject => ({ process: { name } }) as JsonObject;
const NAMES = [
  proc("cmd.exe"),
  proc("Cmd.Exe"),
  proc("CMD.EXE"),
  proc("powershell.exe"),
  proc(["x", "CmD.eXe"]),
];

test("term on a .caseless field (unquoted and quoted) ignores case; the parent does not", () => {
  assert.equal(pattern("process.name.caseless : CMD.EXE", NAMES), "11101");
  assert.equal(pattern('process.name.caseless : "Cmd.exe"', NAMES), "11101");
  assert.equal(pattern("process.name.caseless : cmd.exe", NAMES), "11101");
  assert.equal(pattern("process.name : CMD.EXE", NAMES), "00100");
  assert.equal(pattern("not process.name.caseless : CMD.EXE", NAMES), "00010");
});

test("value lists on a .caseless field (one lookup) ignore case", () => {
  assert.equal(pattern("process.name.caseless : (CMD.EXE or Nope)", NAMES), "11101");
  assert.equal(
    pattern("process.name.caseless : CMD.EXE or process.name.caseless : POWERSHELL.EXE", NAMES),
    "11111",
  );
  assert.equal(pattern("process.name : (CMD.EXE or Nope)", NAMES), "00100");
});

test("wildcards on a .caseless field ignore case", () => {
  assert.equal(pattern("process.name.caseless : CMD*", NAMES), "11101");
  assert.equal(pattern("process.name.caseless : *SHELL*", NAMES), "00010");
  assert.equal(pattern("process.name.caseless : *.EXE", NAMES), "11111");
  assert.equal(pattern("process.name : CMD*", NAMES), "00100");
});

test("ranges on a .caseless field compare lower-cased values and bounds", () => {
  assert.equal(pattern("process.name.caseless >= CMD and process.name.caseless < D", NAMES), "11101");
});

test("non-ASCII values and terms lower-case per code point (Lucene's LowerCaseFilter)", () => {
  const docs = [proc("İstanbul"), proc("istanbul"), proc("ΟΔΟΣ"), proc("ÉCOLE"), proc("\u212Aey")];
  assert.equal(pattern("process.name.caseless : İSTANBUL", docs), "11000");
  assert.equal(pattern("process.name.caseless : οδοσ", docs), "00100");
  assert.equal(pattern("process.name.caseless : école", docs), "00010");
  assert.equal(pattern("process.name.caseless : key", docs), "00001");
  assert.equal(pattern("process.name.caseless : (key or école)", docs), "00011");
  assert.equal(pattern("process.name.caseless : ÉC*", docs), "00010");
});

test("a mapping's lowercase normalizer: top-level keyword and multi-field; custom normalizers are not applied", () => {
  const schema = layeredSchema(
    parseMapping(
      JSON.stringify({
        properties: {
          user: { type: "keyword", normalizer: "lowercase" },
          host: { type: "keyword", fields: { lc: { type: "keyword", normalizer: "lowercase" } } },
          other: { type: "keyword", normalizer: "my_custom" },
        },
      }),
    ),
  );
  const docs: JsonObject[] = [
    { user: "Admin", host: "WEB-01", other: "x" },
    { user: "root", host: "db", other: "X" },
  ];
  assert.equal(pattern("user : ADMIN", docs, { schema }), "10");
  assert.equal(pattern("user : adm*", docs, { schema }), "10");
  assert.equal(pattern("host.lc : web-01", docs, { schema }), "10");
  assert.equal(pattern("host : web-01", docs, { schema }), "00");
  assert.equal(pattern("other : x", docs, { schema }), "10");
  // Free text reaches the normalized multi-field too.
  assert.equal(pattern("web-01", docs, { schema }), "10");
});

test("the ECS schema is the default: .caseless works without options", () => {
  assert.equal(pattern("process.name.caseless : CMD.EXE", NAMES, { schema: ecsSchema() }), "11101");
});

test("property: term and value lists on a .caseless field agree with comparing lower-cased texts", () => {
  const lower = (s: string) =>
    s.replace(/[\u0130\u03a3]/g, (m) => (m === "\u0130" ? "i" : "\u03c3")).toLowerCase();
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
    .array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 6 })
    .map((cs) => cs.join(""));
  fc.assert(
    fc.property(word, word, (value, constant) => {
      const expected = lower(value) === lower(constant);
      const doc = proc(value);
      for (const query of [
        `process.name.caseless : "${constant}"`,
        `process.name.caseless : ("${constant}" or "-")`,
        `process.name.caseless : "${constant}" or process.name.caseless : "-"`,
      ]) {
        assert.equal(compileKql(query).matches?.(event(doc)), expected, query);
      }
    }),
  );
});
