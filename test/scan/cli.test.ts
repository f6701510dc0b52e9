/** `quarry scan` as a user runs it: formats, exit codes, rule errors, inputs (child processes). */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CSV_COLUMNS, hashBytes } from "../../src/scan/index.js";
import { buildIcoDeadDrop, buildSuddenIconCarrier } from "../fixtures-gen/suddenicon.js";
import { tempDir } from "../helpers/tmp.js";
import { runCli } from "./helpers.js";

function makeTree() {
  const tmp = tempDir("quarry-cli-");
  for (const d of ["tree", "tree/app", "tree/icons"]) mkdirSync(join(tmp.dir, d), { recursive: true });
  tmp.file("tree/app/d3dcompiler_47.dll", Buffer.from(buildSuddenIconCarrier().bytes));
  tmp.file(
    "tree/icons/icon1.ico",
    Buffer.from(buildIcoDeadDrop({ url: "https://msstorageazure.com/window" }).bytes),
  );
  tmp.file("tree/readme.txt", "nothing to see\n");
  return { ...tmp, tree: join(tmp.dir, "tree") };
}

test("default run: the bundled 3CX rules find the carrier and the icon; ndjson when not a TTY", () => {
  const t = makeTree();
  const r = runCli([t.tree]);
  assert.equal(r.status, 0, r.stderr);
  const records = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    records.map((x) => x.file.path.slice(t.tree.length + 1)),
    ["app/d3dcompiler_47.dll", "icons/icon1.ico"],
  );
  const rules = records.map((x) => x.yara.map((y: { rule: string }) => y.rule));
  assert.ok(rules[0].includes("Quarry_3CX_SuddenIcon_Carrier_DoubledMarker"));
  assert.ok(rules[1].includes("Quarry_3CX_IconStorages_Ico_PublishedKey"));
  assert.deepEqual(Object.keys(records[0]), ["file", "yara", "indicators"]);
  assert.deepEqual(Object.keys(records[0].file), ["path", "size", "hash"]);
  assert.deepEqual(Object.keys(records[0].file.hash), ["md5", "sha1", "sha256"]);
  assert.deepEqual(Object.keys(records[0].yara[0]), ["rule", "namespace", "tags", "meta", "strings"]);
  assert.deepEqual(Object.keys(records[0].yara[0].strings[0]), ["id", "offset", "length", "hex"]);
  assert.match(r.stderr, /scanned 3 files/);
});

test("--fail-on-match exits 1 on a match and 0 without one", () => {
  const t = makeTree();
  assert.equal(runCli([t.tree, "--fail-on-match"]).status, 1);
  assert.equal(runCli([join(t.tree, "readme.txt"), "--fail-on-match"]).status, 0);
});

test("--format json is one array; csv is flat with a header; --output writes a file", () => {
  const t = makeTree();
  const json = runCli([t.tree, "--format", "json"]);
  assert.equal(json.status, 0);
  const arr = JSON.parse(json.stdout);
  assert.equal(arr.length, 2);
  const empty = runCli([join(t.tree, "readme.txt"), "--format", "json"]);
  assert.deepEqual(JSON.parse(empty.stdout), []);
  const out = join(t.dir, "out.csv");
  const csv = runCli([t.tree, "--format", "csv", "--output", out]);
  assert.equal(csv.status, 0);
  assert.equal(csv.stdout, "");
  const lines = readFileSync(out, "utf8").trim().split("\n");
  assert.equal(lines[0], CSV_COLUMNS.join(","));
  assert.ok(lines.length >= 4);
  assert.ok(lines.slice(1).every((l) => l.includes(",yara,")));
  const table = runCli([t.tree, "--format", "table"]);
  assert.match(table.stdout, /yara {2}suddenicon:Quarry_3CX_SuddenIcon_Carrier_DoubledMarker/);
});

test("--iocs matches hashes; --no-hashes drops them", () => {
  const t = makeTree();
  const readme = Buffer.from("nothing to see\n");
  const iocs = t.file("iocs.csv", `type,value,label,source\nsha1,${hashBytes(readme).sha1},planted,test\n`);
  const r = runCli([join(t.tree, "readme.txt"), "--rules", "none", "--iocs", iocs]);
  assert.equal(r.status, 0, r.stderr);
  const rec = JSON.parse(r.stdout);
  assert.deepEqual(rec.indicators, [
    { value: hashBytes(readme).sha1, type: "sha1", label: "planted", source: "test" },
  ]);
  const nh = runCli([join(t.tree, "readme.txt"), "--no-hashes", "--iocs", iocs]);
  assert.equal(nh.stdout, "");
  assert.match(nh.stderr, /not matched/);
});

test("a rule file that does not compile is reported with file:line:column; the others still run; exit 2", () => {
  const t = makeTree();
  const bad = t.file("bad.yar", "rule bad {\n  condition:\n    nope\n}\n");
  const good = t.file("good.yar", 'rule readme_rule { strings: $a = "nothing to see" condition: $a }\n');
  const r = runCli([t.tree, "--rules", "none", "--yara", bad, "--yara", good]);
  assert.equal(r.status, 2);
  assert.ok(r.stderr.includes(`${bad}:3:5: error[E009]: unknown identifier`), r.stderr);
  const records = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    records.map((x) => x.yara[0].rule),
    ["readme_rule"],
  );
});

test("usage errors exit 2: missing --yara file, bad --define, unknown pack, nothing to scan for, bad flag", () => {
  const t = makeTree();
  const missing = runCli([t.tree, "--yara", join(t.dir, "nope.yar")]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read --yara .*nope\.yar: no such file/);
  assert.equal(runCli([t.tree, "--define", "=x"]).status, 2);
  assert.equal(runCli([t.tree, "--rules", "no-such-pack"]).status, 2);
  assert.equal(runCli([t.tree, "--rules", "none", "--no-hashes"]).status, 2);
  assert.equal(runCli([t.tree, "--bogus"]).status, 2);
  assert.equal(runCli([t.tree, "--format", "xml"]).status, 2);
  assert.equal(runCli([t.tree, "--iocs", join(t.dir, "none.csv")]).status, 2);
});

test("input errors: nothing readable exits 3; with --strict any unreadable input exits 3", () => {
  const t = makeTree();
  const none = runCli([join(t.dir, "missing")]);
  assert.equal(none.status, 3);
  assert.match(none.stderr, /missing: no such file or directory/);
  const some = runCli([join(t.dir, "missing"), join(t.tree, "readme.txt")]);
  assert.equal(some.status, 0);
  assert.equal(runCli([join(t.dir, "missing"), join(t.tree, "readme.txt"), "--strict"]).status, 3);
});

test("an empty folder is not an error", () => {
  const t = tempDir("quarry-cli-empty-");
  const r = runCli([t.dir]);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /scanned 0 files/);
});
