import assert from "node:assert/strict";
import test from "node:test";
import { compileEql } from "../../src/eql/index.js";
import type { JsonObject } from "../../src/events/types.js";
import {
  compileTextCheck,
  eqlTextNeed,
  FoldedValues,
  patternShape,
  type TextShape,
} from "../../src/rules/literals.js";
import { NeedleScanner } from "../../src/rules/needles.js";
import { ecsSchema } from "../../src/schema/index.js";
import fc from "../fc.js";

// Few letters, so needles overlap, nest and repeat; non-ASCII units (a caseless mark, a surrogate half).
const letter = fc.constantFrom("a", "b", "c", "\\", ".", "\u202e", "\ud83d");
const word = (max: number) => fc.array(letter, { minLength: 1, maxLength: max }).map((a) => a.join(""));

function naive(needles: readonly string[], text: string) {
  return needles.map((n) => [text.includes(n), text.startsWith(n), text.endsWith(n)]);
}

function scanned(scanner: NeedleScanner, needles: readonly string[], text: string) {
  scanner.scan(text);
  const e = scanner.epoch;
  return needles.map((_, i) => [scanner.anywhere[i] === e, scanner.atStart[i] === e, scanner.atEnd[i] === e]);
}

test("needle scanner: finds exactly what includes / startsWith / endsWith find", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(word(5), { minLength: 1, maxLength: 12 }),
      fc.array(word(12), { maxLength: 6 }),
      (needles, texts) => {
        const scanner = NeedleScanner.build(needles);
        assert.ok(scanner);
        for (const text of ["", ...texts])
          assert.deepEqual(scanned(scanner, needles, text), naive(needles, text), text);
      },
    ),
    { numRuns: 500 },
  );
});

test("needle scanner: marks of old scans never count once the scan number restarts", () => {
  const needles = ["abc", "bc", "c"];
  const scanner = NeedleScanner.build(needles)!;
  scanner.scan("xxabc");
  assert.equal(scanner.epoch, 1);
  scanner.epoch = 0x7ffffffe;
  // The next number would be the limit: the marks are cleared and numbering restarts at 1, the number
  // the first scan left on every needle.
  assert.deepEqual(scanned(scanner, needles, "zzz"), naive(needles, "zzz"));
  assert.equal(scanner.epoch, 1);
  assert.deepEqual(scanned(scanner, needles, "bcx"), naive(needles, "bcx"));
});

test("needle scanner: declines empty needles and tables that would be too large", () => {
  assert.equal(NeedleScanner.build([]), undefined);
  assert.equal(NeedleScanner.build(["a", ""]), undefined);
  // 2,000 needles of 20 distinct characters each: too many states times classes.
  const big = Array.from({ length: 2000 }, (_, i) =>
    String.fromCharCode(...Array.from({ length: 20 }, (_, k) => 0x4e00 + ((i * 20 + k) % 3000))),
  );
  assert.equal(NeedleScanner.build(big), undefined);
});

/** What the per-shape tests decide for a folded value (the check's definition, written out). */
function shapeHolds(s: TextShape, v: string): boolean {
  if (s.equals !== undefined) return v === s.equals;
  return (
    (s.prefix === undefined || v.startsWith(s.prefix)) &&
    (s.suffix === undefined || v.endsWith(s.suffix)) &&
    (s.contains ?? []).every((c) => v.includes(c))
  );
}

test("literal pre-check: a long pattern list (one scan per value) decides as its shapes do", () => {
  const schema = ecsSchema();
  const folders = ["Tasks", "Fonts", "INF", "Help", "Temp\\a", "ab", "b.c", "Web"];
  const pattern = fc.tuple(
    fc.constantFrom(...folders),
    fc.constantFrom("?:\\Windows\\", "*\\", "C:\\"),
    fc.constantFrom("*.exe", "\\*", "*", ".exe"),
  );
  const value = fc
    .tuple(
      fc.constantFrom("C:", "D:", "c:", ""),
      fc.array(
        fc.constantFrom(
          "\\Windows",
          "\\tasks",
          "\\Fonts",
          "\\INF",
          "\\ab",
          "\\b.c",
          "\\Temp",
          "\\a",
          ".exe",
          ".EXE",
          "x",
        ),
        { maxLength: 6 },
      ),
    )
    .map(([d, parts]) => d + parts.join(""));
  fc.assert(
    fc.property(
      fc.uniqueArray(pattern, { minLength: 6, maxLength: 14 }),
      fc.array(value, { minLength: 1, maxLength: 3 }),
      (parts, values) => {
        const patterns = parts.map(([folder, head, tail]) => head + folder + tail);
        const query = `process where process.executable : (${patterns.map((p) => JSON.stringify(p)).join(", ")})`;
        const need = eqlTextNeed(compileEql(query, { schema }).query, schema);
        const check = compileTextCheck(need, new FoldedValues());
        assert.ok(check, query);
        const shapes = patterns.map((p) => patternShape(p, true));
        for (const v of values) {
          const doc: JsonObject = { process: { executable: v } };
          const expected = shapes.some((s) => s === undefined || shapeHolds(s, v.toLowerCase()));
          assert.equal(check(doc), expected, `${query} on ${v}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});
