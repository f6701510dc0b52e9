import assert from "node:assert/strict";
import { test } from "node:test";
import { isQuarryError } from "../../src/diagnostics/index.js";
import { ExpressionCompiler } from "../../src/eql/compile.js";
import { compileEql } from "../../src/eql/index.js";
import { parseEqlExpression } from "../../src/eql/parser.js";
import { parseMapping } from "../../src/schema/index.js";
import { matches, noMatch } from "./engine-helpers.js";

function evaluate(expression: string): unknown {
  const compiler = new ExpressionCompiler({ completeSchema: false, fields: new Set() });
  return compiler.value(parseEqlExpression(expression)).fn({});
}

test("case rules: == != in like regex are case-sensitive; : in~ like~ regex~ are not", () => {
  const doc = { name: "CMD.exe" };
  matches('name == "CMD.exe"', doc);
  noMatch('name == "cmd.exe"', doc);
  matches('name : "cmd.exe"', doc);
  matches('name : "cmd*"', doc);
  matches('name in ("CMD.exe", "x")', doc);
  noMatch('name in ("cmd.exe")', doc);
  matches('name in~ ("cmd.exe")', doc);
  noMatch('name like "cmd*"', doc);
  matches('name like~ "cmd*"', doc);
  noMatch('name regex "cmd.*"', doc);
  matches('name regex~ "cmd.*"', doc);
  noMatch('startsWith(name, "cmd")', doc);
  matches('startsWith~(name, "cmd")', doc);
});

test("missing fields: comparisons do not match, negated ones do (negated term query)", () => {
  const doc = { other: 1 };
  noMatch('name == "a"', doc);
  matches('name != "a"', doc);
  matches('not name == "a"', doc);
  noMatch("size > 1", doc);
  // `not (x > 1)` is rewritten to `x <= 1`: still no match on a missing field.
  noMatch("not (size > 1)", doc);
  matches("name == null", doc);
  noMatch("name != null", doc);
  noMatch('name : "a*"', doc);
  matches('not name : "a*"', doc);
  noMatch('name in ("a")', doc);
  matches('name not in ("a")', doc);
  // Computed values: null propagates, and `null == expr` is an existence check.
  noMatch("length(name) > 0", doc);
  matches("null == (size > 1)", doc);
});

test("multi-valued fields match when any value does; != when none equals", () => {
  const doc = { tags: ["a", "b"], n: [1, 5] };
  matches('tags == "b"', doc);
  noMatch('tags == "c"', doc);
  noMatch('tags != "a"', doc);
  matches('tags != "c"', doc);
  matches("n > 4", doc);
  matches("n < 2", doc);
  matches('tags : "B"', doc);
  matches('tags in ("x", "b")', doc);
});

test("field types from the schema change comparisons", () => {
  const schema = parseMapping(
    JSON.stringify({
      properties: {
        port: { type: "long" },
        ip: { type: "ip" },
        v: { type: "version" },
        t: { type: "date" },
        event: { properties: { category: { type: "alias", path: "event_type" } } },
        event_type: { type: "keyword" },
      },
    }),
  );
  const opts = { schema };
  matches("port == 80", { port: "80" }, opts);
  matches("port < 100", { port: 80.7 }, opts);
  matches('ip == "10.0.0.0/8"', { ip: "10.1.2.3" }, opts);
  noMatch('ip == "10.0.0.0/8"', { ip: "11.1.2.3" }, opts);
  matches('cidrMatch(ip, "10.0.0.0/8", "192.168.0.0/16")', { ip: "192.168.1.1" }, opts);
  matches('v > "1.5.0"', { v: "1.11.3" }, opts);
  noMatch('v < "1.5.0"', { v: "bad" }, opts);
  matches('v < "1.2.4"', { v: "1.2.4-SNAPSHOT" }, opts);
  matches('t > "2020-01-01T00:00:00Z"', { t: 1600000000000 + 1e11 }, opts);
  matches("process where true", { event_type: "process" }, opts);
  noMatch("process where true", { event_type: "file" }, opts);
});

test("a 10,000-value in list is a set lookup", () => {
  const values = Array.from({ length: 10_000 }, (_, i) => `"v${i}"`).join(", ");
  const q = compileEql(`any where name in (${values})`);
  const start = performance.now();
  let hits = 0;
  for (let i = 0; i < 20_000; i++)
    if (
      q.matches?.({ source: { name: `v${i}` }, raw: "", index: "", id: "", provenance: { file: "" }, seq: i })
    )
      hits++;
  assert.equal(hits, 10_000);
  assert.ok(performance.now() - start < 2000);
});

test("functions fold as Elasticsearch computes them", () => {
  assert.equal(evaluate('between("welcome to the planet", "welcome", "e", true)'), " to the plan");
  assert.equal(evaluate('between("welcome to the planet", "goodbye", "planet")'), null);
  assert.equal(evaluate('between~("Welcome", "WEL", "ME")'), "co");
  assert.equal(evaluate('concat("a", 1, true, 2.5)'), "a1true2.5");
  assert.equal(evaluate('concat("a", null)'), null);
  assert.equal(evaluate('endsWith~("FooBar", "BAR")'), true);
  assert.equal(evaluate('indexOf("foobarbaz", "o", 2)'), 2);
  assert.equal(evaluate('indexOf("foobarbaz", "x")'), null);
  assert.equal(evaluate('indexOf~("FOO", "o")'), 1);
  assert.equal(evaluate('length("héllo")'), 5);
  assert.equal(evaluate('number("0x1337")'), 4919);
  assert.equal(evaluate('number("052403", 8)'), 21763);
  assert.equal(evaluate('number("-3.14")'), -3.14);
  assert.equal(evaluate('startsWith("FooBar", "foo")'), false);
  assert.equal(evaluate("string(2.0)"), "2.0");
  assert.equal(evaluate("string(3)"), "3");
  assert.equal(evaluate('stringContains~("FooBar", "OB")'), true);
  assert.equal(evaluate('substring("hello world", -5, -1)'), "worl");
  assert.equal(evaluate("add(1, 2)"), 3);
  assert.equal(evaluate("subtract(1, 2.5)"), -1.5);
  assert.equal(evaluate("multiply(3, 4)"), 12);
  assert.equal(evaluate("divide(7, 2)"), 3);
  assert.equal(evaluate("divide(-7, 2)"), -3);
  assert.equal(evaluate("divide(7.0, 2)"), 3.5);
  assert.equal(evaluate("modulo(-7, 3)"), -1);
  assert.equal(evaluate("7 % 3 + 1"), 2);
  assert.equal(evaluate('cidrMatch("10.1.2.3", "10.0.0.0/8")'), true);
  assert.equal(evaluate('cidrMatch("::1", "::/0")'), true);
  assert.equal(evaluate("add(null, 1)"), null);
});

test("runtime errors are QuarryErrors", () => {
  for (const bad of ["divide(1, 0)", 'number("abc")', "9223372036854775807 + 1"]) {
    assert.throws(
      () => evaluate(bad),
      (e: unknown) => isQuarryError(e) && e.diagnostic.code === "EQL173",
      bad,
    );
  }
});

test("optional fields: unknown to a complete schema means null", () => {
  const schema = parseMapping(JSON.stringify({ properties: { a: { type: "keyword" } } }));
  const opts = { schema, completeSchema: true };
  matches("?x == null", { a: "1" }, opts);
  matches("?x == ?y", { a: "1" }, opts);
  noMatch("?x", { a: "1" }, opts);
  matches('?a == "1"', { a: "1" }, opts);
});
