import assert from "node:assert/strict";
import { test } from "node:test";
import {
  hasLongDigitRun,
  hasLongDigitRunInText,
  parseJsonLossless,
  stringifyJson,
} from "../../src/events/json.js";
import fc from "../fc.js";

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

// The byte-level pre-check decides which lines take the lossless path: it must never miss an unsafe integer.
test("property: hasLongDigitRun and its text twin never send an unsafe integer down the fast path", () => {
  const digitsArb = fc.stringMatching(/^[1-9][0-9]{9,21}$/);
  const tokenArb = fc.oneof(
    digitsArb,
    digitsArb.map((d) => `-${d}`),
    digitsArb.map((d) => `${d}.5`),
    digitsArb.map((d) => `${d}e3`),
    digitsArb.map((d) => JSON.stringify(`ab${d}`)),
    digitsArb.map((d) => JSON.stringify(d)),
    fc.string({ maxLength: 8 }).map((t) => JSON.stringify(t)),
  );
  const spaceArb = fc.constantFrom("", " ", "\t", "\r\n");
  fc.assert(
    fc.property(fc.array(fc.tuple(spaceArb, tokenArb, spaceArb), { maxLength: 6 }), (parts) => {
      const text = `{${parts.map(([a, t, b], i) => `"k${i}":${a}${t}${b}`).join(",")}}`;
      // The lossless path taken unconditionally is the reference.
      const buf = Buffer.from(text);
      assert.deepEqual(
        parseJsonLossless(text, hasLongDigitRun(buf, 0, buf.length)),
        parseJsonLossless(text, true),
      );
      assert.deepEqual(parseJsonLossless(text, hasLongDigitRunInText(text)), parseJsonLossless(text, true));
      assert.deepEqual(parseJsonLossless(text), parseJsonLossless(text, true));
      const array = `[${parts.map(([a, t, b]) => `${a}${t}${b}`).join(",")}]`;
      const arrayBuf = Buffer.from(array);
      assert.deepEqual(
        parseJsonLossless(array, hasLongDigitRun(arrayBuf, 0, arrayBuf.length)),
        parseJsonLossless(array, true),
      );
      assert.deepEqual(
        parseJsonLossless(array, hasLongDigitRunInText(array)),
        parseJsonLossless(array, true),
      );
    }),
    { numRuns: 3000 },
  );
});
