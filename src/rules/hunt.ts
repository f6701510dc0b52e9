/**
 * What `quarry hunt` (and `rules test`) loads and how it reads: packs, rule files, IOC lists and exception
 * files gathered into one set; then one pass over the events (in time order only when a loaded rule
 * needs it: EQL sequences).
 */
import type { EventRecord, EventStream, ReadOptions, ReadSummary } from "../events/index.js";
import { makeKeyer, readEvents, readInTimeOrder } from "../events/index.js";
import type { HuntOptions, HuntPass, HuntResult } from "./engine.js";
import { Hunt } from "./engine.js";
import { type ExceptionList, type ExceptionLoadIssue, loadExceptionFile } from "./exceptions.js";
import {
  defaultIocSpec,
  listBundledPacks,
  loadIocList,
  loadPack,
  type Pack,
  type PackIocList,
  PackNotFoundError,
} from "./pack.js";
import type { DetectionRule, RuleLoadError } from "./types.js";

export interface RuleSetRequest {
  /** `--rules` values: bundled pack names, paths, or `none`. Undefined: every bundled pack. */
  readonly rules?: readonly string[];
  readonly iocs?: readonly string[];
  readonly exceptions?: readonly string[];
}

export interface RuleSet {
  readonly packs: readonly Pack[];
  readonly rules: readonly DetectionRule[];
  readonly iocs: readonly PackIocList[];
  readonly exceptions: readonly ExceptionList[];
  readonly protectedRules: ReadonlyMap<string, string>;
  readonly errors: readonly RuleLoadError[];
  readonly exceptionErrors: readonly ExceptionLoadIssue[];
  /** `--rules` values that named nothing (usage errors). */
  readonly missing: readonly string[];
  /** Rule files read. */
  readonly files: number;
}

/** Gather everything a hunt runs. Never throws for bad content: see `errors`, `missing`. */
export async function loadRuleSet(request: RuleSetRequest): Promise<RuleSet> {
  const names = request.rules ?? listBundledPacks();
  const packs: Pack[] = [];
  const missing: string[] = [];
  for (const name of names) {
    if (name === "none") continue;
    try {
      packs.push(await loadPack(name));
    } catch (error) {
      if (error instanceof PackNotFoundError) missing.push(error.message);
      else throw error;
    }
  }
  const errors: RuleLoadError[] = packs.flatMap((p) => p.errors);
  const rules: DetectionRule[] = [];
  const iocs: PackIocList[] = [];
  const ids = new Map<string, string>();
  const claim = (id: string, file: string, explicit: boolean): boolean => {
    const previous = ids.get(id);
    if (previous !== undefined) {
      if (previous !== file)
        errors.push({
          code: "RULE203",
          file,
          message: `rule_id ${id} is already used by ${previous}; this copy is skipped`,
          explicit,
        });
      return false;
    }
    ids.set(id, file);
    return true;
  };
  for (const pack of packs) {
    for (const rule of pack.rules) if (claim(rule.ruleId, rule.origin.file, false)) rules.push(rule);
    for (const ioc of pack.iocs) if (claim(ioc.rule.ruleId, ioc.spec.file, false)) iocs.push(ioc);
  }
  for (const file of request.iocs ?? []) {
    const loaded = await loadIocList(defaultIocSpec(file));
    errors.push(...loaded.errors);
    if (loaded.ioc && claim(loaded.ioc.rule.ruleId, loaded.ioc.spec.file, true)) iocs.push(loaded.ioc);
  }
  const exceptions: ExceptionList[] = [];
  const exceptionErrors: ExceptionLoadIssue[] = [];
  for (const file of request.exceptions ?? []) {
    const r = loadExceptionFile(file);
    exceptions.push(...r.lists);
    exceptionErrors.push(...r.errors);
  }
  const protectedRules = new Map<string, string>();
  for (const pack of packs) for (const [id, reason] of pack.protectedRules) protectedRules.set(id, reason);
  return {
    packs,
    rules,
    iocs,
    exceptions,
    protectedRules,
    errors,
    exceptionErrors,
    missing,
    files: packs.reduce((n, p) => n + p.files, 0),
  };
}

export function huntOptionsFor(
  set: RuleSet,
  rest: Omit<HuntOptions, "rules" | "iocs" | "exceptions" | "protectedRules">,
): HuntOptions {
  return {
    ...rest,
    rules: set.rules,
    iocs: set.iocs.map((i) => ({ rule: i.rule, list: i.list })),
    exceptions: set.exceptions,
    protectedRules: set.protectedRules,
  };
}

export interface HuntRun {
  readonly result: HuntResult;
  readonly summary: ReadSummary;
  /** True when the input was out of time order and was sorted (time-ordered rules only). */
  readonly sorted: boolean;
}

/** Read the inputs once and run the hunt. `onBatch` sees every batch (progress). */
export async function runHunt(
  hunt: Hunt,
  inputs: readonly string[],
  readOptions: ReadOptions,
  onBatch?: (batch: readonly EventRecord[]) => void,
  reader: (inputs: readonly string[], options: ReadOptions) => EventStream = readEvents,
): Promise<HuntRun> {
  // Lines a prefilter skipped never reached the pass; the reader kept their times (keepTimeBounds).
  const bounded = (pass: HuntPass, summary: ReadSummary): HuntResult => {
    if (summary.prefiltered > 0) pass.includeTimeBounds(summary.minTime, summary.maxTime);
    return pass.finish();
  };
  if (hunt.needsTimeOrder) {
    // The ordered read keeps only events with a readable timestamp. The others are not lost: they go
    // straight to the pass being fed, which shows them to every rule that does not need time order.
    let current: HuntPass | undefined;
    const keyer = makeKeyer({ timestampField: hunt.timestampField, tiebreakerField: hunt.tiebreakerField });
    const read = (ins: readonly string[], options: ReadOptions): EventStream => {
      const inner = reader(ins, { ...options, timestamps: "check" });
      return {
        summary: inner.summary,
        async *[Symbol.asyncIterator]() {
          for await (const batch of inner) {
            const timed: EventRecord[] = [];
            const untimed: EventRecord[] = [];
            for (const event of batch) (keyer(event) ? timed : untimed).push(event);
            if (untimed.length > 0 && current) {
              current.push(untimed);
              onBatch?.(untimed);
            }
            if (timed.length > 0) yield timed;
          }
        },
      };
    };
    const r = await readInTimeOrder(
      inputs,
      readOptions,
      { timestampField: hunt.timestampField, tiebreakerField: hunt.tiebreakerField },
      () => {
        const pass = hunt.pass();
        current = pass;
        return {
          pass,
          push(batch: readonly EventRecord[]) {
            pass.push(batch);
            onBatch?.(batch);
          },
        };
      },
      read,
    );
    return { result: bounded(r.consumer.pass, r.summary), summary: r.summary, sorted: r.sorted };
  }
  const pass = hunt.pass();
  const stream = reader(inputs, readOptions);
  for await (const batch of stream) {
    pass.push(batch);
    onBatch?.(batch);
  }
  return { result: bounded(pass, stream.summary), summary: stream.summary, sorted: false };
}

export { Hunt };
