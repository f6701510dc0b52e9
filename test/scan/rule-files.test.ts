/** Rule files: compile errors with file, line and column; the other files still run; --define; namespaces. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  assignNamespaces,
  compileRuleFiles,
  expandRulePaths,
  formatRuleFileMessage,
  loadYaraX,
  parseDefine,
  RuleInputError,
} from "../../src/scan/index.js";
import { tempDir } from "../helpers/tmp.js";

const good = `rule good_one { strings: $a = "needle" condition: $a }\n`;
const broken = `rule fine { condition: filesize > 0 }\n\nrule broken {\n  condition:\n    $missing and\n}\n`;

function compile(files: Record<string, string | Buffer>, defines = {}) {
  const tmp = tempDir("quarry-scan-rules-");
  const paths = Object.entries(files).map(([name, text]) => tmp.file(name, text));
  const set = compileRuleFiles(assignNamespaces(paths.map((path) => ({ path, origin: "user" }))), defines);
  return { set, paths, dir: tmp.dir };
}

test("a file that does not compile is reported with file, line, column and message; the others still run", () => {
  const { set, paths } = compile({ "a.yar": good, "b.yar": broken });
  assert.equal(set.files.length, 1);
  assert.equal(set.files[0].path, paths[0]);
  assert.deepEqual(
    set.failed.map((f) => f.path),
    [paths[1]],
  );
  assert.equal(set.errors.length, 1);
  const e = set.errors[0];
  assert.equal(e.file, paths[1]);
  assert.equal(e.line, 6);
  assert.equal(e.column, 1);
  assert.equal(e.code, "E001");
  assert.match(e.message, /syntax error/);
  assert.match(
    formatRuleFileMessage(e),
    new RegExp(`^${paths[1].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:6:1: error\\[E001\\]: syntax error`),
  );
  // The good file's rule is usable.
  const rules = loadYaraX().deserialize(set.blob!);
  assert.deepEqual(
    rules.scan(Buffer.from("a needle here")).map((m) => m.rule),
    ["good_one"],
  );
});

test("an unknown identifier names its line and column", () => {
  const { set } = compile({ "c.yar": "rule x {\n  condition:\n    true and nothere\n}\n" });
  assert.equal(set.errors.length, 1);
  assert.equal(set.errors[0].line, 3);
  assert.equal(set.errors[0].column, 14);
  assert.match(set.errors[0].message, /unknown identifier `nothere`/);
  assert.equal(set.blob, null);
});

test("a rule file that is not UTF-8 is reported with the position of the first bad byte", () => {
  const bytes = Buffer.concat([
    Buffer.from('rule x {\n strings: $a = "ab'),
    Buffer.from([0xff]),
    Buffer.from('" condition: $a }\n'),
  ]);
  const { set, paths } = compile({ "latin.yar": bytes });
  assert.equal(set.errors.length, 1);
  assert.equal(set.errors[0].file, paths[0]);
  assert.equal(set.errors[0].line, 2);
  assert.equal(set.errors[0].column, 19);
  assert.match(set.errors[0].message, /UTF-8/);
});

test("includes resolve next to the including file; a missing include is an error of that file", () => {
  const { set } = compile({
    "sub.yar": "rule sub_rule { condition: filesize == 3 }\n",
    "top.yar": 'include "sub.yar"\nrule top_rule { condition: sub_rule }\n',
    "bad.yar": 'include "nope.yar"\nrule r { condition: true }\n',
  });
  assert.deepEqual(
    set.files.map((f) => f.namespace),
    ["sub", "top"],
  );
  assert.equal(set.errors.length, 1);
  assert.equal(set.errors[0].line, 1);
  assert.match(set.errors[0].message, /include file not found/);
});

test("--define provides external variables; without it the file does not compile", () => {
  const src = 'rule ext { condition: extension == ".exe" and flag and level > 2 }\n';
  const without = compile({ "ext.yar": src });
  assert.equal(without.set.files.length, 0);
  assert.match(without.set.errors[0].message, /unknown identifier `extension`/);
  const defines = Object.fromEntries(["extension=.exe", "flag=true", "level=3"].map(parseDefine));
  const withDefs = compile({ "ext.yar": src }, defines);
  assert.equal(withDefs.set.files.length, 1);
  const rules = loadYaraX().deserialize(withDefs.set.blob!);
  assert.deepEqual(
    rules.scan(Buffer.from("x")).map((m) => m.rule),
    ["ext"],
  );
});

test("parseDefine types values like yara -d", () => {
  assert.deepEqual(parseDefine("a=true"), ["a", true]);
  assert.deepEqual(parseDefine("a=false"), ["a", false]);
  assert.deepEqual(parseDefine("n=-42"), ["n", -42]);
  assert.deepEqual(parseDefine('s="12"'), ["s", "12"]);
  assert.deepEqual(parseDefine("extension="), ["extension", ""]);
  assert.deepEqual(parseDefine("p=a=b"), ["p", "a=b"]);
  assert.throws(() => parseDefine("novalue"), RuleInputError);
  assert.throws(() => parseDefine("1bad=x"), RuleInputError);
});

test("rules of the same name in two files live in separate namespaces", () => {
  const { set } = compile({ "one.yar": good, "two.yar": good, "one.yara": good });
  assert.deepEqual(
    set.files.map((f) => f.namespace),
    ["one", "two", "one_2"],
  );
  const rules = loadYaraX().deserialize(set.blob!);
  assert.deepEqual(
    rules
      .scan(Buffer.from("needle"))
      .map((m) => `${m.namespace}:${m.rule}`)
      .sort(),
    ["one:good_one", "one_2:good_one", "two:good_one"],
  );
});

test("expandRulePaths takes .yar/.yara under folders in name order; a missing path is an input error", () => {
  const tmp = tempDir("quarry-scan-expand-");
  tmp.file("b.yar", good);
  tmp.file("a.yara", good);
  tmp.file("notes.txt", "x");
  const found = expandRulePaths([tmp.dir], "user").map((p) => p.slice(tmp.dir.length + 1));
  assert.deepEqual(found, ["a.yara", "b.yar"]);
  assert.throws(() => expandRulePaths([`${tmp.dir}/missing.yar`], "user"), /no such file/);
});

test("boolean metadata comes through as booleans (the pinned binding)", () => {
  const engine = loadYaraX();
  assert.equal(engine.bindingVersion, "0.7.2");
  const rules = engine.compile([
    { source: 'rule m { meta: t = true f = false n = 7 s = "x" condition: true }', namespace: "n" },
  ]);
  assert.deepEqual(rules.scan(Buffer.alloc(0))[0].meta, { t: true, f: false, n: 7, s: "x" });
});
