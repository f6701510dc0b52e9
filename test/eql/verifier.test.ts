import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEql, parseEqlExpression } from "../../src/eql/parser.js";
import { FUNCTION_SIGNATURES } from "../../src/eql/signatures.js";
import { type VerifyOptions, verifyEql, verifyEqlExpression } from "../../src/eql/verifier.js";
import { parseMapping } from "../../src/schema/index.js";
import { assertError, catchError } from "./helpers.js";

function ok(text: string, options: Omit<VerifyOptions, "source"> = {}): void {
  verifyEql(parseEql(text), { ...options, source: text });
}

function fails(
  text: string,
  code: string,
  spanText: string,
  title?: string,
  options: Omit<VerifyOptions, "source"> & { at?: number } = {},
): void {
  const error = catchError(() => verifyEql(parseEql(text), { ...options, source: text }));
  assertError(error, text, code, spanText, options.at === undefined ? {} : { at: options.at });
  if (title !== undefined) assert.equal(error.diagnostic.title, title);
}

function expressionFails(text: string, code: string, title: string): void {
  const error = catchError(() => verifyEqlExpression(parseEqlExpression(text), { source: text }));
  assert.equal(error.diagnostic.code, code, error.diagnostic.title);
  assert.equal(error.diagnostic.title, title);
}

const mapping = parseMapping(
  JSON.stringify({
    properties: {
      "@timestamp": { type: "date" },
      event_type: { type: "keyword" },
      event: { properties: { category: { type: "alias", path: "event_type" } } },
      pid: { type: "long" },
      ppid: { type: "long" },
      md5: { type: "keyword" },
      process_name: { type: "keyword" },
      command_line: { type: "wildcard" },
      plain_text: { type: "text" },
      multi: { type: "text", fields: { raw: { type: "keyword" } } },
      source_ip: { type: "ip" },
      processes: { type: "nested", properties: { pid: { type: "long" } } },
      location: { type: "geo_point" },
      flag: { type: "boolean" },
    },
  }),
);

test("Elasticsearch's verifier cases from test_string_functions", () => {
  expressionFails("number()", "EQL151", "error building [number]: expects one or two arguments");
  expressionFails(
    "number(1)",
    "EQL152",
    "first argument of [number(1)] must be [string], found value [1] type [integer]",
  );
  expressionFails(
    "number(true)",
    "EQL152",
    "first argument of [number(true)] must be [string], found value [true] type [boolean]",
  );
  expressionFails("startsWith()", "EQL151", "error building [startswith]: expects exactly two arguments");
  expressionFails(
    'startsWith(1, "FOO")',
    "EQL152",
    'first argument of [startsWith(1, "FOO")] must be [string], found value [1] type [integer]',
  );
  expressionFails(
    'startsWith("FOO", 123)',
    "EQL152",
    'second argument of [startsWith("FOO", 123)] must be [string], found value [123] type [integer]',
  );
});

test("every function of the reference verifies with well-typed arguments, and names resolve case-insensitively", () => {
  for (const q of [
    "process where add(1, 2) == 3 and subtract(3, 1) == 2 and multiply(2, 2) == 4 and divide(4, 2) == 2 and modulo(5, 2) == 1",
    'process where between~(process_name, "a", "z", true) == "x"',
    'process where cidrMatch(source_ip, "10.0.0.0/8", "192.168.0.0/16")',
    'process where concat(process_name, "-", 1, true, null) == "x"',
    'process where endsWith~(process_name, ".exe") and startsWith~(process_name, "c") and stringContains~(process_name, "m")',
    'process where endswith~(process_name, ".exe") and STARTSWITH(process_name, "c")',
    'process where indexOf~(process_name, "x", 1) == 2 and length(process_name) == 7',
    'process where number("0x1337", 16) == 4919 and string(pid) == "1" and substring(process_name, 0, -1) == "x"',
    "process where length(null) == null",
  ]) {
    ok(q);
    ok(q, { schema: mapping });
  }
  assert.equal(FUNCTION_SIGNATURES.size, 16);
});

test("unknown functions: did-you-mean as Elasticsearch words it, and python-eql notes", () => {
  fails(
    'registry where arrayContains(bytes_written_string_list, "En")',
    "EQL150",
    "arrayContains",
    "Unknown function [arrayContains], did you mean [stringcontains]?",
  );
  fails(
    "registry where arraySearch(bytes_written_string_list, bytes_written_string, true)",
    "EQL150",
    "arraySearch",
    "Unknown function [arraySearch]",
  );
  fails("network where safe(process_name)", "EQL150", "safe", "Unknown function [safe]");
  fails('process where match(process_name, "a.*")', "EQL150", "match");
  fails(
    'process where startswth(process_name, "a")',
    "EQL150",
    "startswth",
    "Unknown function [startswth], did you mean [startswith]?",
  );
});

test("~ only on functions with a case-insensitive variant", () => {
  fails("process where length~(process_name) == 1", "EQL153", "length~");
  fails('process where concat~("a") == "a"', "EQL153", "concat~");
});

test("wrong argument counts", () => {
  fails(
    "process where length() == 1",
    "EQL151",
    "length()",
    "error building [length]: expects exactly one argument",
  );
  fails(
    'process where between("a", "b") == "x"',
    "EQL151",
    'between("a", "b")',
    "error building [between]: expects three or four arguments",
  );
  fails(
    "process where cidrMatch(source_ip)",
    "EQL151",
    "cidrMatch(source_ip)",
    "error building [cidrmatch]: expects at least two arguments",
  );
  fails("process where substring(process_name) == 1", "EQL151", "substring(process_name)");
  fails(
    "process where add(1) == 1",
    "EQL151",
    "add(1)",
    "error building [add]: expects exactly two arguments",
  );
});

test("argument types from literals", () => {
  fails(
    'process where substring(process_name, "1") == "x"',
    "EQL152",
    '"1"',
    'second argument of [substring(process_name, "1")] must be [integer], found value ["1"] type [keyword]',
  );
  fails('process where indexOf(process_name, "x", 1.5) == 1', "EQL152", "1.5");
  fails('process where between(process_name, "a", "b", "yes") == "x"', "EQL152", '"yes"');
  fails('process where cidrMatch("10.0.0.1", "10.0.0.0/8")', "EQL152", '"10.0.0.1"');
  fails("process where cidrMatch(source_ip, process_name)", "EQL154", "process_name", undefined, { at: 35 });
  fails(
    'process where 1 + "a" == 1',
    "EQL152",
    '"a"',
    'second argument of [1 + "a"] must be [numeric], found value ["a"] type [keyword]',
  );
  fails(
    'process where -"a" == 1',
    "EQL152",
    '"a"',
    'argument of [-"a"] must be [numeric], found value ["a"] type [keyword]',
  );
  fails(
    "process where true and 1",
    "EQL152",
    "1",
    "second argument of [true and 1] must be [boolean], found value [1] type [integer]",
    { at: 23 },
  );
  fails('process where not "a"', "EQL152", '"a"');
  fails("process where x like 1", "EQL152", "1", undefined, { at: 21 });
});

test("conditions must be boolean", () => {
  fails("any where 1", "EQL157", "1", "Condition expression needs to be boolean, found [INTEGER]");
  fails(
    'process where "a"',
    "EQL157",
    '"a"',
    'second argument of [process where "a"] must be [boolean], found value ["a"] type [keyword]',
  );
  fails("process where process_name", "EQL157", "process_name", undefined, { schema: mapping, at: 14 });
  ok("process where flag", { schema: mapping });
  ok("OPTIONAL where ?inexistent_field", { schema: mapping, strictFields: true });
  ok("process where x");
});

test("comparing two fields is refused as Elasticsearch refuses it", () => {
  fails(
    "process where (serial_event_id<9 and serial_event_id >= 7) or (opcode == pid)",
    "EQL155",
    "pid",
    "Comparisons against fields are not (currently) supported; offender [pid] in [==]",
    { at: 73 },
  );
  fails(
    'process where opcode in (1,3) and process_name in (parent_process_name, "SYSTEM")',
    "EQL155",
    "parent_process_name",
    'Comparisons against fields are not (currently) supported; offender [parent_process_name] in [process_name in (parent_process_name, "SYSTEM")]',
  );
  fails("process where length(a) == length(b)", "EQL155", "length(b)");
  fails("process where a <= b", "EQL155", "b", undefined, { at: 19 });
  // a constant on either side is fine; an optional field missing from the mapping is null
  ok("process where -1 < exit_code");
  ok("process where exit_code > -1 and 1 + 2 == serial_event_id");
  ok("process where ?x == ?y", { schema: mapping, strictFields: true });
  ok("process where ?x == ?y");
  ok("process where pid == ?missing", { schema: mapping, strictFields: true });
});

test("in lists: values compatible with the subject (ES's message)", () => {
  fails(
    'process where pid in (1, "string")',
    "EQL156",
    '"string"',
    '2nd argument of [pid in (1, "string")] must be [long], found value ["string"] type [keyword]',
    { schema: mapping },
  );
  fails('process where 1 in (1, "a")', "EQL156", '"a"');
  ok("process where pid in (1, 2.5, null)", { schema: mapping });
  ok('process where process_name in ("a", "b")', { schema: mapping });
  ok('process where x in (1, "a")');
});

test("field types from the mapping: functions needing strings, exact matching, nested and unsupported types", () => {
  fails(
    'process where startsWith(pid, "1")',
    "EQL152",
    "pid",
    'first argument of [startsWith(pid, "1")] must be [string], found value [pid] type [long]',
    { schema: mapping },
  );
  fails("process where length(pid) == 1", "EQL152", "pid", undefined, { schema: mapping, at: 21 });
  fails('process where cidrMatch(process_name, "10.0.0.0/8")', "EQL152", "process_name", undefined, {
    schema: mapping,
  });
  fails(
    'process where plain_text == "a"',
    "EQL160",
    "plain_text",
    '[plain_text == "a"] cannot operate on first argument field of data type [text]: No keyword/multi-field defined exact matches for [plain_text]; define one or use MATCH/QUERY instead',
    { schema: mapping },
  );
  ok('process where multi == "a" and multi.raw == "b"', { schema: mapping });
  fails(
    "process where processes.pid == 0",
    "EQL160",
    "processes.pid",
    "Cannot use field [processes.pid] type [long] with unsupported nested type in hierarchy (field [processes])",
    { schema: mapping },
  );
  fails(
    "process where processes == 0",
    "EQL160",
    "processes",
    "Cannot use field [processes] type [nested] due to nested fields not being supported yet",
    { schema: mapping },
  );
  fails(
    "process where location == 0",
    "EQL160",
    "location",
    "Cannot use field [location] with unsupported type [geo_point]",
    {
      schema: mapping,
    },
  );
  fails('process where process_name like "a*" and pid like "1*"', "EQL152", "pid", undefined, {
    schema: mapping,
    at: 41,
  });
  ok('process where pid : "1*"', { schema: mapping });
});

test("unknown fields only with strictFields, with did-you-mean", () => {
  fails("foo where xxx == 100", "EQL158", "xxx", "Unknown column [xxx]", {
    schema: mapping,
    strictFields: true,
  });
  fails("foo where md4 == 1", "EQL158", "md4", "Unknown column [md4], did you mean [md5]?", {
    schema: mapping,
    strictFields: true,
  });
  fails("foo where pib == 1", "EQL158", "pib", "Unknown column [pib], did you mean any of [pid, ppid]?", {
    schema: mapping,
    strictFields: true,
  });
  ok("foo where xxx == 100", { schema: mapping });
  ok("foo where ?xxx == 100", { schema: mapping, strictFields: true });
});

test("join keys of incompatible types (with a mapping)", () => {
  fails(
    "sequence [process where true] by pid [file where true] by process_name",
    "EQL159",
    "process_name",
    "Sequence key [process_name] type [keyword] is incompatible with key [pid] type [long]",
    { schema: mapping, at: 58 },
  );
  fails("sample [process where true] by pid [file where true] by md5", "EQL159", "md5", undefined, {
    schema: mapping,
  });
  ok("sequence [process where true] by pid [file where true] by ppid", { schema: mapping });
});

test("all problems are counted; the first in source order is reported", () => {
  const text = "process where length() == 1 and foo(1) and startsWith(1, 2)";
  const error = catchError(() => verifyEql(parseEql(text), { source: text }));
  assert.equal(error.diagnostic.code, "EQL151");
  assert.ok(error.diagnostic.notes?.some((n) => n.includes("3 more problems")));
});

test("messages quote expressions by re-printing them when the source is not given", () => {
  const error = catchError(() => verifyEql(parseEql('process where startsWith(1,"FOO")')));
  assert.equal(
    error.diagnostic.title,
    'first argument of [startsWith(1, "FOO")] must be [string], found value [1] type [integer]',
  );
});
