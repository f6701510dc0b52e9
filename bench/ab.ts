/**
 * A/B of two builds of the hunt engine in one process, for changes worth a few percent:
 *
 *   node --expose-gc dist/bench/ab.js DIR_A DIR_B [file] [lines] [rounds] [rules]
 *
 * Each DIR is a checkout with `dist/` built (for the commit before a change:
 * `git worktree add /tmp/base HEAD~1 && ln -s "$PWD/node_modules" /tmp/base/node_modules &&
 * (cd /tmp/base && npm run build)`). Both builds compile the same rule set (default: the shared
 * detection-rules corpus); the first `lines` lines of `file` (default 30,000 of the bench dataset) are read
 * into memory once; then rounds of a whole hunt pass, parse included, alternate between the builds (A B,
 * B A, ...) with a full collection before each. On the development VM two runs of the bench minutes apart
 * differ by up to 30%; rounds alternated this way agree within 2-5%. It prints each build's best round and
 * the median of its later two thirds (the first rounds warm up), in µs per event, and B's median against
 * A's.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_CORPUS, passOverLines, readLines } from "./hunt.js";

type RulesModule = typeof import("../src/rules/index.js");
type SchemaModule = typeof import("../src/schema/index.js");

interface Build {
  readonly dir: string;
  readonly hunt: InstanceType<RulesModule["Hunt"]>;
  readonly rounds: number[];
}

async function load(dir: string, rules: string): Promise<Build> {
  const module = (path: string) => pathToFileURL(resolve(dir, "dist/src", path)).href;
  const engine = (await import(module("rules/index.js"))) as RulesModule;
  const { ecsSchema } = (await import(module("schema/index.js"))) as SchemaModule;
  const set = await engine.loadRuleSet({ rules: [rules] });
  if (set.missing.length > 0) throw new Error(set.missing.join("\n"));
  return { dir, hunt: new engine.Hunt(engine.huntOptionsFor(set, { schema: ecsSchema() })), rounds: [] };
}

/** One pass over the lines, parse included, as the reader hands batches to a hunt. Returns µs per event. */
function round(build: Build, lines: readonly string[], file: string): { us: number; alerts: number } {
  const started = performance.now();
  const alerts = passOverLines(build.hunt, lines, file, 64);
  return { us: ((performance.now() - started) * 1000) / lines.length, alerts };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(argv: readonly string[]): Promise<void> {
  const [dirA, dirB, file = ".bench-cache/sim-2147483648.ndjson", lines = "30000", rounds = "12", rules] =
    argv;
  if (!dirA || !dirB) {
    console.error("usage: node --expose-gc dist/bench/ab.js DIR_A DIR_B [file] [lines] [rounds] [rules]");
    process.exit(2);
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) console.error("ab: run node with --expose-gc, or rounds carry each other's garbage");
  const builds = [await load(dirA, rules ?? DEFAULT_CORPUS), await load(dirB, rules ?? DEFAULT_CORPUS)];
  const text = await readLines(file, Number(lines));
  const alerts = new Map<Build, number>();
  for (let r = 0; r < Number(rounds); r++) {
    for (const build of r % 2 === 0 ? builds : [...builds].reverse()) {
      gc?.();
      gc?.();
      const result = round(build, text, file);
      build.rounds.push(result.us);
      alerts.set(build, result.alerts);
    }
  }
  const later = (b: Build) => b.rounds.slice(Math.floor(b.rounds.length / 3));
  for (const b of builds)
    console.log(
      `${b.dir}: best ${Math.min(...b.rounds).toFixed(2)} µs/event, median ${median(later(b)).toFixed(2)} ` +
        `(rounds ${b.rounds.map((x) => x.toFixed(1)).join(" ")}), ${alerts.get(b)} alerts`,
    );
  const [a, b] = builds.map((x) => median(later(x)));
  console.log(`B against A (medians): ${(((b - a) / a) * 100).toFixed(1)}%`);
  if (alerts.get(builds[0]) !== alerts.get(builds[1])) console.log("ab: the builds' alert counts differ");
}

if (process.argv[1]?.endsWith("ab.js"))
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
