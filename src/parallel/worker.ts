/**
 * A parallel-reader worker: compiles the query once, then for each segment (a byte range of an NDJSON
 * file) reads, prefilters, parses and tests every event, and sends back only the relevant ones (as their
 * raw text: re-parsing a few lines on the main thread is cheaper than cloning parsed objects).
 */
import { parentPort, workerData } from "node:worker_threads";
import { type EventOrigin, eventOrigin, type InputIssue, readSources } from "../events/index.js";
import type { SegmentResult, SegmentTask, WorkerSetup } from "./protocol.js";
import { ISSUES_PER_SEGMENT } from "./protocol.js";

const setup = workerData as WorkerSetup;
// Messages that arrive while a hunt's rules load wait in the port's queue. A query's worker loads only
// the query engines: the rules engine added 20-50 ms to a start of ~250 ms.
const { relevant, prefilter } =
  setup.relevance.language === "hunt"
    ? await (await import("./hunt-spec.js")).compileHuntRelevance(setup.relevance, setup.read.prefilter)
    : (await import("./relevance.js")).compileRelevance(setup.relevance, setup.read.prefilter);

parentPort?.on("message", (task: SegmentTask) => {
  runSegment(task).then(
    (result) => parentPort?.postMessage(result),
    (error: unknown) =>
      parentPort?.postMessage({
        segment: task.segment,
        summary: undefined,
        issues: [],
        events: [],
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  );
});

async function runSegment(task: SegmentTask): Promise<SegmentResult> {
  const issues: InputIssue[] = [];
  const events: EventOrigin[] = [];
  const stream = readSources([{ path: task.path, range: { start: task.start, end: task.end } }], {
    maxLineBytes: setup.read.maxLineBytes,
    timestampField: setup.read.timestampField,
    timestamps: setup.read.timestamps,
    from: setup.read.from,
    to: setup.read.to,
    keepTimeBounds: setup.read.keepTimeBounds,
    prefilter,
    batchSize: 64,
    onIssue: (issue) => {
      if (issues.length < ISSUES_PER_SEGMENT) issues.push(issue);
    },
  });
  for await (const batch of stream) {
    for (const event of batch) if (relevant(event)) events.push(eventOrigin(event));
  }
  return { segment: task.segment, summary: stream.summary, issues, events };
}
