/**
 * How a hunt uses its threads. Two ways, chosen by what limits it:
 * - A hunt with a literal prefilter skips most lines unparsed: workers read byte ranges, prefilter and parse
 *   them, and the main thread runs every rule over the few events that come back (`huntReader`).
 * - A hunt without one (some rule needs every line) is bound by its rules, not by parsing: a large rule set
 *   (a whole detection-rules corpus) is split into shards, each worker reads the whole input and runs one
 *   shard with the full semantics of a single pass (sequences, thresholds, new terms, max_signals are
 *   per rule), and the alerts are merged in the order one pass would give them.
 */
import { type FileHandle, open } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { QuarryError } from "../diagnostics/index.js";
import {
  type EventRecord,
  expandInputs,
  type InputIssue,
  type LinePrefilter,
  type ReadOptions,
  readEvents,
} from "../events/index.js";
import { type Alert, compareAlerts, type Hunt, type HuntRun, runHunt } from "../rules/index.js";
import type {
  HuntSettings,
  HuntShardMessage,
  HuntShardOwners,
  HuntShardSetup,
  HuntSpec,
} from "./protocol.js";
import { huntReader } from "./reader.js";

/**
 * Rule sharding pays only when the rules cost more than parsing, since every shard parses every line: at
 * the detection-rules corpus's ~1,900 rules they cost ~4x a parse (docs/performance.md); a pack of a few
 * dozen rules costs a fraction of one.
 */
export const MIN_RULES_TO_SHARD = 200;

/**
 * With a default thread count on two cores or fewer, rule shards start only for inputs of at least this
 * many bytes (a gzip file counted at GZIP_EXPANSION times its size). Below it their start (the rules' costs
 * sampled here, then every worker compiling its shard, ~2 s for the corpus) and two shards sharing two
 * cores cost more than they save. Measured with the detection-rules corpus, one thread against two shards:
 * 300 MB 7.8-8.1 s / 9.8-10.4 s, 500 MB 11.2-12.0 s / 12.8-15.6 s, 1 GB 25.4-26.3 s / 18.7-22.3 s.
 */
export const ADAPTIVE_MIN_SHARD_BYTES = 768 * 1024 * 1024;
/** Up to this many threads, a default thread count weighs the input's size before sharding. */
const ADAPTIVE_MAX_SHARD_THREADS = 2;
/** How much larger than its gzip file an NDJSON export is, about (for ADAPTIVE_MIN_SHARD_BYTES only). */
const GZIP_EXPANSION = 8;

export interface HuntThreading {
  readonly threads: number;
  /** `threads` is the default (the core count), not asked for: see ParallelOptions.adaptive. */
  readonly adaptive?: boolean;
  /** The hunt's line prefilter, when it has one and it is on. */
  readonly prefilter: LinePrefilter | undefined;
  /** ADAPTIVE_MIN_SHARD_BYTES unless given (tests). */
  readonly minShardBytes?: number;
}

/**
 * Run a hunt over the inputs with up to `threads` threads: rule shards when the hunt has no prefilter and
 * runs at least MIN_RULES_TO_SHARD rules (and, with a default thread count on two cores or fewer, the
 * input holds at least ADAPTIVE_MIN_SHARD_BYTES), else the (possibly parallel) prefiltering reader.
 * `onEvents` reports progress (events read).
 */
export async function runHuntParallel(
  hunt: Hunt,
  spec: HuntSpec,
  settings: HuntSettings,
  inputs: readonly string[],
  readOptions: ReadOptions,
  threading: HuntThreading,
  onEvents?: (n: number) => void,
): Promise<HuntRun> {
  const ran = hunt.compiled.length;
  if (
    threading.threads >= 2 &&
    threading.prefilter === undefined &&
    ran >= MIN_RULES_TO_SHARD &&
    !inputs.includes("-") &&
    !(
      threading.adaptive &&
      threading.threads <= ADAPTIVE_MAX_SHARD_THREADS &&
      (await inputBytes(inputs, readOptions)) < (threading.minShardBytes ?? ADAPTIVE_MIN_SHARD_BYTES)
    )
  )
    return runHuntSharded(
      hunt,
      spec,
      settings,
      inputs,
      readOptions,
      Math.min(threading.threads, ran),
      onEvents,
    );
  const reader = huntReader(spec, threading.prefilter, {
    threads: threading.threads,
    inputs,
    adaptive: threading.adaptive,
  });
  return runHunt(
    hunt,
    inputs,
    readOptions,
    onEvents ? (batch: readonly EventRecord[]) => onEvents(batch.length) : undefined,
    reader,
  );
}

/**
 * The inputs' size in bytes as read: files as found by `expandInputs`, a gzip file at GZIP_EXPANSION times
 * its size. Paths that cannot be read count nothing (the read reports them).
 */
async function inputBytes(inputs: readonly string[], options: ReadOptions): Promise<number> {
  const { sources } = await expandInputs(inputs, { include: options.include, exclude: options.exclude });
  let total = 0;
  for (const source of sources) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(source.path, "r");
      const { size } = await handle.stat();
      const head = Buffer.alloc(2);
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      total += bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b ? size * GZIP_EXPANSION : size;
    } catch {
      // Unreadable: the read reports it.
    } finally {
      await handle?.close();
    }
  }
  return total;
}

/**
 * One worker per shard; `hunt` (compiled here with every rule) supplies the reports of rules that did not
 * run, the refusals and notes, and the time order every shard must follow. Shards load the same rule set
 * from the same sources: a rule at a different place (a file changed meanwhile) fails the run.
 */
export async function runHuntSharded(
  hunt: Hunt,
  spec: HuntSpec,
  settings: HuntSettings,
  inputs: readonly string[],
  readOptions: ReadOptions,
  shards: number,
  onEvents?: (n: number) => void,
): Promise<HuntRun> {
  const base = {
    spec,
    settings,
    timeOrder: { needsTimeOrder: hunt.needsTimeOrder, tiebreakerField: hunt.tiebreakerField },
    inputs,
    read: {
      include: readOptions.include,
      exclude: readOptions.exclude,
      maxLineBytes: readOptions.maxLineBytes,
      timestampField: readOptions.timestampField,
      from: readOptions.from,
      to: readOptions.to,
    },
  };
  const workers: Worker[] = [];
  const done = (index: number): Promise<Extract<HuntShardMessage, { kind: "done" }>> =>
    new Promise((resolve, reject) => {
      const setup: HuntShardSetup = { ...base, shard: index, reportsInput: index === 0 };
      const worker = new Worker(new URL("./hunt-worker.js", import.meta.url), { workerData: setup });
      workers.push(worker);
      let settled = false;
      worker.on("message", (message: HuntShardMessage) => {
        switch (message.kind) {
          case "issue":
            readOptions.onIssue?.(message.issue as InputIssue);
            break;
          case "progress":
            readOptions.onBytes?.(message.bytes);
            onEvents?.(message.events);
            break;
          case "done":
            settled = true;
            resolve(message);
            break;
          case "error":
            settled = true;
            reject(new Error(`hunt shard ${index + 1}/${shards} failed: ${message.message}`));
            break;
        }
      });
      worker.on("error", (error) => {
        settled = true;
        reject(error);
      });
      worker.on("exit", (code) => {
        if (!settled) reject(new Error(`hunt shard ${index + 1}/${shards} exited with code ${code}`));
      });
    });
  let results: Extract<HuntShardMessage, { kind: "done" }>[];
  try {
    // The workers start first: each loads the rule set (about a second for the detection-rules corpus)
    // while this thread measures the rules, and compiles its shard once the owners arrive.
    const finished = Array.from({ length: shards }, (_, i) => done(i));
    // A worker failing early must not leave its rejection unobserved while the rules are measured.
    for (const f of finished) f.catch(() => undefined);
    const owners = assignShards(hunt, await sampleRuleCosts(hunt, inputs, base.read), shards);
    const assignment: HuntShardOwners = { owners };
    for (const w of workers) w.postMessage(assignment);
    results = await Promise.all(finished);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const reports = hunt.reports;
  const alerts: Alert[] = [];
  for (const r of results) {
    if (r.reports !== reports.length)
      throw new Error("a hunt shard loaded a different rule set (did a rule file change during the run?)");
    for (const s of r.stats) {
      const report = reports[s.report];
      if (report.rule.ruleId !== s.ruleId)
        throw new Error(`a hunt shard loaded a different rule set: ${s.ruleId} is not ${report.rule.ruleId}`);
      report.alerts = s.alerts;
      report.ms = s.ms;
      report.truncated = s.truncated;
      report.evaluated = s.evaluated;
      if (s.stopped !== undefined) {
        report.stopped = true;
        report.reason = s.stopped;
      }
      if (s.skippedEvents !== undefined) {
        report.skippedEvents = s.skippedEvents;
        report.skipReason = s.skipReason;
      }
      if (s.diagnostic)
        report.diagnostic = new QuarryError(
          s.diagnostic.diagnostic,
          s.diagnostic.sourceText,
          s.diagnostic.origin,
        );
    }
    for (const a of r.alerts) alerts.push(a);
  }
  // One pass sorts its alerts by time, then rule id, stably; a rule's alerts all come from one shard, in
  // the order that shard's pass gave them, so the merged order is the one a single pass gives.
  alerts.sort(compareAlerts);
  const first = results[0];
  return {
    result: {
      alerts,
      rules: reports,
      refusals: hunt.refusals,
      now: first.now,
      start: first.start,
      notes: hunt.notes,
    },
    summary: first.summary,
    sorted: first.sorted,
  };
}

/** Events of the input's start that are run through every rule to measure what each costs. */
const COST_SAMPLE_EVENTS = 4096;

/**
 * What each compiled rule costs per event, measured on the input's first events with every rule timed
 * (a throwaway pass: nothing it finds is kept). Only balances the shards: a sample that cannot be read
 * or run leaves the costs it measured so far (zeros at worst: shards then split by rule count).
 */
async function sampleRuleCosts(
  hunt: Hunt,
  inputs: readonly string[],
  read: ReadOptions,
): Promise<Float64Array> {
  const pass = hunt.pass({ profile: true });
  let events = 0;
  try {
    for await (const batch of readEvents(inputs, read)) {
      pass.push(batch);
      events += batch.length;
      if (events >= COST_SAMPLE_EVENTS) break;
    }
    pass.flush();
  } catch {
    // Out-of-order or unreadable sample: keep what was measured.
  }
  return pass.ruleMs();
}

/**
 * Split the rules into `shards` of about equal measured cost, the largest first onto the least loaded
 * shard (LPT). Every rule also counts a small fixed cost, so rules the sample never reached spread evenly.
 * The IOC lists share one index, so they move as one unit. Returns each report's shard.
 */
export function assignShards(hunt: Hunt, costs: Float64Array, shards: number): number[] {
  const reportIndex = new Map(hunt.reports.map((r, i) => [r, i]));
  const owners = new Array<number>(hunt.reports.length).fill(0);
  const units: { reports: number[]; cost: number }[] = [];
  let iocs: { reports: number[]; cost: number } | undefined;
  const FIXED_MS = 1e-3;
  for (const c of hunt.compiled) {
    const i = reportIndex.get(c.report)!;
    if (c.rule.type === "ioc") {
      if (!iocs) units.push((iocs = { reports: [], cost: FIXED_MS }));
      iocs.reports.push(i);
      iocs.cost += costs[c.index];
    } else units.push({ reports: [i], cost: costs[c.index] + FIXED_MS });
  }
  // Stable: equal costs keep rule order, so the split is deterministic for a given sample.
  units.sort((a, b) => b.cost - a.cost);
  const load = new Float64Array(shards);
  for (const u of units) {
    let best = 0;
    for (let s = 1; s < shards; s++) if (load[s] < load[best]) best = s;
    load[best] += u.cost;
    for (const i of u.reports) owners[i] = best;
  }
  return owners;
}
