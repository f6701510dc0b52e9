/**
 * The sequence state machine, Elasticsearch's (`SequenceMatcher`, `KeyToSequences`, the missing-event
 * checks of `TumblingWindow`) run over events already in time order.
 *
 * - Per join key and per stage there is at most one pending (partial) sequence. An event matching
 *   stage s takes the pending sequence of the previous positive stage for its key (Elasticsearch takes
 *   the latest one before the event and drops every older one), so a newer partial match replaces an
 *   older one.
 * - `maxspan`: a sequence whose event would fall more than `maxspan` after its first event is dropped.
 * - `until`: an until event for a key drops every pending sequence of that key.
 * - `runs=N` stages are expanded into N identical stages.
 * - Missing events `![...]`: a stage between two positive ones discards the sequence when a matching
 *   event (same key) lies strictly between them (millisecond resolution, as Elasticsearch's range
 *   query has); leading and trailing missing stages look for the nearest matching event before the
 *   first / after the last positive event and complete the sequence unless it lies within `maxspan`.
 *   A sequence with trailing missing stages is held until that is decided.
 * - Results come out ordered by their last event (then first event, then key), as Elasticsearch's
 *   completed set orders them.
 *
 * Memory: pending state is bounded by (keys × positive stages) partial sequences plus, for missing
 * stages, two timestamps per (key, missing stage) and the sequences awaiting a trailing check; with
 * `maxspan`, state older than the span is swept. `maxPendingState` caps the total (QuarryError EQL172).
 */
import { QuarryError, type Span } from "../diagnostics/index.js";
import { retainEvent } from "../events/index.js";
import type { EventRecord, JsonObject } from "../events/types.js";
import type { SequenceHit } from "../query/index.js";
import { compareIndexed } from "./compile.js";
import type { JoinKey } from "./keys.js";

export const SequenceCode = { stateLimit: "EQL172" } as const;

/**
 * An event's position in time: epoch milliseconds and the nanoseconds within that millisecond (0..999,999),
 * as `parseTimestamp` gives it. Two numbers, not one bigint of epoch nanoseconds: a bigint per event time
 * and per comparison was a heap allocation each, in the hottest loop of a sequence with frequent starts.
 */
export interface EventTime {
  readonly ms: number;
  readonly nanos: number;
}

/** Whether `later` lies more than `spanMs` milliseconds after `earlier` (exactly, to the nanosecond). */
function beyond(later: EventTime, earlier: EventTime, spanMs: number): boolean {
  const d = later.ms - earlier.ms;
  // |nanos difference| < 1 ms, so the milliseconds decide unless they are equal to the span.
  return d > spanMs || (d === spanMs && later.nanos > earlier.nanos);
}

/** Whether `a` is later than `b`. */
function later(a: EventTime, b: EventTime): boolean {
  return a.ms > b.ms || (a.ms === b.ms && a.nanos > b.nanos);
}

export interface StagePlan {
  /** The stage's filter (category and condition). Identical `runs` stages share one object. */
  readonly matches: (event: EventRecord) => boolean;
  readonly keys: (doc: JsonObject) => JoinKey[];
  readonly missing: boolean;
}

export interface SequencePlan {
  readonly stages: readonly StagePlan[];
  readonly until: Omit<StagePlan, "missing"> | null;
  /** `with maxspan`, in milliseconds (EQL durations are whole milliseconds). */
  readonly maxspan: number | null;
  readonly time: (event: EventRecord) => EventTime | undefined;
  /** Cap on pending sequences + missing-event trackers + held sequences. */
  readonly maxPendingState: number;
  readonly span: Span;
}

interface Pending {
  readonly key: JoinKey;
  /** The stage whose slot holds it while it is pending. */
  stage: number;
  readonly events: (EventRecord | null)[];
  readonly times: (EventTime | undefined)[];
  readonly start: EventTime;
  readonly startIndex: number;
  last: EventTime;
  /** A middle missing stage found an event: the sequence will not be reported. */
  doomed: boolean;
  /** The latest leading missing event before the start, if any. */
  lastLeading: EventTime | null;
}

interface KeyState {
  readonly groups: (Pending | undefined)[];
}

interface Tracker {
  latest: EventTime;
  /** The latest time with a smaller millisecond than `latest`. */
  previous: EventTime | undefined;
}

interface OutputEntry {
  readonly seq: Pending;
  status: "ready" | "waiting" | "dropped";
  /** For waiting entries: decided as complete once an event is later than this. */
  readonly deadline: EventTime | null;
}

const SWEEP_EVERY = 4096;
const EMPTY_DOC: JsonObject = {};

/** The empty result, shared (callers only read results). */
const NO_HITS: SequenceHit[] = [];

export class SequenceMatcher {
  private readonly stages: readonly StagePlan[];
  private readonly missing: readonly boolean[];
  private readonly firstPositive: number;
  private readonly lastPositive: number;
  private readonly hasMissing: boolean;
  private readonly uniqueOf: number[];
  private readonly uniquePlans: StagePlan[] = [];
  private readonly keys = new Map<string, KeyState>();
  private readonly trackers = new Map<number, Map<string, Tracker>>();
  private readonly output: OutputEntry[] = [];
  private readonly waiting = new Map<string, OutputEntry[]>();
  private waitingCount = 0;
  private pendingCount = 0;
  /**
   * With maxspan: every partial sequence started, in start order (events come in time order), from
   * `startsHead` on. A sequence is dropped as soon as a later start shows it can no longer complete, so
   * partial sequences (and the events they hold) die young in V8's heap instead of waiting for the
   * periodic sweep; entries already completed or replaced are skipped.
   */
  private readonly starts: (Pending | undefined)[] = [];
  private startsHead = 0;
  private trackerCount = 0;
  private index = 0;
  /** Per distinct stage plan: whether the current event matches it, and its join keys once read. */
  private readonly matched: boolean[];
  private readonly keyCache: (JoinKey[] | undefined)[];
  private doc: JsonObject = EMPTY_DOC;
  /** Set once the state cap was passed: every later push and finish throws it. */
  private failure: QuarryError | undefined;

  constructor(private readonly plan: SequencePlan) {
    this.stages = plan.stages;
    this.missing = plan.stages.map((s) => s.missing);
    this.firstPositive = this.missing.indexOf(false);
    this.lastPositive = this.missing.lastIndexOf(false);
    this.hasMissing = this.missing.some((m) => m);
    this.uniqueOf = plan.stages.map((stage) => {
      let i = this.uniquePlans.indexOf(stage);
      if (i < 0) i = this.uniquePlans.push(stage) - 1;
      return i;
    });
    this.matched = this.uniquePlans.map(() => false);
    this.keyCache = this.uniquePlans.map(() => undefined);
  }

  /**
   * Feed one event (in time order); returns the sequences decided so far, in result order. Throws
   * EQL172 once the state cap was passed (see `checkLimit`): from the event after the one that passed it.
   */
  push(event: EventRecord): SequenceHit[] {
    if (this.failure) throw this.failure;
    // Most events match no stage: they cost one filter call per distinct stage and nothing else (no
    // timestamp, no join key, no allocation) unless held sequences or the maxspan sweep need time.
    const plans = this.uniquePlans;
    const matched = this.matched;
    const keyCache = this.keyCache;
    let any = false;
    for (let u = 0; u < plans.length; u++) {
      const m = plans[u].matches(event);
      matched[u] = m;
      keyCache[u] = undefined;
      if (m) any = true;
    }
    const until = this.plan.until;
    const untilMatched = until?.matches(event) === true;
    const index = ++this.index;
    const sweepDue = this.plan.maxspan !== null && index % SWEEP_EVERY === 0;
    if (!any && !untilMatched && this.waitingCount === 0 && !sweepDue) return NO_HITS;
    const time = this.plan.time(event);
    if (time === undefined) return NO_HITS;
    const doc = event.source;
    this.doc = doc;
    // Every join key first: an event with too many combinations (EQL174) then changes no state, and a
    // caller may skip it and go on.
    let untilKeys: JoinKey[] | undefined;
    try {
      if (any) for (let u = 0; u < plans.length; u++) if (matched[u]) this.keysFor(u);
      if (untilMatched && until) untilKeys = until.keys(doc);
    } catch (error) {
      this.doc = EMPTY_DOC;
      for (let u = 0; u < keyCache.length; u++) keyCache[u] = undefined;
      throw error;
    }
    const completed: Pending[] = [];
    if (any) {
      // Later stages first, so an event matching two consecutive stages never pairs with itself.
      for (let s = this.stages.length - 1; s >= 0; s--) {
        if (this.missing[s]) continue;
        const u = this.uniqueOf[s];
        if (!matched[u]) continue;
        for (const key of this.keysFor(u)) {
          if (s === this.firstPositive) this.start(s, key, event, time, index, completed);
          else this.advance(s, key, event, time, completed);
        }
      }
      if (this.hasMissing) this.trackMissing(matched, time);
    }
    if (untilKeys) for (const key of untilKeys) this.dropKey(key.id);
    if (completed.length > 1) completed.sort(compareCompleted);
    for (const seq of completed) this.complete(seq);
    if (this.waitingCount > 0) this.expireWaiting(time);
    if (sweepDue) this.sweep(time);
    // Nothing of this event stays referenced from the matcher but what pending sequences hold.
    this.doc = EMPTY_DOC;
    for (let u = 0; u < keyCache.length; u++) keyCache[u] = undefined;
    this.checkLimit();
    return this.output.length === 0 ? NO_HITS : this.drain(false);
  }

  /** The join keys of the current event for a distinct stage plan, extracted once per event. */
  private keysFor(u: number): JoinKey[] {
    let k = this.keyCache[u];
    if (k === undefined) {
      k = this.uniquePlans[u].keys(this.doc);
      this.keyCache[u] = k;
    }
    return k;
  }

  /** End of input: every held sequence is decided (no trailing event came). */
  finish(): SequenceHit[] {
    if (this.failure) throw this.failure;
    for (const entry of this.output) if (entry.status === "waiting") entry.status = "ready";
    this.waiting.clear();
    this.waitingCount = 0;
    return this.drain(true);
  }

  private start(
    s: number,
    key: JoinKey,
    event: EventRecord,
    time: EventTime,
    index: number,
    completed: Pending[],
  ): void {
    const seq: Pending = {
      key,
      stage: s,
      events: this.stages.map(() => null),
      times: this.stages.map(() => undefined),
      start: time,
      startIndex: index,
      last: time,
      doomed: false,
      lastLeading: null,
    };
    seq.events[s] = s === this.lastPositive ? event : retainEvent(event);
    seq.times[s] = time;
    if (this.missing[0]) {
      for (let m = 0; m < s; m++) {
        const t = this.before(m, key.id, time.ms);
        if (t && (seq.lastLeading === null || later(t, seq.lastLeading))) seq.lastLeading = t;
      }
    }
    if (s === this.lastPositive) {
      completed.push(seq);
      return;
    }
    if (this.plan.maxspan !== null) {
      this.expire(time);
      this.starts.push(seq);
    }
    this.place(s, seq);
  }

  private advance(s: number, key: JoinKey, event: EventRecord, time: EventTime, completed: Pending[]): void {
    const state = this.keys.get(key.id);
    if (!state) return;
    let p = s - 1;
    while (p >= 0 && this.missing[p]) p--;
    const seq = state.groups[p];
    if (!seq) return;
    state.groups[p] = undefined;
    this.pendingCount--;
    if (this.plan.maxspan !== null && beyond(time, seq.start, this.plan.maxspan)) {
      this.cleanKey(key.id, state);
      return;
    }
    // Missing stages between p and s: a matching event strictly between (in milliseconds).
    const prevTime = seq.times[p] as EventTime;
    for (let m = p + 1; m < s; m++) {
      const t = this.before(m, key.id, time.ms);
      if (t && afterMs(t, prevTime.ms)) seq.doomed = true;
    }
    seq.events[s] = s === this.lastPositive ? event : retainEvent(event);
    seq.times[s] = time;
    seq.last = time;
    if (s === this.lastPositive) {
      completed.push(seq);
      this.cleanKey(key.id, state);
      return;
    }
    this.place(s, seq);
  }

  private place(s: number, seq: Pending): void {
    let state = this.keys.get(seq.key.id);
    if (!state) {
      state = { groups: this.stages.map(() => undefined) };
      this.keys.set(seq.key.id, state);
    }
    if (state.groups[s] === undefined) this.pendingCount++;
    state.groups[s] = seq;
    seq.stage = s;
  }

  /** Drop the partial sequences started more than maxspan before `time`: no later event can extend them. */
  private expire(time: EventTime): void {
    const span = this.plan.maxspan as number;
    const starts = this.starts;
    let head = this.startsHead;
    while (head < starts.length && beyond(time, (starts[head] as Pending).start, span)) {
      const seq = starts[head] as Pending;
      // The slot lets go at once: a dead sequence must not keep its events alive until compaction.
      starts[head++] = undefined;
      const state = this.keys.get(seq.key.id);
      if (state && state.groups[seq.stage] === seq) {
        state.groups[seq.stage] = undefined;
        this.pendingCount--;
        this.cleanKey(seq.key.id, state);
      }
    }
    if (head >= 1024 && head * 2 >= starts.length) {
      starts.splice(0, head);
      head = 0;
    }
    this.startsHead = head;
  }

  private cleanKey(id: string, state: KeyState): void {
    if (state.groups.every((g) => g === undefined)) this.keys.delete(id);
  }

  private dropKey(id: string): void {
    const state = this.keys.get(id);
    if (!state) return;
    for (const g of state.groups) if (g) this.pendingCount--;
    this.keys.delete(id);
  }

  /** The latest missing-stage event of this key with a millisecond before `ms`. */
  private before(stage: number, keyId: string, ms: number): EventTime | undefined {
    const t = this.trackers.get(stage)?.get(keyId);
    if (!t) return undefined;
    if (t.latest.ms < ms) return t.latest;
    return t.previous && t.previous.ms < ms ? t.previous : undefined;
  }

  private trackMissing(matched: readonly boolean[], time: EventTime): void {
    for (let m = 0; m < this.stages.length; m++) {
      if (!this.missing[m] || !matched[this.uniqueOf[m]]) continue;
      const trailing = m > this.lastPositive;
      for (const key of this.keysFor(this.uniqueOf[m])) {
        let byKey = this.trackers.get(m);
        if (!byKey) {
          byKey = new Map();
          this.trackers.set(m, byKey);
        }
        const t = byKey.get(key.id);
        if (!t) {
          byKey.set(key.id, { latest: time, previous: undefined });
          this.trackerCount++;
        } else if (time.ms > t.latest.ms) {
          t.previous = t.latest;
          t.latest = time;
        } else {
          t.latest = time;
        }
        if (trailing) this.trailingEvent(key.id, time);
      }
    }
  }

  private complete(seq: Pending): void {
    if (seq.doomed) return;
    if (!this.hasMissing) {
      this.output.push({ seq, status: "ready", deadline: null });
      return;
    }
    const leading = this.missing[0];
    const trailing = this.missing[this.stages.length - 1];
    if (!trailing) {
      const ok = seq.lastLeading === null || (leading && this.exceeds(seq.lastLeading, seq.last));
      if (ok) this.output.push({ seq, status: "ready", deadline: null });
      return;
    }
    if (leading && seq.lastLeading === null) {
      this.output.push({ seq, status: "ready", deadline: null });
      return;
    }
    const from = leading ? (seq.lastLeading as EventTime) : seq.start;
    const deadline =
      this.plan.maxspan === null ? null : { ms: from.ms + this.plan.maxspan, nanos: from.nanos };
    const entry: OutputEntry = { seq, status: "waiting", deadline };
    this.output.push(entry);
    let list = this.waiting.get(seq.key.id);
    if (!list) {
      list = [];
      this.waiting.set(seq.key.id, list);
    }
    list.push(entry);
    this.waitingCount++;
  }

  /** A trailing missing-stage event: decides the held sequences of its key that it follows. */
  private trailingEvent(keyId: string, time: EventTime): void {
    const list = this.waiting.get(keyId);
    if (!list) return;
    const rest: OutputEntry[] = [];
    for (const entry of list) {
      if (entry.status !== "waiting" || !afterMs(time, entry.seq.last.ms)) {
        if (entry.status === "waiting") rest.push(entry);
        continue;
      }
      const from = this.missing[0] ? (entry.seq.lastLeading as EventTime) : entry.seq.start;
      entry.status = this.exceeds(from, time) ? "ready" : "dropped";
      this.waitingCount--;
    }
    if (rest.length === 0) this.waiting.delete(keyId);
    else this.waiting.set(keyId, rest);
  }

  private expireWaiting(time: EventTime): void {
    for (const [id, list] of this.waiting) {
      const rest = list.filter((entry) => {
        if (entry.status !== "waiting") return false;
        if (entry.deadline !== null && later(time, entry.deadline)) {
          entry.status = "ready";
          this.waitingCount--;
          return false;
        }
        return true;
      });
      if (rest.length === 0) this.waiting.delete(id);
      else this.waiting.set(id, rest);
    }
  }

  private exceeds(from: EventTime, to: EventTime): boolean {
    return this.plan.maxspan !== null && this.plan.maxspan > 0 && beyond(to, from, this.plan.maxspan);
  }

  /** Drop state older than `maxspan`: it can no longer complete a sequence nor change a decision. */
  private sweep(time: EventTime): void {
    const span = this.plan.maxspan as number;
    this.expire(time);
    for (const [id, state] of this.keys) {
      for (let s = 0; s < state.groups.length; s++) {
        const g = state.groups[s];
        if (g && beyond(time, g.start, span)) {
          state.groups[s] = undefined;
          this.pendingCount--;
        }
      }
      this.cleanKey(id, state);
    }
    for (const byKey of this.trackers.values()) {
      for (const [id, t] of byKey) {
        // Older than the span plus a millisecond (missing events compare by millisecond).
        if (beyond(time, t.latest, span + 1)) {
          byKey.delete(id);
          this.trackerCount--;
        }
      }
    }
  }

  /**
   * Past the state cap the matcher fails (EQL172). The sequences the event that passed it completed are
   * decided, so they still go out with this event's result; the state is dropped at once, and the next
   * push (or finish) throws. Sequences held for a trailing missing stage cannot be decided any more: they
   * are dropped.
   */
  private checkLimit(): void {
    const total = this.pendingCount + this.trackerCount + this.waitingCount;
    if (total <= this.plan.maxPendingState) return;
    this.failure = new QuarryError({
      code: SequenceCode.stateLimit,
      severity: "error",
      title: `sequence state exceeded ${this.plan.maxPendingState} pending entries (${this.pendingCount} partial sequences, ${this.trackerCount} missing-event trackers, ${this.waitingCount} held sequences)`,
      labels: [{ span: this.plan.span, text: "this sequence", primary: true }],
      help: "add `with maxspan=...` (state older than the span is dropped), use more selective stages or `by` keys, or raise the limit (--max-state)",
    });
    for (const entry of this.output) if (entry.status === "waiting") entry.status = "dropped";
    this.waiting.clear();
    this.keys.clear();
    this.trackers.clear();
    this.starts.length = 0;
    this.startsHead = 0;
    this.pendingCount = 0;
    this.trackerCount = 0;
    this.waitingCount = 0;
  }

  private drain(all: boolean): SequenceHit[] {
    const hits: SequenceHit[] = [];
    let i = 0;
    for (; i < this.output.length; i++) {
      const entry = this.output[i];
      if (entry.status === "waiting" && !all) break;
      if (entry.status === "dropped") continue;
      hits.push({ kind: "sequence", joinKeys: entry.seq.key.values, events: entry.seq.events });
    }
    this.output.splice(0, i);
    return hits;
  }
}

/** `t` is after millisecond `ms` as Elasticsearch's `range: {gt: ms}` sees it (sub-millisecond counts). */
function afterMs(t: EventTime, ms: number): boolean {
  return t.ms > ms || (t.ms === ms && t.nanos !== 0);
}

function compareCompleted(a: Pending, b: Pending): number {
  if (a.startIndex !== b.startIndex) return a.startIndex - b.startIndex;
  const n = Math.min(a.key.indexed.length, b.key.indexed.length);
  for (let i = 0; i < n; i++) {
    const x = a.key.indexed[i];
    const y = b.key.indexed[i];
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    const c = compareIndexed(x, y);
    if (c !== 0) return c;
  }
  return 0;
}
