import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEql } from "../../src/eql/parser.js";
import { catchError, failsAt } from "./helpers.js";

test("EQL100: characters EQL does not have", () => {
  failsAt("process where a # b", "EQL100", "#");
  failsAt("process where a\u00a0== 1", "EQL100", "\u00a0");
  failsAt("process where a & b", "EQL100", "&");
  failsAt("process where a ! b", "EQL100", "!");
  failsAt("process where a ~ b", "EQL100", "~");
});

test("EQL101: unterminated strings", () => {
  failsAt('process where a == "abc', "EQL101", '"');
  failsAt('process where a == "ab\nc"', "EQL101", '"', { at: 19 });
  failsAt('process where a == """abc', "EQL101", '"""');
  failsAt('process where a == """ab\nc"""', "EQL101", '"""');
});

test("EQL102: escapes Elasticsearch does not accept", () => {
  failsAt('process where a == "C:\\Users"', "EQL102", "\\U");
  failsAt('process where a == "\\x41"', "EQL102", "\\x");
  // ES: Unicode sequence in curly braces should use [2-8] hex digits
  failsAt('process where a == "\\u{D}"', "EQL102", "\\u{D}");
  failsAt('process where a == "\\u{00AFD1431}"', "EQL102", "\\u{00AFD1431}");
  failsAt('process where a == "\\u{}"', "EQL102", "\\u{}");
  failsAt('process where a == "\\u{DA12"', "EQL102", '\\u{DA12"');
  failsAt('process where a == "\\u00U1"', "EQL102", "\\u00U");
  failsAt('process where a == "\\u001"', "EQL102", '\\u001"');
  failsAt('process where a == "\\u{0000}"', "EQL102", "\\u{0000}");
  failsAt('process where a == "\\u0000"', "EQL102", "\\u0000");
  failsAt('process where a == "\\u{10000000}"', "EQL102", "\\u{10000000}");
  failsAt('process where a == "\\uD800"', "EQL102", "\\uD800");
  const e = catchError(() => parseEql('any where "\\u{00AFD1431}"'));
  assert.equal(
    e.diagnostic.title,
    "Unicode sequence in curly braces should use [2-8] hex digits, [\\u{00AFD1431}] has [9]",
  );
});

test("EQL103: single-quoted strings (ES's message)", () => {
  const e = failsAt("process where name=='hello world'", "EQL103", "'hello world'");
  assert.equal(e.diagnostic.title, "Use double quotes [\"] to define string literals, not single quotes [']");
});

test("EQL104: typographic quotes from pasted web text", () => {
  const text =
    'network where process.code_signature.subject_name == "3CX Ltd" and dns.question.name : “raw.githubusercontent.com”';
  const e = failsAt(text, "EQL104", "“");
  assert.match(e.diagnostic.help ?? "", /"raw\.githubusercontent\.com"/);
  failsAt("process where a : ‘x’", "EQL104", "‘");
  // a typographic quote inside a straight-quoted string is just a character
  assert.equal(parseEql('process where a : "“x”"').kind, "query");
});

test("EQL105: syntax errors name what was expected at the furthest point", () => {
  const e = failsAt("process where a == a == a", "EQL113", "==", { at: 21 });
  assert.equal(e.diagnostic.labels.length, 2);
  const s = failsAt("process where", "EQL105", "", { at: 13 });
  assert.ok(s.diagnostic.expected?.includes("a field or function name"));
  assert.ok(s.diagnostic.expected?.includes("`(`"));
  const after = failsAt("process where a b", "EQL105", "b");
  for (const want of [
    "`and`",
    "`or`",
    "`==`",
    "`:`",
    "`in`",
    "`like~`",
    "`+`",
    "`.`",
    "`|`",
    "end of query",
  ]) {
    assert.ok(
      after.diagnostic.expected?.includes(want),
      `${want} in ${after.diagnostic.expected?.join(" ")}`,
    );
  }
  failsAt("42 where true", "EQL105", "42");
  failsAt("`identifier` where foo == true", "EQL105", "`identifier`");
  failsAt("process.name == 1", "EQL105", ".");
  failsAt("process where a in ()", "EQL105", ")");
  failsAt("process where a : ()", "EQL105", ")");
  failsAt("process where a : b", "EQL105", "b", { at: 18 });
  failsAt("process where a : -1", "EQL105", "-");
  failsAt('process where a not like "x"', "EQL105", "like");
  failsAt("process where startsWith~ == 1", "EQL105", "==");
  failsAt("process where sequence == 1", "EQL105", "sequence");
  failsAt("process where a == 1 AND b == 2", "EQL105", "AND");
  failsAt("process where 0x1F == 1", "EQL105", "x1F");
  failsAt("sequence", "EQL105", "", { at: 8 });
  failsAt("sequence [a where true] until", "EQL105", "", { at: 29 });
  failsAt("process where true |", "EQL105", "", { at: 20 });
});

test("EQL106: unbalanced brackets point at the culprit", () => {
  failsAt("process where (a == 1", "EQL106", "(");
  failsAt("process where a == 1)", "EQL106", ")");
  failsAt("sequence [a where (b == 1] [c where true]", "EQL106", "]");
  const stage = failsAt("sequence [a where b == 1 [c where true]", "EQL106", "[");
  assert.equal(stage.diagnostic.labels.find((l) => !l.primary)?.span.start, 25);
  // Elastic's published 3CX hunt with one `(` too many before file.path: the error shows that `(`.
  const text =
    'file where host.os.type == "windows" and event.type : "creation" and file.path : "C:\\\\Users\\\\*\\\\AppData\\\\Local\\\\Programs\\\\C3XDesktopApp\\\\app\\\\manifest" or (file.name : ("UpdateAgent", ".main_storage", ".session-lock") and (file.path : "*/Library/Application Support/3CX Desktop App/")';
  const extra = text.indexOf("(file.path");
  const e = failsAt(text, "EQL106", "(", { at: extra });
  const secondary = e.diagnostic.labels.find((l) => !l.primary);
  assert.equal(secondary?.span.start, text.indexOf("(file.name"));
});

test("EQL107: a list of values without parentheses", () => {
  const text = 'library where dll.hash.sha256:"aa","bb"';
  const e = failsAt(text, "EQL107", 'dll.hash.sha256:"aa","bb"');
  assert.equal(e.diagnostic.help, 'write dll.hash.sha256 : ("aa", "bb")');
  failsAt('process where x in "a", "b"', "EQL107", '"a", "b"');
  failsAt('process where x like~ "a", "b" and y == 1', "EQL107", 'x like~ "a", "b"');
});

test("EQL108: depth budget — 10,000 nested parentheses, nots and signs are a clean error", () => {
  for (const text of [
    `process where ${"(".repeat(10_000)}a${")".repeat(10_000)}`,
    `process where ${"(".repeat(10_000)}`,
    `process where ${"not ".repeat(10_000)}a`,
    `process where ${"-".repeat(10_000)}a == 1`,
    `process where ${"concat(".repeat(10_000)}`,
    `process where ${Array.from({ length: 2000 }, (_, i) => `a${i} == 1`).join(" or ")}`,
    `process where ${Array.from({ length: 5000 }, () => "1").join(" + ")} == 1`,
  ]) {
    const e = catchError(() => parseEql(text));
    assert.equal(e.diagnostic.code, "EQL108");
  }
  // within budget
  assert.equal(parseEql(`process where ${"(".repeat(100)}a${")".repeat(100)}`).kind, "query");
  assert.equal(
    parseEql(`process where ${Array.from({ length: 500 }, (_, i) => `a${i} == 1`).join(" or ")}`).kind,
    "query",
  );
  const list = Array.from({ length: 10_000 }, (_, i) => `"v${i}"`).join(", ");
  assert.equal(parseEql(`process where a in (${list})`).kind, "query");
});

test("EQL109: python-eql raw strings (ES's message)", () => {
  const e = failsAt("process where name == ?'hello world'", "EQL109", "?'hello world'");
  assert.equal(
    e.diagnostic.title,
    'Use triple double quotes ["""] to define unescaped string literals, not [?\']',
  );
  failsAt('process where name == ?"hello world"', "EQL109", '?"hello world"');
});

test("EQL110: numbers beyond the double range", () => {
  failsAt(`process where a == ${"9".repeat(400)}`, "EQL110", "9".repeat(400));
  failsAt("process where a == 1e999", "EQL110", "1e999");
});

test("EQL111: unterminated comments and backtick names", () => {
  failsAt("process where true /* never closed", "EQL111", "/*");
  failsAt("process where true /* a /* b */", "EQL111", "/*", { at: 19 });
  failsAt("process where `wrong_identifier == true", "EQL111", "`");
});

test("EQL112: `=` is not equality", () => {
  failsAt("process where opcode = 1", "EQL112", "=");
});

test("EQL113: chained comparisons", () => {
  failsAt("process where a < b <= c", "EQL113", "<=");
});

test("EQL114: array indexes (ES's message)", () => {
  const e = failsAt('registry where bytes_written_string_list[0] == "EN-us"', "EQL114", "0");
  assert.equal(e.diagnostic.title, "Array indexes are not supported");
});

test("EQL115: python-eql process relationships", () => {
  for (const rel of ["descendant", "child", "event"]) {
    const text = `process where opcode == 1 and ${rel} of [file where true]`;
    failsAt(text, "EQL115", `${rel} of`);
  }
});

test("EQL116: python-eql join", () => {
  failsAt("join by unique_pid [process where true] [file where true]", "EQL116", "join");
});

test("EQL117: pipes Elasticsearch lacks", () => {
  for (const pipe of ["count", "unique", "filter", "sort", "unique_count"]) {
    const e = failsAt(`process where true | ${pipe} x`, "EQL117", pipe);
    assert.equal(e.diagnostic.title, `Pipe [${pipe}] is not supported`);
  }
  const e = failsAt("process where true | heads 3", "EQL117", "heads");
  assert.equal(e.diagnostic.title, "Unrecognized pipe [heads], did you mean [head]?");
});

test("EQL118: head and tail need one non-negative integer", () => {
  failsAt("process where true | head", "EQL118", "| head");
  failsAt("process where true | tail 1, 2", "EQL118", "| tail 1, 2");
  failsAt("process where true | head -1", "EQL118", "-1");
  failsAt("process where true | head 1.5", "EQL118", "1.5");
  failsAt("process where true | head x", "EQL118", "x", { at: 26 });
});

test("EQL119: maxspan values and units (ES's messages)", () => {
  const cases: [string, string, string][] = [
    [
      "sequence with maxspan=10 [a where true] [b where true]",
      "10",
      "No time unit specified, did you mean [s] as in [10s]?",
    ],
    [
      "sequence with maxspan=0s [a where true] [b where true]",
      "0",
      "A positive maxspan value is required; found [0]",
    ],
    [
      "sequence with maxspan=1.5s [a where true] [b where true]",
      "1.5",
      "Decimal time interval [1.5] not supported; please use a positive integer",
    ],
    [
      "sequence with maxspan=3w [a where true] [b where true]",
      "w",
      "Unrecognized time unit [w] in [3w], please specify one of [ms, s, m, h, d]",
    ],
  ];
  for (const [text, span, title] of cases) {
    const e = failsAt(text, "EQL119", span, { at: text.indexOf(span, 22) });
    assert.equal(e.diagnostic.title, title);
  }
});

test("EQL120: sequence rules", () => {
  const by = failsAt("sequence with maxspan=1s by key [a where true] [b where true]", "EQL120", "by key");
  assert.equal(by.diagnostic.title, "Please specify sequence [by] before [with] not after");
  failsAt("sequence [a where true]", "EQL120", "sequence [a where true]");
  failsAt("sequence [a where true] ![b where true]", "EQL120", "![b where true]");
  failsAt(
    "sequence with maxspan=1s ![a where true] ![b where true]",
    "EQL120",
    "sequence with maxspan=1s ![a where true] ![b where true]",
  );
  failsAt(
    "sequence with maxspan=1s [a where true] [b where true] until ![c where true]",
    "EQL120",
    "![c where true]",
  );
});

test("EQL121: with runs", () => {
  failsAt("sequence [a where true] with runs=0 [b where true]", "EQL121", "0");
  failsAt("sequence [a where true] with runs=101 [b where true]", "EQL121", "101");
  failsAt("sequence [a where true] with runs=1.5 [b where true]", "EQL121", "1.5");
  failsAt("sequence [a where true] with repeat=2 [b where true]", "EQL121", "repeat");
  failsAt("sequence [a where true] with maxspan=2s [b where true]", "EQL121", "maxspan");
  failsAt("sequence with runs=2 [a where true] [b where true]", "EQL121", "runs");
  failsAt(
    "sequence [a where true] [b where true] until [c where true] with runs=2",
    "EQL121",
    "[c where true] with runs=2",
  );
  assert.equal(parseEql("sequence [a where true] with runs=100 [b where true]").kind, "query");
});

test("EQL122: inconsistent number of join keys (ES's message)", () => {
  const e = failsAt("sequence [a where true] by x [b where true] by x, y", "EQL122", "x, y");
  assert.equal(e.diagnostic.title, "Inconsistent number of join keys specified; expected [1] but found [2]");
  failsAt("sequence [a where true] by x [b where true]", "EQL122", "[b where true]");
  failsAt(
    "sequence [a where true] by x [b where true] by x until [c where true]",
    "EQL122",
    "[c where true]",
  );
  failsAt("sample [a where true] by x [b where true]", "EQL122", "[b where true]");
});

test("EQL124: sample rules", () => {
  failsAt("sample by x [a where true]", "EQL124", "sample by x [a where true]");
  failsAt("sample by x with maxspan=1s [a where true] [b where true]", "EQL124", "with");
  failsAt("sample by x [a where true] ![b where true]", "EQL124", "![");
  failsAt("sample by x [a where true] [b where true] until [c where true]", "EQL124", "until");
  failsAt("sample by x [a where true] [b where true] with runs=2", "EQL105", "with");
});

test("every error carries the query text for rendering", () => {
  const text = "process where a ==";
  const e = catchError(() => parseEql(text));
  assert.equal(e.sourceText, text);
  assert.equal(e.diagnostic.severity, "error");
});
