/**
 * Suite `scan/yara-upstream`: the third-party 3CX YARA files (Elastic, Volexity, signature-base) compile
 * unchanged with Quarry's YARA-X, through the same path as `quarry scan --yara` (signature-base's file with
 * `--define extension=`); Elastic's FEEDFACE rule matches our generated carrier; Volexity's ICO rule matches
 * our generated dead drop and the 16 real IconStorages icons; the bundled pack's ICO rules match the real
 * icons too; and none of them fires on clean look-alikes.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  assignNamespaces,
  type CompiledRuleSet,
  compileRuleFiles,
  loadYaraX,
  type YaraRules,
} from "../../../src/scan/index.js";
import {
  buildIco,
  buildIcoDeadDrop,
  buildInnerDll,
  buildMinimalPe,
  buildPng,
  buildSuddenIconCarrier,
} from "../../fixtures-gen/suddenicon.js";
import { packRules } from "../../scan/helpers.js";
import type { CaseResult, SuiteReport } from "../harness.js";

const SUITE = "scan/yara-upstream";

const UPSTREAM: readonly { file: string; defines: Record<string, string> }[] = [
  { file: "elastic/Windows_Trojan_SuddenIcon.yar", defines: {} },
  { file: "volexity/rules.yar", defines: {} },
  // THOR's external variable; plain yara needs -d extension="" too.
  { file: "signature-base/gen_mal_3cx_compromise_mar23.yar", defines: { extension: "" } },
];

function compileOne(path: string, defines: Record<string, string>): CompiledRuleSet {
  return compileRuleFiles(assignNamespaces([{ path, origin: "upstream" }]), defines);
}

export async function run(shared: string): Promise<SuiteReport[]> {
  const base = join(shared, "content/yara-upstream");
  const cases: CaseResult[] = [];
  const rulesByFile = new Map<string, YaraRules>();
  const engine = loadYaraX();

  for (const { file, defines } of UPSTREAM) {
    const path = join(base, file);
    if (!existsSync(path)) {
      cases.push({ name: `compile ${file}`, status: "skipped", reason: "not in the shared folder" });
      continue;
    }
    const set = compileOne(path, defines);
    if (set.blob && set.errors.length === 0) {
      cases.push({ name: `compile ${file}`, status: "passed" });
      rulesByFile.set(file, engine.deserialize(set.blob));
    } else {
      cases.push({
        name: `compile ${file}`,
        status: "failed",
        reason: set.errors.map((e) => `${e.line}:${e.column} ${e.code} ${e.message}`).join("; "),
      });
    }
  }
  // Without the define, signature-base's file must fail on exactly `extension` (documents why --define exists).
  {
    const path = join(base, UPSTREAM[2].file);
    if (existsSync(path)) {
      const set = compileOne(path, {});
      const ok =
        set.blob === null &&
        set.errors.length === 1 &&
        /unknown identifier `extension`/.test(set.errors[0].message);
      cases.push({
        name: "signature-base without --define extension fails on `extension` only",
        status: ok ? "passed" : "failed",
        reason: ok ? undefined : set.errors.map((e) => e.message).join("; ") || "compiled without the define",
      });
    }
  }

  const expect = (name: string, file: string, rule: string, bytes: Uint8Array, shouldMatch: boolean) => {
    const rules = rulesByFile.get(file);
    if (!rules) {
      cases.push({ name, status: "skipped", reason: `${file} did not compile` });
      return;
    }
    const matched = rules.scan(bytes).some((m) => m.rule === rule);
    cases.push(
      matched === shouldMatch
        ? { name, status: "passed" }
        : { name, status: "failed", reason: `${rule} ${matched ? "matched" : "did not match"}` },
    );
  };

  // Generated look-alikes.
  const elastic = UPSTREAM[0].file;
  const volexity = UPSTREAM[1].file;
  expect(
    "elastic bdae76c9 matches the generated carrier (doubled marker)",
    elastic,
    "Windows_Trojan_SuddenIcon_bdae76c9",
    buildSuddenIconCarrier().bytes,
    true,
  );
  expect(
    "elastic bdae76c9 does not match a single-marker carrier",
    elastic,
    "Windows_Trojan_SuddenIcon_bdae76c9",
    buildSuddenIconCarrier({ markerForm: "single" }).bytes,
    false,
  );
  expect(
    "elastic bdae76c9 does not match a clean D3DCompiler_47 PE",
    elastic,
    "Windows_Trojan_SuddenIcon_bdae76c9",
    buildMinimalPe({ machine: "amd64", dll: true, pdbName: "D3DCompiler_47.pdb" }),
    false,
  );
  expect(
    "elastic 99487621 matches the generated inner DLL",
    elastic,
    "Windows_Trojan_SuddenIcon_99487621",
    buildInnerDll(),
    true,
  );
  const drop = buildIcoDeadDrop({ url: "https://msstorageazure.com/window" });
  expect(
    "volexity apt_ico_uta0040_b64_c2 matches the generated dead drop",
    volexity,
    "apt_ico_uta0040_b64_c2",
    drop.bytes,
    true,
  );
  expect(
    "volexity apt_ico_uta0040_b64_c2 does not match a clean icon",
    volexity,
    "apt_ico_uta0040_b64_c2",
    buildIco(buildPng(32, 32)),
    false,
  );

  // The real icons: Volexity's rule and our pack's two ICO rules.
  const packSet = compileRuleFiles(assignNamespaces([{ path: packRules, origin: "3cx" }]), {});
  const pack = packSet.blob ? engine.deserialize(packSet.blob) : null;
  const iconDir = join(shared, "content/iconstorages");
  const icons = existsSync(iconDir)
    ? readdirSync(iconDir)
        .filter((n) => n.endsWith(".ico"))
        .sort()
    : [];
  if (icons.length === 0)
    cases.push({ name: "real icons", status: "skipped", reason: "iconstorages not in the shared folder" });
  for (const icon of icons) {
    const bytes = readFileSync(join(iconDir, icon));
    expect(
      `volexity apt_ico_uta0040_b64_c2 matches real ${icon}`,
      volexity,
      "apt_ico_uta0040_b64_c2",
      bytes,
      true,
    );
    const ours = pack ? pack.scan(bytes).map((m) => m.rule) : [];
    const want = ["Quarry_3CX_IconStorages_Ico_DeadDrop", "Quarry_3CX_IconStorages_Ico_PublishedKey"];
    const ok = want.every((w) => ours.includes(w)) && ours.length === 2;
    cases.push(
      ok
        ? { name: `pack ICO rules match real ${icon}`, status: "passed" }
        : {
            name: `pack ICO rules match real ${icon}`,
            status: "failed",
            reason: `matched: ${ours.join(", ") || "nothing"}`,
          },
    );
  }
  return [{ suite: SUITE, cases }];
}
