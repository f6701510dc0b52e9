import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { bundledPacksDir, loadPack, PackNotFoundError } from "../../src/rules/pack.js";
import { tempDir } from "../helpers/tmp.js";
import { ruleToml } from "./fixtures.js";

test("a pack with a manifest: rules, IOC rules, yara, protected ids, constants", async () => {
  const { dir, file } = tempDir();
  for (const sub of ["rules/windows", "iocs", "yara"]) mkdirSync(join(dir, sub), { recursive: true });
  file("rules/windows/a.toml", ruleToml({ ruleId: "aaaaaaaa-1111-4000-8000-000000000001" }));
  file("rules/windows/broken.toml", "[rule\n");
  file("iocs/domains.txt", "evil[.]example\n# comment\n");
  file("yara/x.yar", "rule x { condition: true }\n");
  file(
    "pack.toml",
    `name = "demo"
version = "1.2.3"
description = "A demo pack"
[[iocs]]
file = "iocs/domains.txt"
rule_id = "bbbbbbbb-1111-4000-8000-000000000002"
name = "Demo domains"
severity = "critical"
risk_score = 99
description = "Known bad domains"
[[iocs]]
file = "../outside.txt"
[[yara]]
file = "yara/x.yar"
[protected]
rule_ids = ["aaaaaaaa-1111-4000-8000-000000000001"]
reason = "never add exceptions"
[constants]
rc4_key = "3jB(2bsG#@c7"
`,
  );
  const pack = await loadPack(dir);
  assert.equal(pack.name, "demo");
  assert.equal(pack.version, "1.2.3");
  assert.equal(pack.hasManifest, true);
  assert.equal(pack.rules.length, 1);
  assert.equal(pack.rules[0].origin.pack, "demo");
  assert.equal(pack.iocs.length, 1);
  assert.equal(pack.iocs[0].rule.name, "Demo domains");
  assert.equal(pack.iocs[0].rule.severity, "critical");
  assert.equal(pack.iocs[0].rule.type, "ioc");
  assert.equal(pack.iocs[0].list.indicators.length, 1);
  assert.deepEqual(pack.yara, [join(dir, "yara/x.yar")]);
  assert.equal(pack.protectedRules.get("aaaaaaaa-1111-4000-8000-000000000001"), "never add exceptions");
  assert.deepEqual(pack.constants, { rc4_key: "3jB(2bsG#@c7" });
  assert.ok(pack.errors.some((e) => /broken\.toml/.test(e.file) && e.line === 1));
  assert.ok(pack.errors.some((e) => /outside the pack/.test(e.message)));
});

test("plain folders and single files load as packs without a manifest; unknown names are errors", async () => {
  const { dir, file } = tempDir();
  const f = file("one.toml", ruleToml({}));
  const folder = await loadPack(dir);
  assert.equal(folder.hasManifest, false);
  assert.equal(folder.rules.length, 1);
  const single = await loadPack(f);
  assert.equal(single.rules.length, 1);
  await assert.rejects(loadPack(join(dir, "nope")), PackNotFoundError);
  await assert.rejects(loadPack("no-such-bundled-pack"), PackNotFoundError);
});

test("bundled packs are found from the package, not the working directory", () => {
  const original = process.cwd();
  try {
    process.chdir("/");
    assert.match(bundledPacksDir(), /packs$/);
  } finally {
    process.chdir(original);
  }
});
