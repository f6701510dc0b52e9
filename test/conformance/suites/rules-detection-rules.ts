/**
 * `rules/detection-rules`: every file of Elastic's prebuilt detection rules (read from the shared folder
 * at run time) loads with Quarry's loader, and every eql, query, threshold, new_terms and threat_match
 * rule compiles (parse and verify against ECS) into a runnable hunt rule. ES|QL and machine-learning rules
 * are skipped (Quarry does not run them; the hunt lists them as not run with the reason).
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { Hunt, NO_IOCS_REASON } from "../../../src/rules/engine.js";
import { listTomlFiles, loadRuleFile } from "../../../src/rules/load.js";
import { ecsSchema } from "../../../src/schema/index.js";
import type { CaseResult, SuiteReport } from "../harness.js";

const RUNNABLE = new Set(["eql", "query", "threshold", "new_terms", "threat_match"]);

export async function run(shared: string): Promise<SuiteReport[]> {
  const root = join(shared, "conformance/detection-rules");
  if (!existsSync(root)) return [];
  const files = listTomlFiles(root);
  const cases: CaseResult[] = [];
  const loaded: { name: string; rule: NonNullable<ReturnType<typeof loadRuleFile>["rule"]> }[] = [];
  for (const file of files) {
    const name = relative(root, file);
    const r = loadRuleFile(file);
    if (!r.rule) {
      cases.push({
        name,
        status: "failed",
        reason: `does not load: ${r.errors.map((e) => e.message).join("; ")}`,
      });
      continue;
    }
    loaded.push({ name, rule: r.rule });
  }
  const hunt = new Hunt({ rules: loaded.map((l) => l.rule), schema: ecsSchema() });
  hunt.reports.forEach((report, i) => {
    const { name, rule } = loaded[i];
    if (!RUNNABLE.has(rule.type)) {
      cases.push({ name, status: "skipped", reason: report.reason ?? `${rule.type} rules are not run` });
      return;
    }
    if (rule.language === "lucene") {
      cases.push({ name, status: "skipped", reason: report.reason ?? "lucene" });
      return;
    }
    if (report.status === "ran" || report.reason === NO_IOCS_REASON) cases.push({ name, status: "passed" });
    else cases.push({ name, status: "failed", reason: report.reason ?? "not runnable" });
  });
  cases.sort((a, b) => (a.name < b.name ? -1 : 1));
  return [{ suite: "rules/detection-rules", cases }];
}
