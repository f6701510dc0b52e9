import assert from "node:assert/strict";
import { test } from "node:test";
import { isQuarryError } from "../../src/diagnostics/index.js";
import {
  escapeKuery,
  isKqlFreeText,
  KqlSyntaxError,
  kqlFieldPaths,
  MAX_DEPTH,
  parseKql,
  parseKqlLiteral,
  spanOf,
  toKqlExpression,
} from "../../src/kql/index.js";
import fc from "../fc.js";

const lit = (value: string | boolean | null, isQuoted = false) => ({ type: "literal", value, isQuoted });
const wc = (value: string) => ({ type: "wildcard", value: value.replaceAll("*", "@kuery-wildcard@") });
const is = (field: unknown, value: unknown) => ({
  type: "function",
  function: "is",
  arguments: [field, value],
});

function syntaxError(query: string, options = {}): KqlSyntaxError {
  try {
    parseKql(query, options);
  } catch (error) {
    assert.ok(error instanceof KqlSyntaxError, `not a KqlSyntaxError: ${String(error)}`);
    return error;
  }
  assert.fail(`${query} parsed`);
}

test("every node type the grammar produces", () => {
  assert.deepEqual(parseKql("a:b"), is(lit("a"), lit("b")));
  assert.deepEqual(parseKql('a:"b c"'), is(lit("a"), lit("b c", true)));
  assert.deepEqual(parseKql("a:b*"), is(lit("a"), wc("b*")));
  assert.deepEqual(parseKql("a*:b"), is(wc("a*"), lit("b")));
  assert.deepEqual(parseKql("free text"), is(lit(null), lit("free text")));
  assert.deepEqual(parseKql("a >= 5"), {
    type: "function",
    function: "range",
    arguments: [lit("a"), "gte", lit("5")],
  });
  assert.deepEqual(parseKql("a:{ b:1 }"), {
    type: "function",
    function: "nested",
    arguments: [lit("a"), is(lit("b"), lit("1"))],
  });
  assert.deepEqual(parseKql("not a:1"), {
    type: "function",
    function: "not",
    arguments: [is(lit("a"), lit("1"))],
  });
  assert.deepEqual(parseKql("a:true and b:null"), {
    type: "function",
    function: "and",
    arguments: [is(lit("a"), lit(true)), is(lit("b"), lit(null))],
  });
  assert.deepEqual(parseKql(""), is(wc("*"), wc("*")));
});

test("precedence: or < and < not, chains are n-ary, keywords in any case", () => {
  const ast = parseKql("a:1 OR not b:2 And c:3 or d:4");
  assert.equal(ast.function, "or");
  assert.equal(ast.arguments.length, 3);
  assert.equal((ast.arguments[1] as { function: string }).function, "and");
});

test("value lists distribute the field", () => {
  assert.deepEqual(parseKql("f:(x or not y)"), {
    type: "function",
    function: "or",
    arguments: [
      is(lit("f"), lit("x")),
      { type: "function", function: "not", arguments: [is(lit("f"), lit("y"))] },
    ],
  });
});

test("escapes in unquoted and quoted values", () => {
  assert.deepEqual(parseKqlLiteral("a\\:b\\*c\\u0041\\tz"), lit("a:b*cA\tz"));
  assert.deepEqual(parseKqlLiteral('"a\\"b\\q"'), lit('a"b\\q', true));
  assert.deepEqual(parseKqlLiteral("\\and"), lit("and"));
  assert.equal(escapeKuery("a or b"), "a \\or b");
});

test("syntax errors carry Kibana's text, a code and a span", () => {
  const error = syntaxError("foo:ba:r");
  assert.equal(error.kibanaMessage, 'Expected AND, OR, end of input but ":" found.\nfoo:ba:r\n------^');
  assert.equal(error.diagnostic.code, "KQL001");
  assert.deepEqual(error.diagnostic.labels[0].span, { start: 6, end: 7 });
  assert.deepEqual(error.diagnostic.expected, ["AND", "OR", "end of input"]);
  assert.equal(syntaxError("not not foo").diagnostic.labels[0].span.start, 4);
});

test("leading wildcards can be refused", () => {
  const error = syntaxError("a:*b", { allowLeadingWildcards: false });
  assert.equal(error.diagnostic.code, "KQL002");
  assert.deepEqual(parseKql("a:*", { allowLeadingWildcards: false }), is(lit("a"), wc("*")));
});

test("deep nesting is a clean error, not a stack overflow", () => {
  for (const depth of [MAX_DEPTH + 1, 100_000]) {
    const error = syntaxError(`${"(".repeat(depth)}a${")".repeat(depth)}`);
    assert.equal(error.diagnostic.code, "KQL003");
  }
  assert.deepEqual(parseKql(`${"(".repeat(50)}a${")".repeat(50)}`), is(lit(null), lit("a")));
  assert.equal(syntaxError(`x:${"(".repeat(100_000)}`).diagnostic.code, "KQL003");
});

test("spans point into the query", () => {
  const text = "a:1 and b:2";
  const ast = parseKql(text);
  assert.deepEqual(spanOf(ast), { start: 0, end: text.length });
  const second = (ast as unknown as { arguments: object[] }).arguments[1];
  assert.equal(text.slice(spanOf(second)?.start, spanOf(second)?.end), "b:2");
});

test("printer round trip: parse(print(ast)) == ast", () => {
  for (const q of [
    'a:1 and (b:2 or not c:"x y")',
    "n:{ a:1 and m:{ b:2 } }",
    "x >= 5 and y < 3",
    "f:ab\\*c*",
  ]) {
    const ast = parseKql(q);
    assert.deepEqual(parseKql(toKqlExpression(ast)), ast, q);
  }
});

test("free text and field paths", () => {
  assert.equal(isKqlFreeText(parseKql("a:1 or b")), true);
  assert.equal(isKqlFreeText(parseKql("a:{ b }")), false);
  assert.deepEqual(kqlFieldPaths(parseKql("z:1 and top:{ b:2 and mid:{ c:3 } } and free")), [
    "top",
    "top.b",
    "top.mid",
    "top.mid.c",
    "z",
  ]);
});

test("property: any input parses or throws a QuarryError, quickly", () => {
  const alphabet = fc.constantFrom(
    ...'ab :()<>=*\\"{}\tnotandor\u00a0u0'.split(""),
    "not ",
    " or ",
    " and ",
    "\\u0041",
  );
  fc.assert(
    fc.property(
      fc.array(alphabet, { maxLength: 60 }).map((parts) => parts.join("")),
      (query) => {
        const started = performance.now();
        try {
          parseKql(query);
        } catch (error) {
          assert.ok(isQuarryError(error), `non-QuarryError for ${JSON.stringify(query)}: ${String(error)}`);
        }
        assert.ok(performance.now() - started < 100, `slow parse for ${JSON.stringify(query)}`);
      },
    ),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (query) => {
      try {
        parseKql(query);
      } catch (error) {
        assert.ok(isQuarryError(error));
      }
    }),
    { numRuns: 2000 },
  );
});

test("long hostile inputs stay linear", () => {
  for (const query of [
    "a ".repeat(50_000),
    "(".repeat(200) + "a",
    "a:(".repeat(100),
    "\\".repeat(100_000),
    "not ".repeat(20_000),
    `"${"x".repeat(100_000)}`,
  ]) {
    const started = performance.now();
    try {
      parseKql(query);
    } catch (error) {
      assert.ok(isQuarryError(error));
    }
    assert.ok(performance.now() - started < 2000, `slow: ${query.slice(0, 20)}`);
  }
});
