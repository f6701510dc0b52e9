/**
 * The seam between query languages (EQL, KQL, later others) and everything that consumes their results
 * (the `query` command, rules and alerts, store backends). A language compiles its text once into a
 * `CompiledQuery`; a consumer starts a run and pushes events through it.
 */
import type { EventRecord, JsonValue } from "../events/types.js";

export interface EventHit {
  readonly kind: "event";
  readonly event: EventRecord;
}

/** A sequence or sample hit. A `null` member is a missing (`![...]`) event. */
export interface SequenceHit {
  readonly kind: "sequence";
  readonly joinKeys: readonly JsonValue[];
  readonly events: readonly (EventRecord | null)[];
}

export type QueryHit = EventHit | SequenceHit;

export interface QueryRun {
  /**
   * Feed one event. Events must arrive in time order (timestamp, then tiebreaker, then input order) when
   * the query's `needsTimeOrder` is true, and may arrive in any order otherwise. Returns the hits this event
   * completed, if any. Pipes (`head`, `tail`) are applied by the run.
   */
  push(event: EventRecord): readonly QueryHit[] | undefined;
  /** End of input: returns the hits that could only be decided now (e.g. `tail`, samples). */
  finish(): readonly QueryHit[];
}

export interface CompiledQuery {
  readonly language: "eql" | "kql";
  readonly shape: "event" | "sequence" | "sample";
  readonly needsTimeOrder: boolean;
  /** Every field path the query reads (for lint, prefilters and lazy decoding). */
  readonly fields: readonly string[];
  /** For `shape: "event"` queries: the predicate alone, without pipes. */
  readonly matches?: (event: EventRecord) => boolean;
  /**
   * A conservative test of whether an event can matter to the query at all (for sequences and samples:
   * it matches some stage, `until` or missing-event filter). Parallel readers drop the others in workers.
   * Absent: every event may matter (event queries use `matches`).
   */
  readonly relevant?: (event: EventRecord) => boolean;
  /**
   * For sequences whose first stage is a positive one: that stage's predicate, the very one the query's
   * runs evaluate, remembering its answer for the last event it saw. A caller that gates events on it
   * (a hunt only feeds a sequence what can start or extend one) then costs the run no second evaluation.
   */
  readonly firstStage?: (event: EventRecord) => boolean;
  start(): QueryRun;
}
