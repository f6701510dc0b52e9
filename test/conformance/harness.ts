/**
 * The contract between the conformance runner and its suites. A suite module in `suites/` exports
 * `run(shared)`, reads the upstream vectors from the shared folder at run time (never from the project),
 * and returns one report per named suite (`eql/es/test_queries@endgame-140`, `kql/kibana`, ...).
 */
export type CaseStatus = "passed" | "failed" | "skipped";

export interface CaseResult {
  readonly name: string;
  readonly status: CaseStatus;
  /** Why it failed (the difference) or why it was skipped. */
  readonly reason?: string;
}

export interface SuiteReport {
  readonly suite: string;
  readonly cases: readonly CaseResult[];
}

export type SuiteModule = {
  run(shared: string): Promise<readonly SuiteReport[]>;
};
