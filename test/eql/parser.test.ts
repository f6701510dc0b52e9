import assert from "node:assert/strict";
import { test } from "node:test";
import type { Expression } from "../../src/eql/ast.js";
import { parseEql, parseEqlExpression } from "../../src/eql/parser.js";
import { cond, expr, query, strip } from "./helpers.js";

const f = (path: string) => ({
  kind: "field",
  path,
  optional: false,
  segments: path.split("."),
  quoted: false,
});
const int = (n: number) => ({
  kind: "number",
  value: n,
  integer: true,
  numericType: "integer",
  text: String(n),
});
const str = (value: string) => ({ kind: "string", value, raw: false });

test("event queries: category, any, quoted category", () => {
  const q = query('process where process.name == "cmd.exe"');
  assert.equal(q.body.kind, "event");
  if (q.body.kind !== "event") return;
  assert.equal(q.body.category, "process");
  assert.deepEqual(strip(q.body.condition), {
    kind: "comparison",
    operator: "==",
    left: f("process.name"),
    right: str("cmd.exe"),
  });
  assert.equal(q.pipes.length, 0);
  const anyQ = query("any where true");
  assert.equal(anyQ.body.kind === "event" && anyQ.body.category, null);
  const quoted = query('"my-category" where true');
  assert.equal(quoted.body.kind === "event" && quoted.body.category, "my-category");
  const raw = query('"""my category""" where true');
  assert.equal(raw.body.kind === "event" && raw.body.category, "my category");
  // Keywords are lower-case only: `OPTIONAL` and `REQUEST` are categories like any identifier.
  assert.equal(query("OPTIONAL where ?x == null").body.kind, "event");
});

test("spans cover the source text of every node", () => {
  const text = 'process where startsWith~(process.name, "cmd") and x : ("a", "b")';
  const q = query(text);
  assert.deepEqual(q.span, { start: 0, end: text.length });
  const c = cond(text);
  assert.equal(c.kind, "and");
  if (c.kind !== "and") return;
  assert.equal(text.slice(c.left.span.start, c.left.span.end), 'startsWith~(process.name, "cmd")');
  assert.equal(text.slice(c.right.span.start, c.right.span.end), 'x : ("a", "b")');
  if (c.left.kind === "call")
    assert.equal(text.slice(c.left.nameSpan.start, c.left.nameSpan.end), "startsWith~");
});

test("field names: dotted, backticks, doubled backticks, optional, @timestamp", () => {
  assert.deepEqual(expr("`my field`.x"), {
    kind: "field",
    path: "my field.x",
    optional: false,
    segments: ["my field", "x"],
    quoted: true,
  });
  assert.deepEqual(expr("```test``table```.`@timestamp`"), {
    kind: "field",
    path: "`test`table`.@timestamp",
    optional: false,
    segments: ["`test`table`", "@timestamp"],
    quoted: true,
  });
  assert.deepEqual(expr("?user.id"), { ...f("user.id"), optional: true });
  assert.deepEqual(expr("@timestamp"), f("@timestamp"));
  assert.deepEqual(expr("`sequence`"), { ...f("sequence"), quoted: true });
});

test("comparison operators", () => {
  for (const op of ["==", "!=", "<", "<=", ">", ">="]) {
    assert.deepEqual(expr(`field ${op} 2.0`), {
      kind: "comparison",
      operator: op,
      left: f("field"),
      right: { kind: "number", value: 2, integer: false, numericType: "double", text: "2.0" },
    });
  }
});

test("match predicates: `:`, like, like~, regex, regex~ with a value or a list", () => {
  for (const op of [":", "like", "like~", "regex", "regex~"]) {
    assert.deepEqual(expr(`x ${op} "a*"`), {
      kind: "match",
      operator: op,
      caseInsensitive: op === ":" || op.endsWith("~"),
      subject: f("x"),
      patterns: [str("a*")],
      list: false,
    });
    assert.deepEqual(expr(`x ${op} ("a", "b")`), {
      kind: "match",
      operator: op,
      caseInsensitive: op === ":" || op.endsWith("~"),
      subject: f("x"),
      patterns: [str("a"), str("b")],
      list: true,
    });
  }
  // a one-element list stays a list
  assert.equal((parseEqlExpression('x : ("a")') as Extract<Expression, { kind: "match" }>).list, true);
});

test("in, in~, not in, not in~", () => {
  for (const [text, negated, caseInsensitive] of [
    ["x in (1, 2)", false, false],
    ["x in~ (1, 2)", false, true],
    ["x not in (1, 2)", true, false],
    ["x not in~ (1, 2)", true, true],
  ] as const) {
    assert.deepEqual(expr(text), {
      kind: "in",
      subject: f("x"),
      values: [int(1), int(2)],
      negated,
      caseInsensitive,
    });
  }
  // values of `in` are expressions
  const e = parseEqlExpression("x in (1 + 1, y)");
  assert.equal(e.kind === "in" && e.values[0].kind, "arithmetic");
});

test("precedence: or < and < not < comparison < + - < * / % < unary < predicate", () => {
  assert.deepEqual(expr("a or b and c"), {
    kind: "or",
    left: f("a"),
    right: { kind: "and", left: f("b"), right: f("c") },
  });
  assert.deepEqual(expr("a and b or c"), {
    kind: "or",
    left: { kind: "and", left: f("a"), right: f("b") },
    right: f("c"),
  });
  assert.deepEqual(expr("not a and b"), {
    kind: "and",
    left: { kind: "not", operand: f("a") },
    right: f("b"),
  });
  assert.deepEqual(expr("not not a"), { kind: "not", operand: { kind: "not", operand: f("a") } });
  assert.deepEqual(expr("not a == 1"), {
    kind: "not",
    operand: { kind: "comparison", operator: "==", left: f("a"), right: int(1) },
  });
  assert.deepEqual(expr("a + b * c"), {
    kind: "arithmetic",
    operator: "+",
    left: f("a"),
    right: { kind: "arithmetic", operator: "*", left: f("b"), right: f("c") },
  });
  assert.deepEqual(expr("a - b - c"), {
    kind: "arithmetic",
    operator: "-",
    left: { kind: "arithmetic", operator: "-", left: f("a"), right: f("b") },
    right: f("c"),
  });
  assert.deepEqual(expr("a / b % c"), {
    kind: "arithmetic",
    operator: "%",
    left: { kind: "arithmetic", operator: "/", left: f("a"), right: f("b") },
    right: f("c"),
  });
  assert.deepEqual(expr("-a * b"), {
    kind: "arithmetic",
    operator: "*",
    left: { kind: "negate", operand: f("a") },
    right: f("b"),
  });
  // Elasticsearch's example: 1 * -2 <= -3 * 4
  assert.deepEqual(expr("1 * -2 <= -3 * 4"), {
    kind: "comparison",
    operator: "<=",
    left: { kind: "arithmetic", operator: "*", left: int(1), right: { kind: "negate", operand: int(2) } },
    right: { kind: "arithmetic", operator: "*", left: { kind: "negate", operand: int(3) }, right: int(4) },
  });
  assert.deepEqual(expr("(1 * -2) <= (-3 * 4)"), expr("1 * -2 <= -3 * 4"));
  // a predicate binds to the primary just before it
  assert.deepEqual(expr('a + b : "x"'), {
    kind: "arithmetic",
    operator: "+",
    left: f("a"),
    right: {
      kind: "match",
      operator: ":",
      caseInsensitive: true,
      subject: f("b"),
      patterns: [str("x")],
      list: false,
    },
  });
  assert.deepEqual(expr("a == b in (1)"), {
    kind: "comparison",
    operator: "==",
    left: f("a"),
    right: { kind: "in", subject: f("b"), values: [int(1)], negated: false, caseInsensitive: false },
  });
  // unary plus leaves no node
  assert.deepEqual(expr("+a"), f("a"));
  assert.deepEqual(expr("(a or b) and c"), {
    kind: "and",
    left: { kind: "or", left: f("a"), right: f("b") },
    right: f("c"),
  });
});

test("numbers: integer, long, unsigned long, decimals, exponents", () => {
  assert.deepEqual(expr("5"), int(5));
  assert.deepEqual(expr("8589934592"), {
    kind: "number",
    value: 8589934592,
    integer: true,
    numericType: "long",
    text: "8589934592",
  });
  assert.deepEqual(expr("9223372036854775807"), {
    kind: "number",
    value: 9223372036854775807n,
    integer: true,
    numericType: "long",
    text: "9223372036854775807",
  });
  assert.deepEqual(expr("18446744073709551615"), {
    kind: "number",
    value: 18446744073709551615n,
    integer: true,
    numericType: "unsigned_long",
    text: "18446744073709551615",
  });
  // beyond unsigned long, Elasticsearch reads the integer as a double
  const huge = parseEqlExpression("99999999999999999999999");
  assert.equal(huge.kind === "number" && huge.numericType, "double");
  for (const [text, value] of [
    ["5e14", 5e14],
    ["5.2", 5.2],
    [".5", 0.5],
    ["1.", 1],
    ["1.5E-3", 0.0015],
    ["2e+2", 200],
    ["1.e3", 1000],
  ] as const) {
    assert.deepEqual(expr(text), { kind: "number", value, integer: false, numericType: "double", text });
  }
  assert.deepEqual(expr("-5.2"), {
    kind: "negate",
    operand: { kind: "number", value: 5.2, integer: false, numericType: "double", text: "5.2" },
  });
});

test("literals: true, false, null", () => {
  assert.deepEqual(expr("true"), { kind: "boolean", value: true });
  assert.deepEqual(expr("false"), { kind: "boolean", value: false });
  assert.deepEqual(expr("null"), { kind: "null" });
});

test("strings: escapes and unicode escapes as Elasticsearch decodes them", () => {
  const value = (text: string) => {
    const e = parseEqlExpression(text);
    assert.equal(e.kind, "string");
    return e.kind === "string" ? e.value : "";
  };
  assert.equal(value('"hello\\"world"'), 'hello"world');
  assert.equal(value('"hello\'world"'), "hello'world");
  assert.equal(value('"hello\\nworld"'), "hello\nworld");
  assert.equal(value('"hello\\\\\\nworld"'), "hello\\\nworld");
  assert.equal(value('"a\\tb\\rc\\bd\\fe\\\'f"'), "a\tb\rc\bd\fe'f");
  assert.equal(value('"C:\\\\Windows\\\\*"'), "C:\\Windows\\*");
  for (const [sequence, ch] of [
    ["\\u0021", "!"],
    ["\\u{41}", "A"],
    ["\\u{075}", "u"],
    ["\\u{00eb}", "ë"],
    ["\\u0398", "Θ"],
    ["\\u{01f4a9}", "💩"],
    ["\\u{0010989}", "\u{10989}"],
    ["\\u{200F}", "\u200f"],
    ["\\u{0000200f}", "\u200f"],
  ]) {
    assert.equal(value(`"x${sequence}y"`), `x${ch}y`);
  }
  // four hex digits then a brace: the brace is a normal character
  assert.equal(value('"\\u01f0}"'), "ǰ}");
});

test("raw strings: nothing decoded, up to two extra closing quotes belong to the value", () => {
  const raw = (text: string) => {
    const e = parseEqlExpression(text);
    assert.equal(e.kind === "string" && e.raw, true);
    return e.kind === "string" ? e.value : "";
  };
  assert.equal(raw('"""hello"world"""'), 'hello"world');
  assert.equal(raw('"""hello\\"world"""'), 'hello\\"world');
  assert.equal(raw('"""hello\\nworld"""'), "hello\\nworld");
  assert.equal(raw('""""""'), "");
  assert.equal(raw('"""""hello""world!""""'), '""hello""world!"');
  assert.equal(raw('""""foo"bar"""""'), '"foo"bar""');
  assert.equal(raw('"""C:\\Users\\*"""'), "C:\\Users\\*");
  const e = parseEqlExpression('"""hello world!""" == """foobar"""');
  assert.deepEqual(strip(e), {
    kind: "comparison",
    operator: "==",
    left: { kind: "string", value: "hello world!", raw: true },
    right: { kind: "string", value: "foobar", raw: true },
  });
});

test("comments: line and nested bracketed", () => {
  const q = query("// leading comment\nprocess /* a /* nested */ comment */ where // trailing\n true");
  assert.equal(q.body.kind === "event" && q.body.category, "process");
  // the comment lines of missing-events data style
  assert.equal(query('process where x == "a" // done').body.kind, "event");
});

test("function calls: names as written, canonical lower case, ~ variants", () => {
  for (const [text, name, ci] of [
    ['startsWith(a, "b")', "startsWith", false],
    ['startswith~(a, "b")', "startswith", true],
    ['endsWith~(a, "b")', "endsWith", true],
    ['STRINGCONTAINS(a, "b")', "STRINGCONTAINS", false],
  ] as const) {
    const e = parseEqlExpression(text);
    assert.equal(e.kind, "call");
    if (e.kind !== "call") continue;
    assert.equal(e.name, name);
    assert.equal(e.canonicalName, name.toLowerCase());
    assert.equal(e.caseInsensitive, ci);
    assert.equal(e.args.length, 2);
  }
  const none = parseEqlExpression("concat()");
  assert.equal(none.kind === "call" && none.args.length, 0);
});

test("sequence: by, maxspan units, per-stage by, runs, missing events, until", () => {
  const q = query(`sequence by host.name, user.name with maxspan=5s
    [authentication where event.code : "4624"] by source.ip
    ![authentication where event.code : "4647"] by source.ip
    [process where true] by source.ip with runs=3
  until [process where event.type == "stop"] by source.ip
  | tail 2`);
  assert.equal(q.body.kind, "sequence");
  if (q.body.kind !== "sequence") return;
  assert.deepEqual(strip(q.body.by), [f("host.name"), f("user.name")]);
  assert.deepEqual(strip(q.body.maxspan), { kind: "duration", ms: 5000, value: 5, unit: "s" });
  assert.deepEqual(
    q.body.stages.map((s) => [s.query.category, s.missing, s.runs, s.by.length]),
    [
      ["authentication", false, 1, 1],
      ["authentication", true, 1, 1],
      ["process", false, 3, 1],
    ],
  );
  assert.equal(q.body.until?.query.category, "process");
  assert.deepEqual(strip(q.pipes), [{ kind: "tail", count: 2 }]);
  for (const [unit, ms] of [
    ["ms", 7],
    ["s", 7000],
    ["m", 420000],
    ["h", 25200000],
    ["d", 604800000],
  ] as const) {
    const s = query(`sequence with maxspan=7${unit} [a where true] [b where true]`);
    assert.equal(s.body.kind === "sequence" && s.body.maxspan?.ms, ms);
  }
  // with maxspan then by, a single stage repeated, spaces inside `maxspan = 10 s`
  assert.equal(query("sequence with maxspan = 10 s [a where true] [b where true]").body.kind, "sequence");
  assert.equal(query("sequence by x with maxspan=1h [a where true] with runs=10").body.kind, "sequence");
  const noKeys = query("sequence [a where true] [b where true]");
  assert.equal(noKeys.body.kind === "sequence" && noKeys.body.maxspan, null);
});

test("sample: by keys and stages", () => {
  const q = query("sample by host [file where true] by user [process where true] by user");
  assert.equal(q.body.kind, "sample");
  if (q.body.kind !== "sample") return;
  assert.deepEqual(strip(q.body.by), [f("host")]);
  assert.equal(q.body.stages.length, 2);
  assert.deepEqual(strip(q.body.stages[1].by), [f("user")]);
  assert.equal(query("sample [a where true] by x [b where true] by y").body.kind, "sample");
});

test("pipes: head and tail, several, constant expressions", () => {
  assert.deepEqual(strip(query("process where true | head 5 | tail 2").pipes), [
    { kind: "head", count: 5 },
    { kind: "tail", count: 2 },
  ]);
  assert.deepEqual(strip(query("process where true | head 0").pipes), [{ kind: "head", count: 0 }]);
  assert.deepEqual(strip(query("process where true | head 2 * 3").pipes), [{ kind: "head", count: 6 }]);
});

test("published queries parse: Elastic's 3CX hunts", () => {
  const ok = [
    'file where host.os.type == "windows" and event.type : "creation" and file.path : "C:\\\\Users\\\\*\\\\AppData\\\\Local\\\\Programs\\\\C3XDesktopApp\\\\app\\\\manifest" or (file.name : ("UpdateAgent", ".main_storage", ".session-lock") and file.path : "*/Library/Application Support/3CX Desktop App/")',
    'network where process.code_signature.subject_name == "3CX Ltd" and dns.question.name : "raw.githubusercontent.com"',
    'library where dll.hash.sha256 : ("aa", "bb")',
    'sequence by host.id with maxspan=5m [process where startswith~(process.name, "3cx")] [network where endswith~(dns.question.name, ".com")]',
  ];
  for (const text of ok) assert.equal(parseEql(text).kind, "query", text);
});
