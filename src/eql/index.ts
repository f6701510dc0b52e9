/**
 * EQL, Elasticsearch's dialect: compile a query once, then stream events through it.
 *
 * @example
 *   const q = compileEql('process where process.name : "cmd.exe"');
 *   q.matches?.(event)                       // true / false for an event query
 *   const run = q.start();                   // sequences and samples: feed events in time order
 *   for (const e of sorted) hits.push(...(run.push(e) ?? []));
 *   hits.push(...run.finish());
 */

import { compileField, compileFirstValue } from "../events/field-access.js";
import { parseTimestamp } from "../events/timestamp.js";
import type { EventRecord, JsonObject } from "../events/types.js";
import type { CompiledQuery, EventHit, QueryHit, QueryRun, SequenceHit } from "../query/index.js";
import type { Schema } from "../schema/index.js";
import { assertNever, type EqlQuery, type EventQuery, type Stage } from "./ast.js";
import {
  anyValue,
  type CompileContext,
  compareIndexed,
  ExpressionCompiler,
  indexedValues,
  type ResolvedField,
  resolveField,
} from "./compile.js";
import { compileKeys } from "./keys.js";
import { Limiter, type LimitStep } from "./limit.js";
import { lowercase } from "./normalizer.js";
import { parseEql } from "./parser.js";
import { SampleCollector } from "./sample.js";
import { type EventTime, SequenceMatcher, type StagePlan } from "./sequence.js";
import type { indexValue } from "./values.js";
import { verifyEql } from "./verifier.js";

export interface EqlOptions {
  /** Field types (a mapping layered over ECS, ...). */
  readonly schema?: Schema;
  /**
   * The schema lists every field of the data (a real index mapping): an optional `?field` it does not
   * know is the constant null, and unknown plain fields are rejected, as Elasticsearch does.
   */
  readonly completeSchema?: boolean;
  /** Default `@timestamp`. */
  readonly timestampField?: string;
  /** Orders events with equal timestamps (after it: input order). */
  readonly tiebreakerField?: string;
  /** Default `event.category`. */
  readonly categoryField?: string;
  /** Maximum number of results (Elasticsearch's `size`); default: all. */
  readonly size?: number;
  /** Samples per join key (Elasticsearch's `max_samples_per_key`); default 1. */
  readonly maxSamplesPerKey?: number;
  /** Which end `size` keeps: the first results (`head`, default) or the last (`tail`). */
  readonly resultPosition?: "head" | "tail";
  /** Cap on pending sequence/sample state (entries); default 1,000,000. */
  readonly maxPendingState?: number;
}

export interface CompiledEql extends CompiledQuery {
  readonly language: "eql";
  readonly query: EqlQuery;
}

export const DEFAULT_MAX_PENDING_STATE = 1_000_000;

/**
 * The event the `lastAnswer` predicates last saw, shared by all of them: one slot, so that hundreds of
 * sequence rules do not each keep a document alive (long enough to be promoted out of V8's young
 * generation) until their next event.
 */
const lastSeen: { event: EventRecord | undefined; epoch: number } = { event: undefined, epoch: 0 };

/**
 * A predicate that remembers its answer for the last event it was asked about (events are not changed
 * while a query runs, so the answer stands): one object asked twice in a row evaluates once. Another
 * event in between, asked of any such predicate, makes it evaluate again.
 */
function lastAnswer(test: (event: EventRecord) => boolean): (event: EventRecord) => boolean {
  let epoch = -1;
  let answer = false;
  return (event) => {
    if (event !== lastSeen.event) {
      lastSeen.event = event;
      lastSeen.epoch++;
    }
    if (epoch !== lastSeen.epoch) {
      answer = test(event);
      epoch = lastSeen.epoch;
    }
    return answer;
  };
}

/**
 * Parse, verify and compile an EQL query. Throws a QuarryError (with a Diagnostic) when the query is
 * not valid Elasticsearch EQL.
 *
 * @example compileEql("sequence by host.name [process where true] [file where true]").shape // "sequence"
 */
export function compileEql(text: string, options: EqlOptions = {}): CompiledEql {
  const query = parseEql(text);
  verifyEql(query, { schema: options.schema, strictFields: options.completeSchema ?? false, source: text });
  const context: CompileContext = {
    schema: options.schema,
    completeSchema: options.completeSchema ?? false,
    fields: new Set<string>(),
  };
  const compiler = new ExpressionCompiler(context);
  const categoryField = resolveField(options.categoryField ?? "event.category", context);
  const categoryOf = categoryReader(categoryField, categoriesOf(query));
  const eventFilter = (q: EventQuery): ((event: EventRecord) => boolean) => {
    const condition = compiler.predicate(q.condition);
    if (q.category === null) return (event) => condition(event.source);
    // Reject events of other categories first, with one read of the category field per event shared
    // by every stage of a sequence or sample.
    const bit = categoryOf.shared ? categoryOf.bit(q.category) : 0;
    if (bit !== 0) return (event) => (categoryOf.mask(event) & bit) !== 0 && condition(event.source);
    const isCategory = categoryOf.own(q.category);
    return (event) => isCategory(event.source) && condition(event.source);
  };
  const steps: LimitStep[] = query.pipes.map((p) => ({ from: p.kind, count: p.count }));
  if (options.size !== undefined) steps.push({ from: options.resultPosition ?? "head", count: options.size });
  const maxPendingState = options.maxPendingState ?? DEFAULT_MAX_PENDING_STATE;
  const body = query.body;
  const timestampField = options.timestampField ?? "@timestamp";

  switch (body.kind) {
    case "event": {
      const matches = eventFilter(body);
      return {
        language: "eql",
        query,
        shape: "event",
        needsTimeOrder: false,
        fields: [...context.fields],
        matches,
        start: () => eventRun(matches, steps),
      };
    }
    case "sequence": {
      const time = timeReader(timestampField);
      context.fields.add(timestampField);
      const stagePlan = (stage: Stage): StagePlan => ({
        matches: eventFilter(stage.query),
        keys: compileKeys([...body.by, ...stage.by], compiler, context, stage.span),
        missing: stage.missing,
      });
      const stages: StagePlan[] = [];
      let firstStage: ((event: EventRecord) => boolean) | undefined;
      for (const stage of body.stages) {
        let plan = stagePlan(stage);
        if (stages.length === 0 && !stage.missing) {
          firstStage = lastAnswer(plan.matches);
          plan = { ...plan, matches: firstStage };
        }
        for (let i = 0; i < stage.runs; i++) stages.push(plan);
      }
      const until = body.until ? stagePlan(body.until) : null;
      const plan = {
        stages,
        until,
        maxspan: body.maxspan ? body.maxspan.ms : null,
        time,
        maxPendingState,
        span: body.span,
      };
      return {
        language: "eql",
        query,
        shape: "sequence",
        needsTimeOrder: true,
        fields: [...context.fields],
        // Only events that match a stage (missing-event stages included) or `until` move a sequence.
        relevant: anyMatches([...new Set([...stages, ...(until ? [until] : [])])].map((p) => p.matches)),
        firstStage,
        start: () => sequenceRun(new SequenceMatcher(plan), steps),
      };
    }
    case "sample": {
      const stages = body.stages.map((stage) => ({
        matches: eventFilter(stage.query),
        keys: compileKeys([...body.by, ...stage.by], compiler, context, stage.span, "millis"),
      }));
      const sampleSteps: LimitStep[] = query.pipes.map((p) => ({ from: p.kind, count: p.count }));
      if (options.size !== undefined) sampleSteps.push({ from: "head", count: options.size });
      const plan = {
        stages,
        maxSamplesPerKey: options.maxSamplesPerKey ?? 1,
        maxPendingState,
        span: body.span,
      };
      return {
        language: "eql",
        query,
        shape: "sample",
        // Elasticsearch samples in index order; no timestamp is needed.
        needsTimeOrder: false,
        fields: [...context.fields],
        relevant: anyMatches(stages.map((stage) => stage.matches)),
        // Elasticsearch applies `size` to samples from the head whatever the result position.
        start: () => sampleRun(new SampleCollector(plan), sampleSteps),
      };
    }
    default:
      return assertNever(body);
  }
}

function anyMatches(filters: readonly ((event: EventRecord) => boolean)[]): (event: EventRecord) => boolean {
  return (event) => {
    for (let i = 0; i < filters.length; i++) if (filters[i](event)) return true;
    return false;
  };
}

function eventRun(matches: (event: EventRecord) => boolean, steps: readonly LimitStep[]): QueryRun {
  const limiter = new Limiter<QueryHit>(steps);
  return {
    push(event) {
      if (limiter.done || !matches(event)) return undefined;
      const hit: EventHit = { kind: "event", event };
      const out = limiter.push([hit]);
      return out.length > 0 ? out : undefined;
    },
    finish: () => limiter.finish(),
  };
}

function sequenceRun(matcher: SequenceMatcher, steps: readonly LimitStep[]): QueryRun {
  const limiter = new Limiter<QueryHit>(steps);
  return {
    push(event) {
      if (limiter.done) return undefined;
      const hits: SequenceHit[] = matcher.push(event);
      if (hits.length === 0) return undefined;
      const out = limiter.push(hits);
      return out.length > 0 ? out : undefined;
    },
    finish() {
      const out = limiter.done ? [] : limiter.push(matcher.finish());
      return [...out, ...limiter.finish()];
    },
  };
}

function sampleRun(collector: SampleCollector, steps: readonly LimitStep[]): QueryRun {
  const limiter = new Limiter<QueryHit>(steps);
  return {
    push(event) {
      collector.push(event);
      return undefined;
    },
    finish() {
      const out = limiter.push(collector.finish());
      return [...out, ...limiter.finish()];
    },
  };
}

function timeReader(field: string): (event: EventRecord) => EventTime | undefined {
  const first = compileFirstValue(field);
  return (event) => parseTimestamp(first(event.source));
}

/** Every category an event query, stage or `until` of the query names. */
function categoriesOf(query: EqlQuery): string[] {
  const body = query.body;
  switch (body.kind) {
    case "event":
      return body.category === null ? [] : [body.category];
    case "sequence":
    case "sample": {
      const stages = body.kind === "sequence" && body.until ? [...body.stages, body.until] : body.stages;
      return stages.flatMap((s) => (s.query.category === null ? [] : [s.query.category]));
    }
    default:
      return assertNever(body);
  }
}

/**
 * The categories of an event as a bit mask over the categories the query names (the first 31 distinct
 * ones; any further one is tested on its own). The last event's mask is remembered, so the stages of
 * a sequence or sample read the category field once per event.
 */
interface CategoryReader {
  /** More than one distinct category: stages share one read through `mask`. */
  readonly shared: boolean;
  /** The category's bit, or 0 when it has none. */
  bit(category: string): number;
  mask(event: EventRecord): number;
  /** A test of one category, for categories without a bit. */
  own(category: string): (doc: JsonObject) => boolean;
}

function categoryReader(field: ResolvedField, categories: readonly string[]): CategoryReader {
  const bits = new Map<string, number>();
  for (const c of categories) if (!bits.has(c) && bits.size < 31) bits.set(c, 1 << bits.size);
  // A few names: comparing strings beats hashing a fresh string for a Map lookup.
  // A normalized category field compares the query's categories normalized (a term query).
  const normalize = field.normalizer === "lowercase" ? lowercase : (c: string) => c;
  const names = [...bits.keys()].map(normalize);
  let mask = 0;
  const collect = (v: string): boolean => {
    for (let i = 0; i < names.length; i++) if (v === names[i]) mask |= 1 << i;
    return false;
  };
  const read = anyValue(field, (x) => x.kind === "keyword" && collect(x.v), collect);
  let lastEvent: EventRecord | undefined;
  let lastMask = 0;
  return {
    shared: names.length > 1,
    bit: (category) => bits.get(category) ?? 0,
    mask(event) {
      if (event === lastEvent) return lastMask;
      mask = 0;
      read(event.source);
      lastEvent = event;
      lastMask = mask;
      return mask;
    },
    own: (category) => {
      const wanted = normalize(category);
      return anyValue(
        field,
        (x) => x.kind === "keyword" && x.v === wanted,
        (v) => v === wanted,
      );
    },
  };
}

export interface EqlOrderOptions {
  readonly timestampField?: string;
  readonly tiebreakerField?: string;
  readonly schema?: Schema;
}

/**
 * The order sequences need: timestamp, then the tiebreaker (missing last), then input order (`seq`).
 * Events without a readable timestamp sort last.
 */
export function compareEventsForEql(
  options: EqlOrderOptions = {},
): (a: EventRecord, b: EventRecord) => number {
  const ts = compileField(options.timestampField ?? "@timestamp");
  const context: CompileContext = { schema: options.schema, completeSchema: false, fields: new Set() };
  const tiebreaker = options.tiebreakerField ? resolveField(options.tiebreakerField, context) : undefined;
  const tieValues = tiebreaker ? indexedValues(tiebreaker) : undefined;
  const cache = new WeakMap<EventRecord, { t?: bigint; tie?: ReturnType<typeof indexValue> }>();
  const key = (e: EventRecord) => {
    let k = cache.get(e);
    if (!k) {
      const v = ts(e.source);
      const t = parseTimestamp(v.length > 0 ? v[0] : undefined);
      k = {
        t: t ? BigInt(t.ms) * 1_000_000n + BigInt(t.nanos) : undefined,
        tie: tieValues ? tieValues(e.source)[0] : undefined,
      };
      cache.set(e, k);
    }
    return k;
  };
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    if (x.t !== y.t) {
      if (x.t === undefined) return 1;
      if (y.t === undefined) return -1;
      return x.t < y.t ? -1 : 1;
    }
    if (x.tie !== y.tie) {
      if (x.tie === undefined) return 1;
      if (y.tie === undefined) return -1;
      const c = compareIndexed(x.tie, y.tie);
      if (c !== 0) return c;
    }
    return a.seq - b.seq;
  };
}

export { KeyCode } from "./keys.js";
export type { LimitStep } from "./limit.js";
export {
  type KeywordNormalizer,
  keywordNormalizer,
  lowercase,
  lowercaseEquals,
} from "./normalizer.js";
