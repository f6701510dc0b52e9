/**
 * `sample by k [q1] [q2] ...` as Elasticsearch computes it (`SampleIterator`): events are grouped by
 * join key, keys come out in ascending key order (a composite aggregation over the key fields, a
 * missing optional key first), and for each key present in every stage:
 * - each stage contributes its first `stages + max_samples_per_key - 1` matching events in input
 *   order (Elasticsearch's unsorted per-key search with that size);
 * - samples are picked by backtracking, one distinct event per stage in stage order, up to
 *   `max_samples_per_key` samples per key (default 1).
 * Events need no timestamp and are not time-ordered; input order is the index order.
 *
 * Memory: per key, at most `stages × (stages + max_samples_per_key - 1)` event references; the number of
 * keys is capped by `maxPendingState` (QuarryError EQL172).
 */
import { QuarryError, type Span } from "../diagnostics/index.js";
import type { EventRecord } from "../events/types.js";
import type { SequenceHit } from "../query/index.js";
import { compareIndexed } from "./compile.js";
import type { JoinKey } from "./keys.js";
import { SequenceCode, type StagePlan } from "./sequence.js";

export interface SamplePlan {
  readonly stages: readonly Omit<StagePlan, "missing">[];
  readonly maxSamplesPerKey: number;
  readonly maxPendingState: number;
  readonly span: Span;
}

interface Bucket {
  readonly key: JoinKey;
  readonly perStage: EventRecord[][];
}

export class SampleCollector {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perStageLimit: number;

  constructor(private readonly plan: SamplePlan) {
    this.perStageLimit = plan.stages.length + plan.maxSamplesPerKey - 1;
  }

  push(event: EventRecord): void {
    const stages = this.plan.stages;
    // Every stage's join keys first: an event with too many combinations (EQL174) then changes no state,
    // and a caller may skip it and go on.
    let keys: (JoinKey[] | undefined)[] | undefined;
    for (let s = 0; s < stages.length; s++)
      if (stages[s].matches(event)) (keys ??= new Array(stages.length))[s] = stages[s].keys(event.source);
    if (!keys) return;
    for (let s = 0; s < stages.length; s++) {
      const stageKeys = keys[s];
      if (!stageKeys) continue;
      for (const key of stageKeys) {
        let bucket = this.buckets.get(key.id);
        if (!bucket) {
          if (this.buckets.size >= this.plan.maxPendingState) this.tooMany();
          bucket = { key, perStage: stages.map(() => []) };
          this.buckets.set(key.id, bucket);
        }
        const list = bucket.perStage[s];
        if (list.length < this.perStageLimit) list.push(event);
      }
    }
  }

  /** Every sample, in Elasticsearch's order. */
  finish(): SequenceHit[] {
    const complete = [...this.buckets.values()].filter((b) => b.perStage.every((l) => l.length > 0));
    complete.sort((a, b) => compareKeys(a.key, b.key));
    const hits: SequenceHit[] = [];
    for (const bucket of complete) {
      for (const events of pickSamples(bucket.perStage, this.plan.maxSamplesPerKey)) {
        hits.push({ kind: "sequence", joinKeys: bucket.key.values, events });
      }
    }
    this.buckets.clear();
    return hits;
  }

  private tooMany(): never {
    throw new QuarryError({
      code: SequenceCode.stateLimit,
      severity: "error",
      title: `sample state exceeded ${this.plan.maxPendingState} join keys`,
      labels: [{ span: this.plan.span, text: "this sample", primary: true }],
      help: "use more selective stages or `by` keys, or raise the limit (--max-state)",
    });
  }
}

function compareKeys(a: JoinKey, b: JoinKey): number {
  for (let i = 0; i < a.indexed.length; i++) {
    const x = a.indexed[i];
    const y = b.indexed[i];
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    const c = compareIndexed(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

/** Distinct events, one per stage in stage order, by backtracking; at most `max` combinations. */
export function pickSamples(perStage: readonly (readonly EventRecord[])[], max: number): EventRecord[][] {
  const out: EventRecord[][] = [];
  const partial: EventRecord[] = [];
  const walk = (stage: number): boolean => {
    for (const event of perStage[stage]) {
      if (partial.includes(event)) continue;
      partial.push(event);
      if (stage === perStage.length - 1) {
        out.push([...partial]);
        if (out.length >= max) return true;
      } else if (walk(stage + 1)) return true;
      partial.pop();
    }
    return false;
  };
  if (max > 0) walk(0);
  return out;
}
