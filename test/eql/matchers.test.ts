import assert from "node:assert/strict";
import { test } from "node:test";
import { isQuarryError } from "../../src/diagnostics/index.js";
import { compileLuceneRegex } from "../../src/eql/lucene-regex.js";
import { compileWildcard } from "../../src/eql/wildcard.js";
import fc from "../fc.js";

test("wildcards: * and ?, no escapes, anchored", () => {
  const cases: [string, string, boolean][] = [
    ["*.exe", "cmd.exe", true],
    ["c?d.exe", "cmd.exe", true],
    ["c?d", "cd", false],
    ["*a*b*", "xaxbx", true],
    ["*a*b*", "xbxa", false],
    ["a*b*c", "abbc", true],
    ["ab*ba", "aba", false],
    ["?", "😀", true],
    ["??", "😀", false],
    ["a\\*", "a\\xyz", true],
    ["", "", true],
    ["*", "", true],
  ];
  for (const [p, v, want] of cases) assert.equal(compileWildcard(p, false).test(v), want, `${p} ~ ${v}`);
  assert.equal(compileWildcard("CMD*", false).test("cmd.exe"), false);
  assert.equal(compileWildcard("CMD*", true).test("cmd.exe"), true);
});

test("wildcards agree with a reference regex (property)", () => {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, "[\\s\\S]*")
        .replace(/\?/g, "[\\s\\S]")}$`,
      "u",
    );
  fc.assert(
    fc.property(fc.stringMatching(/^[ab*?]{0,8}$/), fc.stringMatching(/^[ab]{0,10}$/), (p, v) => {
      assert.equal(compileWildcard(p, false).test(v), toRegex(p).test(v));
    }),
  );
});

test("hostile input is linear: a*a*...b against 100k a's", () => {
  const big = "a".repeat(100_000);
  const start = performance.now();
  assert.equal(compileWildcard(`${"a*".repeat(200)}b`, false).test(big), false);
  assert.equal(compileLuceneRegex("(a*)*b").test(big), false);
  assert.equal(compileLuceneRegex("(a|aa)*c").test(big), false);
  assert.equal(compileLuceneRegex(".*a.*a.*a.*b").test(big), false);
  assert.ok(performance.now() - start < 1000, "took too long");
});

test("Lucene regex syntax", () => {
  const cases: [string, string, boolean][] = [
    ["ab+c", "abbc", true],
    ["ab+c", "ac", false],
    ["a.c", "a😀c", true],
    ["[^a-c]x", "dx", true],
    ["[^a-c]x", "bx", false],
    ["a{2,3}", "aaa", true],
    ["a{2,3}", "aaaa", false],
    ["a{2,}", "aaaaa", true],
    ['"a.b"', "a.b", true],
    ['"a.b"', "axb", false],
    ["()", "", true],
    ["#", "", false],
    ["@", "anything", true],
    ["~(abc)", "abc", false],
    ["~(abc)", "abd", true],
    ["@&~(.*foo.*)", "bar", true],
    ["@&~(.*foo.*)", "barfoo", false],
    ["<1-20>", "15", true],
    ["<1-20>", "21", false],
    ["<1-20>", "007", true],
    ["<01-20>", "07", true],
    ["<01-20>", "7", false],
    ["\\d+", "123", true],
    ["[\\d]x", "5x", true],
    ["cmd\\.exe", "cmd.exe", true],
    ["cmd\\.exe", "cmdxexe", false],
    ["a|b|c", "b", true],
  ];
  for (const [p, v, want] of cases) assert.equal(compileLuceneRegex(p).test(v), want, `${p} ~ ${v}`);
  assert.equal(compileLuceneRegex("CMD.*", { caseInsensitive: true }).test("cmd.EXE"), true);
  assert.equal(compileLuceneRegex("[^a]", { caseInsensitive: true }).test("A"), false);
});

test("Lucene regex errors are QuarryErrors", () => {
  for (const bad of ["a(", "[a", "a{2", "<1-x>", "[z-a]", "a)"]) {
    assert.throws(
      () => compileLuceneRegex(bad),
      (e: unknown) => isQuarryError(e) && e.diagnostic.code === "EQL170",
      bad,
    );
  }
  assert.throws(
    () => compileLuceneRegex("(a|b)*a(a|b){20}"),
    (e: unknown) => isQuarryError(e) && e.diagnostic.code === "EQL171",
  );
});
