import assert from "node:assert/strict";
import { test } from "node:test";
import { compileFilters, FilterError } from "../../src/rules/filters.js";
import { compileWildcard } from "../../src/rules/wildcard.js";
import fc from "../fc.js";

test("wildcards: * and ? and escapes, optionally case-insensitive", () => {
  assert.equal(compileWildcard("*.exe")("cmd.exe"), true);
  assert.equal(compileWildcard("*.exe")("cmd.dll"), false);
  assert.equal(compileWildcard("c?d.exe")("cmd.exe"), true);
  assert.equal(compileWildcard("C:\\\\Windows\\\\*")("C:\\Windows\\x"), true);
  assert.equal(compileWildcard("a\\*b")("a*b"), true);
  assert.equal(compileWildcard("a\\*b")("axb"), false);
  assert.equal(compileWildcard("*POWERSHELL*", true)("c:\\x\\powershell.exe"), true);
  assert.equal(compileWildcard("a*b*c")("abc"), true);
  assert.equal(compileWildcard("a*b*c")("acb"), false);
  assert.equal(compileWildcard("")(""), true);
});

test("wildcard matching agrees with a reference regex and stays fast on hostile input", () => {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, "[^]*")
        .replace(/\?/g, "[^]")}$`,
      "u",
    );
  fc.assert(
    fc.property(fc.stringMatching(/^[ab*?]{0,8}$/), fc.stringMatching(/^[ab]{0,10}$/), (pattern, text) => {
      assert.equal(compileWildcard(pattern)(text), toRegex(pattern).test(text));
    }),
  );
  const start = Date.now();
  const m = compileWildcard(`${"*a".repeat(200)}b`);
  assert.equal(m("a".repeat(20_000)), false);
  assert.ok(Date.now() - start < 2000);
});

test("Kibana filters: negated wildcard, exists, phrase, bool, disabled", () => {
  const f = compileFilters([
    {
      meta: { negate: true },
      query: { wildcard: { "file.path": { value: "C:\\\\Temp\\\\*", case_insensitive: true } } },
    },
    { meta: { negate: false }, exists: { field: "user.name" } },
    { meta: { disabled: true }, query: { match_phrase: { "event.module": "never" } } },
    {
      meta: {},
      query: {
        bool: { should: [{ term: { "host.os.type": "windows" } }, { terms: { "host.os.type": ["macos"] } }] },
      },
    },
  ])!;
  const base = { user: { name: "u" }, host: { os: { type: "windows" } }, file: { path: "D:\\x" } };
  assert.equal(f(base), true);
  assert.equal(f({ ...base, file: { path: "c:\\temp\\a.ps1" } }), false);
  assert.equal(f({ ...base, user: {} }), false);
  assert.equal(f({ ...base, host: { os: { type: "linux" } } }), false);
  assert.equal(compileFilters([]), undefined);
  assert.throws(() => compileFilters([{ query: { geo_shape: {} } }]), FilterError);
});
