/** Shared helpers of the scan tests: the bundled rules, a one-shot compile, and running the CLI as a child. */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assignNamespaces, compileRuleFiles, loadYaraX, type YaraRuleMatch } from "../../src/scan/index.js";

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (tests run from dist/test/scan). */
export const repoRoot = resolve(here, "../../..");
export const packRules = join(repoRoot, "packs/3cx/yara/suddenicon.yar");
const cliEntry = join(here, "cli-entry.js");

/** Compile rule files the way scan does and return a scanner for buffers on this thread. */
export function compileForTest(files: string[], defines: Record<string, string | number | boolean> = {}) {
  const set = compileRuleFiles(assignNamespaces(files.map((path) => ({ path, origin: "test" }))), defines);
  if (!set.blob) throw new Error(`nothing compiled: ${set.errors.map((e) => e.message).join("; ")}`);
  const rules = loadYaraX().deserialize(set.blob);
  return {
    set,
    /** Names of the rules matching these bytes, sorted. */
    ruleNames(bytes: Uint8Array): string[] {
      return rules
        .scan(bytes)
        .map((m: YaraRuleMatch) => m.rule)
        .sort();
    },
    scan: (bytes: Uint8Array) => rules.scan(bytes),
  };
}

export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: string[], options: { cwd?: string } = {}): CliRun {
  const r = spawnSync(process.execPath, [cliEntry, "scan", ...args], {
    cwd: options.cwd ?? repoRoot,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
