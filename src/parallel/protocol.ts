/** Messages between the parallel reader and its workers (structured-clone safe: plain data only). */
import type { Diagnostic } from "../diagnostics/index.js";
import type { EventOrigin, InputIssue, ReadSummary, Timestamp } from "../events/index.js";
import type { Alert } from "../rules/index.js";

/**
 * What a worker compiles to decide which events the main thread needs: the query itself, so that the
 * worker keeps exactly the events that can matter to it (event queries: the matches; sequences and samples:
 * events that match a stage, `until` or a missing-event filter).
 */
export type RelevanceSpec =
  | {
      readonly language: "eql";
      readonly text: string;
      readonly mappingText?: string;
      readonly timestampField?: string;
      readonly tiebreakerField?: string;
      readonly categoryField?: string;
    }
  | { readonly language: "kql"; readonly text: string; readonly mappingText?: string }
  | {
      /** A hunt: rule packs, files and IOC lists as `quarry hunt` loads them. Workers apply its prefilter. */
      readonly language: "hunt";
      readonly rules?: readonly string[];
      readonly iocs?: readonly string[];
      readonly exceptions?: readonly string[];
      readonly mappingText?: string;
      readonly timestampField?: string;
    };

/** The read options a worker applies to its ranges (the subset that can cross a thread boundary). */
export interface WorkerReadOptions {
  readonly maxLineBytes?: number;
  readonly timestampField?: string;
  readonly timestamps?: "ignore" | "check" | "require";
  readonly from?: Timestamp;
  readonly to?: Timestamp;
  readonly keepTimeBounds?: boolean;
  /** Derive and apply the query's literal prefilter. */
  readonly prefilter: boolean;
}

export interface WorkerSetup {
  readonly relevance: RelevanceSpec;
  readonly read: WorkerReadOptions;
}

export interface SegmentTask {
  readonly segment: number;
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

export interface SegmentResult {
  readonly segment: number;
  readonly summary: ReadSummary;
  /** Issues with line numbers relative to the segment's first line (1-based), at most ISSUES_PER_SEGMENT. */
  readonly issues: readonly InputIssue[];
  /** The relevant events, with segment-relative lines. */
  readonly events: readonly EventOrigin[];
  /** Set when the worker failed on this segment (an internal error: the run stops with it). */
  readonly error?: string;
}

export const ISSUES_PER_SEGMENT = 1000;

/** A single query (EQL or KQL) as plain data. */
export type QuerySpec = Exclude<RelevanceSpec, { readonly language: "hunt" }>;
/** A hunt's rule sources as plain data. */
export type HuntSpec = Extract<RelevanceSpec, { readonly language: "hunt" }>;

/** Hunt settings beyond the rule sources, as plain data (what `quarry hunt` passes to `Hunt`). */
export interface HuntSettings {
  readonly now?: Timestamp;
  readonly from?: Timestamp;
  readonly schedule?: boolean;
  readonly profile?: boolean;
  readonly forceExceptions?: boolean;
  /** `--max-state`: see HuntOptions.maxPendingState. */
  readonly maxPendingState?: number;
}

/** A rule-sharded hunt's worker: its shard of the rules, run over the whole input. */
export interface HuntShardSetup {
  readonly spec: HuntSpec;
  readonly settings: HuntSettings;
  /**
   * This worker's shard. Every report's shard comes after, in a HuntShardOwners message: the worker loads
   * the rule set while the main thread measures the rules to balance the shards.
   */
  readonly shard: number;
  readonly timeOrder: { readonly needsTimeOrder: boolean; readonly tiebreakerField: string | undefined };
  readonly inputs: readonly string[];
  readonly read: {
    readonly include?: readonly string[];
    readonly exclude?: readonly string[];
    readonly maxLineBytes?: number;
    readonly timestampField?: string;
    readonly from?: Timestamp;
    readonly to?: Timestamp;
  };
  /** This shard reports input issues and progress (every shard reads the same lines the same way). */
  readonly reportsInput: boolean;
}

/** Every report's shard (see HuntOptions.shard), sent to each shard worker once the shards are balanced. */
export interface HuntShardOwners {
  readonly owners: readonly number[];
}

/** What a shard's Hunt measured for one rule it ran (by its index in the hunt's reports). */
export interface ShardRuleStats {
  readonly report: number;
  readonly ruleId: string;
  readonly alerts: number;
  readonly ms: number;
  readonly truncated: number;
  readonly evaluated: number;
  /** Set when the rule stopped at one of its limits: the reason (see RuleReport.stopped). */
  readonly stopped?: string;
  /** RuleReport.skippedEvents and skipReason, when some were. */
  readonly skippedEvents?: number;
  readonly skipReason?: string;
  /** RuleReport.diagnostic of a stopped or skipping rule, as data (a QuarryError does not cross threads). */
  readonly diagnostic?: ShardDiagnostic;
}

/** A QuarryError's parts, rebuilt into one on the main thread. */
export interface ShardDiagnostic {
  readonly diagnostic: Diagnostic;
  readonly sourceText?: string;
  readonly origin?: string;
}

export type HuntShardMessage =
  | { readonly kind: "issue"; readonly issue: InputIssue }
  | { readonly kind: "progress"; readonly events: number; readonly bytes: number }
  | {
      readonly kind: "done";
      readonly alerts: readonly Alert[];
      readonly stats: readonly ShardRuleStats[];
      readonly reports: number;
      readonly now: Timestamp | undefined;
      readonly start: Timestamp | undefined;
      readonly summary: ReadSummary;
      readonly sorted: boolean;
    }
  | { readonly kind: "error"; readonly message: string };
