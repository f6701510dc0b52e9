import assert from "node:assert/strict";
import { test } from "node:test";
import { parseJsonLossless, stringifyJson } from "../../src/events/json.js";

test("integers beyond 2^53 keep every digit", () => {
  const v = parseJsonLossless(
    '{"t":131509374020000001,"n":-9007199254740993,"s":"131509374020000001","f":1.5}',
  );
  assert.deepEqual(v, { t: 131509374020000001n, n: -9007199254740993n, s: "131509374020000001", f: 1.5 });
  assert.equal(
    stringifyJson(v),
    '{"t":131509374020000001,"n":-9007199254740993,"s":"131509374020000001","f":1.5}',
  );
});

test("safe long numbers, decimals and exponents stay numbers", () => {
  assert.deepEqual(
    parseJsonLossless('{"a":1234567890123456,"b":1234567890123456.5,"c":12345678901234567e3}'),
    {
      a: 1234567890123456,
      b: 1234567890123456.5,
      c: 12345678901234567e3,
    },
  );
});

test("digits inside strings with escaped quotes are never rewritten", () => {
  const text = '{"a":"x\\"12345678901234567890\\"","b":12345678901234567890}';
  assert.deepEqual(parseJsonLossless(text), { a: 'x"12345678901234567890"', b: 12345678901234567890n });
});

test("a document cannot forge the bigint marker", () => {
  const v = parseJsonLossless('{"a":"\\u0000big-000000000000:5","b":12345678901234567890}') as Record<
    string,
    unknown
  >;
  assert.equal(typeof v.a, "string");
});
