/**
 * The evaluator's fast paths (value sets, streamed tokens, phrase search, ASCII prefilters, the parser's
 * plain-run skip) must answer exactly what the plain paths answer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventRecord, JsonObject } from "../../src/events/types.js";
import { someToken } from "../../src/kql/analyzer.js";
import { analyze, compileKql, parseKql } from "../../src/kql/index.js";
import { layeredSchema, parseMapping, type Schema } from "../../src/schema/index.js";
import fc from "../fc.js";

const schema: Schema = layeredSchema(
  parseMapping(
    JSON.stringify({
      properties: {
        kw: { type: "keyword" },
        txt: { type: "text" },
        n: { type: "long" },
        items: { type: "nested", properties: { name: { type: "keyword" } } },
      },
    }),
  ),
);

function event(source: JsonObject): EventRecord {
  return { source, raw: JSON.stringify(source), index: "t", id: "1", provenance: { file: "t" }, seq: 0 };
}

const matches = (query: string, doc: JsonObject): boolean =>
  compileKql(query, { schema }).matches?.(event(doc)) === true;

test("someToken visits analyze's tokens in order and stops at the first accepted one", () => {
  const text = "Hello, World! it's 192.168.1.1 日本 カタカナ e\u0301t\u00e9 " + "x".repeat(300);
  const seen: string[] = [];
  assert.equal(
    someToken(text, (t) => {
      seen.push(t);
      return false;
    }),
    false,
  );
  assert.deepEqual(seen, analyze(text));
  const visited: string[] = [];
  assert.equal(
    someToken("a b c", (t) => {
      visited.push(t);
      return t === "b";
    }),
    true,
  );
  assert.deepEqual(visited, ["a", "b"]);
});

test("someToken may be called again from inside a visit", () => {
  const inner: string[][] = [];
  someToken("one two", (t) => {
    inner.push(analyze(`${t} Nested`));
    return false;
  });
  assert.deepEqual(inner, [
    ["one", "nested"],
    ["two", "nested"],
  ]);
});

test("property: someToken agrees with analyze", () => {
  const chars = fc.constantFrom(..."aZ09.:,;'_ -/\\\u00e9\u0301\u200d\u4e00\u3042\u30a2\u212a\u03a3x");
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 40 }), (parts) => {
      const text = parts.join("");
      const seen: string[] = [];
      someToken(text, (t) => {
        seen.push(t);
        return false;
      });
      assert.deepEqual(seen, analyze(text));
    }),
    { numRuns: 2000 },
  );
});

test("phrases: tokens in order, overlapping starts found (KMP), per value", () => {
  assert.equal(matches('txt:"a a b"', { txt: "a a a b" }), true);
  assert.equal(matches('txt:"a b a b c"', { txt: "a b a b a b c" }), true);
  assert.equal(matches('txt:"a b"', { txt: "b a" }), false);
  assert.equal(matches('txt:"a b"', { txt: ["x a", "b y"] }), false); // not across values
  assert.equal(matches('txt:"a b"', { txt: ["x", "A, B!"] }), true);
});

test("text prefilters: case folding beyond ASCII still reaches the analyzer", () => {
  assert.equal(matches("txt:Process", { txt: "Endpoint PROCESS event" }), true);
  assert.equal(matches("txt:k", { txt: "\u212a" }), true); // KELVIN SIGN lower-cases to k
  assert.equal(matches('txt:"k x"', { txt: "\u212a x" }), true);
  assert.equal(matches("txt:x.y", { txt: "X.Y" }), true); // regex metacharacters in the token
  assert.equal(matches("txt:proc", { txt: "process" }), false); // a substring is not a token
});

test("small `or` lists of one keyword field are a set lookup with the same answers", () => {
  assert.equal(matches("kw:(a or b)", { kw: "b" }), true);
  assert.equal(matches("kw:(a or b)", { kw: "B" }), false); // keyword exact match is case-sensitive
  assert.equal(matches("kw:a or kw:b", { kw: ["x", "a"] }), true);
  assert.equal(matches("n:(1 or 2)", { n: "2" }), true);
  assert.equal(matches("txt:(Foo or bar)", { txt: "the FOO" }), true);
  assert.equal(matches("dyn:(Foo or 2)", { dyn: 2 }), true);
  assert.equal(matches("dyn:(Foo or 2)", { dyn: "a foo" }), true);
  assert.equal(matches("items:{ name:(a or b) }", { items: [{ name: "c" }, { name: "b" }] }), true);
  assert.equal(matches("items:{ name:(a or b) }", { items: { name: "c" } }), false);
});

test("5,000-value list of hashes: parses with its values intact and finds the one present", () => {
  const hashes = Array.from({ length: 5000 }, (_, i) => i.toString(16).padStart(64, "0"));
  const query = `kw : (${hashes.join(" or ")})`;
  const tree = parseKql(query);
  assert.equal(tree.type === "function" && tree.function === "or" && tree.arguments.length, 5000);
  assert.equal(matches(query, { kw: hashes[4321] }), true);
  assert.equal(matches(query, { kw: hashes[4321].toUpperCase() }), false);
  assert.equal(matches(query, { kw: "f".repeat(64) }), false);
});

test("unquoted values with runs, keywords, escapes and wildcards parse as before", () => {
  const value = (q: string) => {
    const tree = parseKql(q);
    assert.ok(tree.type === "function" && tree.function === "is");
    return tree.arguments[1];
  };
  assert.deepEqual(value("f:abc\\ordef"), { type: "literal", value: "abcordef", isQuoted: false });
  assert.deepEqual(value("f:nothing"), { type: "literal", value: "nothing", isQuoted: false });
  assert.deepEqual(value("f:a b  c"), { type: "literal", value: "a b  c", isQuoted: false });
  assert.deepEqual(value("f:ab*cd\\*"), { type: "wildcard", value: "ab@kuery-wildcard@cd*" });
  assert.deepEqual(value('f:"a\\"b\\tc\\q"'), { type: "literal", value: 'a"b\tc\\q', isQuoted: true });
  assert.throws(() => parseKql("f:ab:cd"), /Expected AND, OR, end of input but ":" found/);
});
