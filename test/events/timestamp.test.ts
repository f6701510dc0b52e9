import assert from "node:assert/strict";
import { test } from "node:test";
import { compareTimestamps, formatTimestamp, parseTimestamp } from "../../src/events/timestamp.js";
import fc from "../fc.js";

const ms = (s: string) => Date.parse(s);

test("ISO-8601 with Z, offsets, no zone (UTC) and fractions", () => {
  assert.deepEqual(parseTimestamp("2023-03-29T10:00:00Z"), { ms: ms("2023-03-29T10:00:00Z"), nanos: 0 });
  assert.deepEqual(parseTimestamp("2023-03-29T10:00:00"), { ms: ms("2023-03-29T10:00:00Z"), nanos: 0 });
  assert.deepEqual(parseTimestamp("2023-03-29T12:00:00+02:00"), { ms: ms("2023-03-29T10:00:00Z"), nanos: 0 });
  assert.deepEqual(parseTimestamp("2023-03-29T05:30:00-0430"), { ms: ms("2023-03-29T10:00:00Z"), nanos: 0 });
  assert.deepEqual(parseTimestamp("2023-03-29T10:00:00.5Z"), {
    ms: ms("2023-03-29T10:00:00.500Z"),
    nanos: 0,
  });
  assert.deepEqual(parseTimestamp("2023-03-29T10:00:00.123456789Z"), {
    ms: ms("2023-03-29T10:00:00.123Z"),
    nanos: 456789,
  });
  assert.deepEqual(parseTimestamp("2023-03-29"), { ms: ms("2023-03-29T00:00:00Z"), nanos: 0 });
});

test("epoch milliseconds as number, numeric string, bigint, with fractions", () => {
  assert.deepEqual(parseTimestamp(1680084000000), { ms: 1680084000000, nanos: 0 });
  assert.deepEqual(parseTimestamp("1680084000000"), { ms: 1680084000000, nanos: 0 });
  assert.deepEqual(parseTimestamp("1680084000000.123456"), { ms: 1680084000000, nanos: 123456 });
  assert.deepEqual(parseTimestamp(1680084000000n), { ms: 1680084000000, nanos: 0 });
  assert.deepEqual(parseTimestamp("1"), { ms: 1, nanos: 0 });
});

test("unreadable values give undefined", () => {
  for (const v of ["", "yesterday", "2023-13-01", "2023-03-29T25:00:00Z", true, null, {}, [], "1e400"]) {
    assert.equal(parseTimestamp(v as never), undefined, String(v));
  }
});

test("nanosecond order is kept", () => {
  const a = parseTimestamp("2023-03-29T10:00:00.000000001Z")!;
  const b = parseTimestamp("2023-03-29T10:00:00.000000002Z")!;
  assert.ok(compareTimestamps(a, b) < 0);
  assert.equal(formatTimestamp(a), "2023-03-29T10:00:00.000000001Z");
});

// The char-code fast path for `YYYY-MM-DDTHH:MM:SS(.fff)Z` must agree with the general ISO path.
test("property: canonical ISO fast path agrees with the general parser", () => {
  const pad = (n: number, w: number) => String(n).padStart(w, "0");
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 61 }),
      fc.option(fc.integer({ min: 0, max: 999 })),
      (y, mo, d, h, mi, s, ms) => {
        const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${ms === null ? "" : `.${pad(ms, 3)}`}Z`;
        // A leading space defeats the fast path (length and layout checks) but not the general one.
        assert.deepEqual(parseTimestamp(text), parseTimestamp(` ${text}`));
      },
    ),
    { numRuns: 3000 },
  );
  for (const bad of ["2023-03-15T0a:00:00.000Z", "2023-03-15T00:00:00.00aZ", "2023-03-15X00:00:00Z"])
    assert.equal(parseTimestamp(bad), undefined, bad);
});

test("parseTimestamp: the same text again, texts in turn, and texts too long to remember give their own times", () => {
  const a = "2024-05-01T10:00:00.123Z";
  const b = "2024-05-01T10:00:00.124456789Z";
  const long = `${" ".repeat(100)}2024-05-01T10:00:01Z`;
  const expected = new Map([
    [a, { ms: Date.UTC(2024, 4, 1, 10) + 123, nanos: 0 }],
    [b, { ms: Date.UTC(2024, 4, 1, 10) + 124, nanos: 456789 }],
    [long, { ms: Date.UTC(2024, 4, 1, 10, 0, 1), nanos: 0 }],
  ]);
  const c = "2024-05-01T10:00:02Z";
  expected.set(c, { ms: Date.UTC(2024, 4, 1, 10, 0, 2), nanos: 0 });
  for (const text of [a, a, b, a, long, long, b, "not a time", a, "not a time", c, a, b, c, a, c, b])
    assert.deepEqual(parseTimestamp(text), expected.get(text), text);
  // An equal text built separately (another string object) is the same time.
  assert.deepEqual(parseTimestamp(["2024-05-01T10:00:00", ".123Z"].join("")), expected.get(a));
});
