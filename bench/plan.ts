/** Which rows the bench runs, in order, with their targets (ratio to the parse-only baseline). */
import { join } from "node:path";
import { FILTER_QUERY as EQL_FILTER, SEQUENCE_QUERY } from "./eql.js";
import { FILTER_QUERY as KQL_FILTER } from "./kql.js";

export interface BenchStep {
  /** Unique name (BENCH_ROWS selects by it). */
  readonly name: string;
  /** Row function in bench/rows.ts. */
  readonly row: string;
  readonly label: string;
  readonly args?: Record<string, unknown>;
  /** Minimum ratios to the parse-only baseline (or to step `relativeTo`), with the issue that sets each. */
  readonly targets?: readonly { readonly issue: number; readonly min: number }[];
  readonly relativeTo?: string;
}

const DOMAIN_QUERY = 'network where dns.question.name : "raw.githubusercontent.com"';

export function benchPlan(repo: string): BenchStep[] {
  const corpus = join(repo, "..", "shared", "conformance", "detection-rules");
  return [
    { name: "raw-read", row: "raw-read", label: "raw read (1 MiB blocks)" },
    { name: "parse-only", row: "parse-only", label: "parse-only baseline (split + JSON.parse)" },
    // No target: what two threads that share nothing get from this machine, the bound of every 2-thread row.
    {
      name: "parse-only-t2",
      row: "parse-only-threads",
      label: "parse-only baseline, 2 threads (half the file each)",
      args: { threads: 2 },
    },
    { name: "reader", row: "reader", label: "quarry reader", targets: [{ issue: 2, min: 0.9 }] },
    // Engines alone: every line parsed (no prefilter), one thread.
    {
      name: "eql-filter",
      row: "eql-filter",
      label: "EQL filter, no prefilter",
      targets: [{ issue: 3, min: 0.9 }],
    },
    {
      name: "eql-sequence",
      row: "eql-sequence",
      label: "EQL 3-stage sequence, no prefilter",
      targets: [{ issue: 3, min: 0.75 }],
    },
    {
      name: "kql-filter",
      row: "kql-filter",
      label: "KQL filter, no prefilter",
      targets: [{ issue: 4, min: 0.9 }],
    },
    {
      name: "kql-hashes",
      row: "kql-hashes",
      label: "KQL 5,000-hash query, no prefilter",
      targets: [{ issue: 4, min: 0.85 }],
    },
    {
      name: "hunt-corpus-engine",
      row: "hunt-corpus",
      label: "hunt: detection-rules corpus",
      args: { rules: corpus },
      targets: [
        { issue: 5, min: 0.35 },
        { issue: 8, min: 0.5 },
      ],
    },
    {
      name: "hunt-corpus-t2",
      row: "hunt",
      label: "hunt: detection-rules corpus, 2 threads (rule shards)",
      args: { rules: corpus, threads: 2 },
      targets: [
        { issue: 5, min: 0.35 },
        { issue: 8, min: 0.5 },
      ],
    },
    // As `quarry query` / `quarry hunt` run by default: prefilters on.
    {
      name: "eql-filter-default",
      row: "query",
      label: "EQL filter (prefilter), 1 thread",
      args: { query: EQL_FILTER, threads: 1 },
      targets: [{ issue: 3, min: 0.9 }],
    },
    {
      name: "kql-filter-default",
      row: "query",
      label: "KQL filter (prefilter), 1 thread",
      args: { language: "kql", query: KQL_FILTER, threads: 1 },
      targets: [{ issue: 4, min: 0.9 }],
    },
    {
      name: "domain",
      row: "query",
      label: "EQL one domain `:` (prefilter), 1 thread",
      args: { query: DOMAIN_QUERY, threads: 1 },
      targets: [{ issue: 8, min: 8 }],
    },
    {
      name: "ioc-1000",
      row: "query",
      label: "EQL 1,000-domain sweep (prefilter), 1 thread",
      args: { iocSweep: true, threads: 1 },
      targets: [{ issue: 8, min: 3 }],
    },
    {
      name: "sequence",
      row: "query",
      label: "EQL 3-stage sequence (prefilter), 1 thread",
      args: { query: SEQUENCE_QUERY, threads: 1 },
      targets: [{ issue: 8, min: 4 }],
    },
    {
      name: "hunt-3cx",
      row: "hunt",
      label: "hunt: 3CX pack (prefilter), 1 thread",
      args: { threads: 1 },
      targets: [{ issue: 8, min: 2 }],
    },
    {
      name: "domain-t2",
      row: "query",
      label: "EQL one domain (prefilter), 2 threads",
      args: { query: DOMAIN_QUERY, threads: 2 },
      targets: [{ issue: 8, min: 1.7 }],
      relativeTo: "domain",
    },
    {
      name: "hunt-3cx-t2",
      row: "hunt",
      label: "hunt: 3CX pack (prefilter), 2 threads",
      args: { threads: 2 },
      targets: [{ issue: 8, min: 1.7 }],
      relativeTo: "hunt-3cx",
    },
  ];
}
