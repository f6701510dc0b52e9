import assert from "node:assert/strict";
import { test } from "node:test";
import { compareTimestamps, formatTimestamp, parseTimestamp } from "../../src/events/timestamp.js";

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
