/**
 * Hunt bench rows, through the same public path `quarry hunt` takes (loadRuleSet -> huntOptionsFor ->
 * Hunt -> runHunt over readEvents):
 * - `huntCorpus`: every rule of Elastic's detection-rules corpus (args.rules, default the shared copy).
 * - `huntPack3cx`: the bundled 3CX pack (`--rules 3cx`), its IOC lists included.
 *
 * Run directly (`node dist/bench/hunt.js ratio [file] [lines] [rules]`) it measures the hunt's events/s as
 * a fraction of the parse-only baseline inside one process: the first `lines` lines are read into memory
 * once, then `JSON.parse` of every line and a hunt pass over the same lines alternate, best of three each
 * (the machine is shared, so only in-process ratios mean anything).
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { EventRecord, JsonObject } from "../src/events/index.js";
import { Hunt, huntOptionsFor, loadRuleSet, runHunt } from "../src/rules/index.js";
import { ecsSchema } from "../src/schema/index.js";

export const DEFAULT_CORPUS = "/work/shared/conformance/detection-rules";

async function hunt(file: string, rules: string): Promise<{ events: number; hits: number }> {
  const set = await loadRuleSet({ rules: [rules] });
  if (set.missing.length > 0) throw new Error(set.missing.join("\n"));
  const h = new Hunt(huntOptionsFor(set, { schema: ecsSchema() }));
  const run = await runHunt(h, [file], {});
  return { events: run.summary.events, hits: run.result.alerts.length };
}

/** Every rule of the detection-rules corpus in one pass; `hits` is the number of alerts. */
export async function huntCorpus(
  file: string,
  args: Record<string, unknown>,
): Promise<{ events: number; hits: number }> {
  return hunt(file, typeof args.rules === "string" ? args.rules : DEFAULT_CORPUS);
}

/** The bundled 3CX pack (rules and IOC lists) in one pass. */
export async function huntPack3cx(file: string): Promise<{ events: number; hits: number }> {
  return hunt(file, "3cx");
}

/** The first `max` non-empty lines of a file, read once into memory (in-process measurements). */
export async function readLines(file: string, max: number): Promise<string[]> {
  const lines: string[] = [];
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    if (line.length === 0) continue;
    lines.push(line);
    if (lines.length >= max) break;
  }
  rl.close();
  return lines;
}

/** What a pass over lines in memory needs of a hunt (structural: `ab.ts` passes builds loaded from elsewhere). */
export interface PassMaker {
  pass(): {
    push(batch: readonly EventRecord[]): void;
    finish(): { readonly alerts: readonly unknown[] };
  };
}

/**
 * One hunt pass over lines in memory, `JSON.parse` included, fed in batches of `batchSize` events as the
 * reader would; returns the alert count.
 */
export function passOverLines(
  hunt: PassMaker,
  lines: readonly string[],
  file: string,
  batchSize: number,
): number {
  const pass = hunt.pass();
  let batch: EventRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    batch.push({
      source: JSON.parse(raw) as JsonObject,
      raw,
      index: file,
      id: String(i + 1),
      provenance: { file, line: i + 1 },
      seq: i,
    });
    if (batch.length === batchSize) {
      pass.push(batch);
      batch = [];
    }
  }
  pass.push(batch);
  return pass.finish().alerts.length;
}

/** In-process ratio: hunt events/s over parse-only events/s, on the same lines in memory. */
async function ratio(file: string, max: number, rules: string, profile: boolean): Promise<void> {
  const lines = await readLines(file, max);
  const set = await loadRuleSet({ rules: [rules] });
  const t0 = performance.now();
  // HUNT_LITERALS=0 turns the literal pre-checks off (to compare with and without them).
  const literalChecks = process.env.HUNT_LITERALS !== "0";
  const h = new Hunt(huntOptionsFor(set, { schema: ecsSchema(), profile, literalChecks }));
  const compileMs = performance.now() - t0;
  const ran = h.reports.filter((r) => r.status === "ran").length;
  let bestParse = Number.POSITIVE_INFINITY;
  let bestHunt = Number.POSITIVE_INFINITY;
  let alerts = 0;
  for (let round = 0; round < 3; round++) {
    let s = performance.now();
    let sink = 0;
    for (const line of lines) if (JSON.parse(line)) sink++;
    bestParse = Math.min(bestParse, performance.now() - s);
    if (sink < 0) console.log(sink);
    s = performance.now();
    alerts = passOverLines(h, lines, file, 1024);
    bestHunt = Math.min(bestHunt, performance.now() - s);
  }
  const perEvent = (ms: number) => ((ms * 1000) / lines.length).toFixed(2);
  console.log(
    JSON.stringify({
      lines: lines.length,
      rulesRan: ran,
      compileMs: Math.round(compileMs),
      parseUsPerEvent: perEvent(bestParse),
      huntUsPerEvent: perEvent(bestHunt),
      ratio: +(bestParse / bestHunt).toFixed(3),
      alerts,
    }),
  );
  if (profile) {
    const top = [...h.reports].sort((a, b) => b.ms - a.ms).slice(0, 25);
    for (const r of top)
      console.log(`${r.ms.toFixed(1).padStart(9)} ms ${String(r.evaluated).padStart(8)} ev  ${r.rule.name}`);
  }
}

if (process.argv[1]?.endsWith("hunt.js") && process.argv[2] === "ratio") {
  const [, , , file, max, rules] = process.argv;
  ratio(
    file ?? "/work/main/.bench-cache/sim-2147483648.ndjson",
    Number(max ?? 200_000),
    rules ?? DEFAULT_CORPUS,
    process.env.HUNT_PROFILE === "1",
  ).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
