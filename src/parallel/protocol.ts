/** Messages between the parallel reader and its workers (structured-clone safe: plain data only). */
import type { EventOrigin, InputIssue, ReadSummary, Timestamp } from "../events/index.js";

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
