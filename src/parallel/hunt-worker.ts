/**
 * A rule-sharded hunt's worker: loads the hunt's rule set as `quarry hunt` does (while the main thread
 * balances the shards), compiles only its shard of the rules once told every rule's shard, reads the whole
 * input and sends back its alerts and per-rule measurements. Shard 0 also
 * streams the input's issues and progress (every shard reads the same lines the same way).
 */
import { parentPort, workerData } from "node:worker_threads";
import { runHunt } from "../rules/index.js";
import { huntFromRuleSet, ruleSetOf } from "./hunt-spec.js";
import type { HuntShardMessage, HuntShardOwners, HuntShardSetup, ShardRuleStats } from "./protocol.js";

const setup = workerData as HuntShardSetup;
// The assignment may come while the rule set loads: the port keeps it until this listener takes it.
const assigned = new Promise<HuntShardOwners>((resolve) => parentPort?.once("message", resolve));

/** Progress goes out at most this often (events), so messages stay a negligible cost. */
const PROGRESS_EVERY = 65_536;

function post(message: HuntShardMessage): void {
  parentPort?.postMessage(message);
}

async function main(): Promise<void> {
  const { spec, settings } = setup;
  const set = await ruleSetOf(spec);
  const { owners } = await assigned;
  const hunt = huntFromRuleSet(set, spec, {
    ...settings,
    shard: { index: setup.shard, owners },
    timeOrder: setup.timeOrder,
  });
  let events = 0;
  let bytes = 0;
  let reported = 0;
  const reports = setup.reportsInput;
  const run = await runHunt(
    hunt,
    setup.inputs,
    {
      ...setup.read,
      onIssue: reports ? (issue) => post({ kind: "issue", issue }) : undefined,
      onBytes: reports
        ? (n) => {
            bytes += n;
          }
        : undefined,
    },
    reports
      ? (batch) => {
          events += batch.length;
          if (events - reported >= PROGRESS_EVERY) {
            post({ kind: "progress", events: events - reported, bytes });
            reported = events;
            bytes = 0;
          }
        }
      : undefined,
  );
  if (reports && (events > reported || bytes > 0))
    post({ kind: "progress", events: events - reported, bytes });
  const stats: ShardRuleStats[] = [];
  for (const [i, r] of run.result.rules.entries()) {
    if (r.status !== "ran") continue;
    stats.push({
      report: i,
      ruleId: r.rule.ruleId,
      alerts: r.alerts,
      ms: r.ms,
      truncated: r.truncated,
      evaluated: r.evaluated,
      ...(r.stopped ? { stopped: r.reason } : {}),
      ...(r.skippedEvents ? { skippedEvents: r.skippedEvents, skipReason: r.skipReason } : {}),
      ...((r.stopped || r.skippedEvents) && r.diagnostic
        ? {
            diagnostic: {
              diagnostic: r.diagnostic.diagnostic,
              sourceText: r.diagnostic.sourceText,
              origin: r.diagnostic.origin,
            },
          }
        : {}),
    });
  }
  post({
    kind: "done",
    alerts: run.result.alerts,
    stats,
    reports: run.result.rules.length,
    now: run.result.now,
    start: run.result.start,
    summary: run.summary,
    sorted: run.sorted,
  });
}

main().catch((error: unknown) =>
  post({ kind: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
