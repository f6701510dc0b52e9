/** The bench rows: each reads the dataset once and reports events (and hits where it searches). */
import { compileEql } from "../src/eql/index.js";
import { readEvents, readInTimeOrder } from "../src/events/index.js";
import { compileKql } from "../src/kql/index.js";
import { type QuerySpec, readerFor, runHuntParallel } from "../src/parallel/index.js";
import type { CompiledQuery } from "../src/query/index.js";
import { Hunt, huntOptionsFor, loadRuleSet } from "../src/rules/index.js";
import { ecsSchema } from "../src/schema/index.js";
import { HitCounter } from "./counter.js";
import { eqlFilter, eqlSequence3 } from "./eql.js";
import { huntCorpus, huntPack3cx } from "./hunt.js";
import { kqlFilter, kqlHashSweep } from "./kql.js";
import { parseOnly, parseOnlyThreads, rawRead } from "./measure.js";
import { iocQuery } from "./prefilter.js";

export type Row = (file: string, args: Record<string, unknown>) => Promise<{ events: number; hits?: number }>;

async function reader(file: string): Promise<{ events: number }> {
  const stream = readEvents([file], { timestamps: "check" });
  let events = 0;
  for await (const batch of stream) events += batch.length;
  return { events };
}

/**
 * A query the way `quarry query` runs it (src/parallel readerFor: literal prefilter, worker threads):
 * args.language ("eql" | "kql"), args.query (or args.iocSweep for the 1,000-domain query), args.threads
 * (default 1), args.prefilter (default true). `events` is every event read (the workers' included), so
 * events/s compares with the parse-only baseline on the same dataset.
 */
async function query(file: string, args: Record<string, unknown>): Promise<{ events: number; hits: number }> {
  const language = args.language === "kql" ? "kql" : "eql";
  const text = args.iocSweep ? await iocQuery() : String(args.query);
  const spec: QuerySpec = { language, text };
  const compiled: CompiledQuery = language === "eql" ? compileEql(text) : compileKql(text);
  const read = readerFor(compiled, spec, {
    threads: typeof args.threads === "number" ? args.threads : 1,
    prefilter: args.prefilter !== false,
    inputs: [file],
  });
  const counter = new HitCounter(compiled.start());
  let events: number;
  if (compiled.needsTimeOrder) {
    const r = await readInTimeOrder([file], {}, {}, () => counter, read);
    events = r.summary.events + r.summary.prefiltered;
  } else {
    const stream = read([file], {});
    for await (const batch of stream) counter.push(batch);
    events = stream.summary.events + stream.summary.prefiltered;
  }
  return { events, hits: counter.finish().hits };
}

/**
 * A hunt the way `quarry hunt` runs it: the rule set's union prefilter (with the input's time span kept)
 * and worker threads when there is one; args.rules (default the 3CX pack), args.threads (default 1),
 * args.prefilter (default true).
 */
async function hunt(file: string, args: Record<string, unknown>): Promise<{ events: number; hits: number }> {
  const rules = typeof args.rules === "string" ? args.rules : "3cx";
  const set = await loadRuleSet({ rules: [rules] });
  if (set.missing.length > 0) throw new Error(set.missing.join("\n"));
  const h = new Hunt(huntOptionsFor(set, { schema: ecsSchema() }));
  const prefilter = args.prefilter === false ? undefined : h.linePrefilter();
  const threads = typeof args.threads === "number" ? args.threads : 1;
  const run = await runHuntParallel(
    h,
    { language: "hunt", rules: [rules] },
    {},
    [file],
    {},
    { threads, prefilter },
  );
  return { events: run.summary.events + run.summary.prefiltered, hits: run.result.alerts.length };
}

export const rows: Record<string, Row> = {
  "raw-read": rawRead,
  "parse-only": parseOnly,
  "parse-only-threads": parseOnlyThreads,
  reader,
  query,
  "eql-filter": eqlFilter,
  "eql-sequence": eqlSequence3,
  "kql-filter": kqlFilter,
  "kql-hashes": kqlHashSweep,
  "hunt-corpus": huntCorpus,
  "hunt-3cx-engine": huntPack3cx,
  hunt,
};
