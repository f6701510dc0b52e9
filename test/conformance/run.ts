/**
 * `npm run conformance`: runs every suite module against the upstream vectors in the shared folder
 * (`--shared DIR`, else $QUARRY_SHARED, else ../shared), prints `<suite>: N passed, N failed, N skipped`,
 * writes reports/conformance.json and checks the known-failures lists in test/conformance/known-failures/.
 * Exit 1 when a case fails that is not listed, or a listed case passes (the lists only shrink).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SuiteModule, SuiteReport } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../..");

function sharedDir(): string {
  const i = process.argv.indexOf("--shared");
  if (i >= 0 && process.argv[i + 1]) return resolve(process.argv[i + 1]);
  if (process.env.QUARRY_SHARED) return resolve(process.env.QUARRY_SHARED);
  return resolve(repoRoot, "../shared");
}

type KnownFailures = Record<string, Record<string, string>>;

function loadKnownFailures(): KnownFailures {
  const dir = join(repoRoot, "test/conformance/known-failures");
  const known: KnownFailures = {};
  if (!existsSync(dir)) return known;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const data = JSON.parse(readFileSync(join(dir, file), "utf8")) as KnownFailures;
    for (const [suite, cases] of Object.entries(data)) known[suite] = { ...known[suite], ...cases };
  }
  return known;
}

async function main(): Promise<number> {
  const shared = sharedDir();
  if (!existsSync(shared)) {
    console.error(`conformance: shared folder not found at ${shared} (use --shared DIR or QUARRY_SHARED)`);
    return 1;
  }
  const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
  const suitesDir = join(here, "suites");
  const modules = readdirSync(suitesDir)
    .filter((f) => f.endsWith(".js"))
    .sort();
  const reports: SuiteReport[] = [];
  for (const file of modules) {
    if (only && !file.startsWith(only)) continue;
    const mod = (await import(pathToFileURL(join(suitesDir, file)).href)) as SuiteModule;
    try {
      reports.push(...(await mod.run(shared)));
    } catch (error) {
      reports.push({
        suite: `${file.replace(/\.js$/, "")}/(load)`,
        cases: [{ name: "suite", status: "failed", reason: `suite crashed: ${String(error)}` }],
      });
    }
  }
  const knownFailures = loadKnownFailures();
  const json: Record<string, { passed: number; failed: number; skipped: number; failures: string[] }> = {};
  const unexpected: string[] = [];
  const fixed: string[] = [];
  let totals = { passed: 0, failed: 0, skipped: 0 };
  for (const report of reports) {
    const failed = report.cases.filter((c) => c.status === "failed");
    const passed = report.cases.filter((c) => c.status === "passed");
    const skipped = report.cases.filter((c) => c.status === "skipped");
    json[report.suite] = {
      passed: passed.length,
      failed: failed.length,
      skipped: skipped.length,
      failures: failed.map((c) => c.name),
    };
    totals = {
      passed: totals.passed + passed.length,
      failed: totals.failed + failed.length,
      skipped: totals.skipped + skipped.length,
    };
    console.log(
      `${report.suite}: ${passed.length} passed, ${failed.length} failed, ${skipped.length} skipped`,
    );
    const listed = knownFailures[report.suite] ?? {};
    for (const c of failed) {
      if (!(c.name in listed))
        unexpected.push(`${report.suite} :: ${c.name}${c.reason ? `\n      ${c.reason}` : ""}`);
    }
    for (const c of passed) if (c.name in listed) fixed.push(`${report.suite} :: ${c.name}`);
  }
  mkdirSync(join(repoRoot, "reports"), { recursive: true });
  writeFileSync(join(repoRoot, "reports/conformance.json"), `${JSON.stringify(json, null, 2)}\n`);
  if (unexpected.length > 0) {
    console.log(`\nFailures not in the known-failures lists (${unexpected.length}):`);
    for (const line of unexpected.slice(0, 200)) console.log(`  ${line}`);
  }
  if (fixed.length > 0) {
    console.log(`\nListed as known failures but now passing: remove them (${fixed.length}):`);
    for (const line of fixed) console.log(`  ${line}`);
  }
  // The closing line counts as failed only what is not in the known-failures lists (CI reads it).
  const known = totals.failed - unexpected.length;
  console.log(
    `\nconformance: ${totals.passed} passed, ${unexpected.length} failed, ${totals.skipped} skipped (${known} known failures listed)`,
  );
  return unexpected.length > 0 || fixed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(70);
  },
);
