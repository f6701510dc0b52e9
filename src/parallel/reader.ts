/**
 * Parallel reading: large plain NDJSON files are cut into byte-range segments that worker threads read,
 * prefilter, parse and test against the query; only the events that can matter to the query come back
 * (as raw text, re-parsed here), in input order, with their true line numbers. Everything else (gzip,
 * stdin, JSON documents, small files) is read on this thread as `readEvents` would.
 *
 * The result is the same EventStream contract as `readEvents`, minus the events the query cannot need:
 * summary counts (events, skipped lines, timestamp errors, ...) cover every event the workers read.
 */
import { open, stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import {
  compareTimestamps,
  detectMode,
  type EventRecord,
  type EventStream,
  emptySummary,
  eventFromOrigin,
  expandInputs,
  type InputSource,
  type LinePrefilter,
  type ReadOptions,
  type ReadSummary,
  readEvents,
  readSources,
} from "../events/index.js";
import type { CompiledQuery } from "../query/index.js";
import type {
  HuntSpec,
  QuerySpec,
  RelevanceSpec,
  SegmentResult,
  SegmentTask,
  WorkerSetup,
} from "./protocol.js";

import { queryPrefilter, relevanceOf } from "./relevance.js";

export interface ParallelOptions {
  /** Worker threads (>= 2 to be worth it). */
  readonly threads: number;
  readonly relevance: RelevanceSpec;
  /** Let workers apply the query's literal prefilter. */
  readonly prefilter: boolean;
  /** Segment size; default 16 MiB. */
  readonly segmentBytes?: number;
  /**
   * Files under this size, or under two segments, are read on this thread: starting workers costs more
   * than they can save. Default 64 MiB.
   */
  readonly minFileBytes?: number;
  /** The same prefilter compiled here, for the files read on this thread (small ones, or by `adaptive`). */
  readonly localPrefilter?: LinePrefilter;
  /**
   * The thread count is the default, not the user's: with two threads or fewer, a large file is sampled
   * first and read on this thread unless workers would gain (see `workersPay`). `relevant` is what the
   * workers would send back (every decoded event for a hunt).
   */
  readonly adaptive?: { readonly relevant: (event: EventRecord) => boolean };
}

/** Up to this many threads, a default thread count lets a sample choose between workers and this thread. */
const ADAPTIVE_MAX_THREADS = 2;
/** Bytes of a file's start read to estimate what workers would decode and send back. */
const SAMPLE_BYTES = 4 * 1024 * 1024;
/** Workers must save at least this fraction of the file's lines in decoding (see `workersPay`). */
const MIN_WORKER_GAIN = 0.05;

/**
 * Whether byte-range workers can beat this thread on a file, from a sample of it: of its lines, the
 * fraction `decoded` gets parsed (what the prefilter lets through) and `returned` comes back to this
 * thread, to be parsed again here. Workers share the decoding out over `threads`; they cannot speed up
 * the prefilter's scan on two cores, since this thread's read already runs in libuv's pool on the second
 * core (a one-thread run of a selective query takes about 1.4 cores: docs/performance.md).
 */
export function workersPay(decoded: number, returned: number, threads: number): boolean {
  return decoded * (1 - 1 / threads) - returned > MIN_WORKER_GAIN;
}

/**
 * Up to two segments per worker are in flight, and a worker returns a segment's relevant lines in one
 * message, so a query that keeps most lines holds several segments of text at once (in workers, in
 * messages, on this thread). 16 MiB against 32 MiB with two threads: peak RSS of `library where true` over
 * 300 MB 424-432 -> 339-341 MB at the same speed (two runs each); over the 2.15 GB bench file the
 * one-domain query (1.14-1.21 s) and the 3CX hunt (5.3-5.8 s) unchanged (three runs each). 8 MiB made
 * the one-domain query 15% slower (1.32-1.37 s).
 */
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
const DEFAULT_MIN_FILE_BYTES = 64 * 1024 * 1024;

export type EventReader = (inputs: readonly string[], options: ReadOptions) => EventStream;

/**
 * How to read for one query: worker threads when there is more than one thread, the query can say which
 * events matter to it and the input is not stdin; else this thread. Either way with the query's literal
 * prefilter unless `prefilter` is false (callers turn it off under --strict: every line gets validated).
 */
export function readerFor(
  query: CompiledQuery,
  spec: QuerySpec,
  options: {
    readonly threads: number;
    readonly prefilter: boolean;
    readonly inputs: readonly string[];
    /** `threads` is the default (the core count), not asked for: see ParallelOptions.adaptive. */
    readonly adaptive?: boolean;
  },
): EventReader {
  const prefilter = options.prefilter ? queryPrefilter(spec) : undefined;
  const relevant = relevanceOf(query);
  if (options.threads < 2 || !relevant || options.inputs.includes("-"))
    return (list, readOptions) => readEvents(list, { ...readOptions, prefilter });
  return (list, readOptions) =>
    readEventsParallel(list, readOptions, {
      threads: options.threads,
      relevance: spec,
      prefilter: options.prefilter,
      localPrefilter: prefilter,
      adaptive: options.adaptive ? { relevant } : undefined,
    });
}

const BATCH = 64;

export function readEventsParallel(
  inputs: readonly string[],
  options: ReadOptions,
  parallel: ParallelOptions,
): EventStream {
  const summary = emptySummary();
  return {
    summary,
    [Symbol.asyncIterator]: () => iterate(inputs, options, parallel, summary)[Symbol.asyncIterator](),
  };
}

async function* iterate(
  inputs: readonly string[],
  options: ReadOptions,
  parallel: ParallelOptions,
  summary: ReadSummary,
): AsyncGenerator<EventRecord[]> {
  const segmentBytes = parallel.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const { sources, errors } = await expandInputs(inputs, options);
  for (const e of errors) {
    summary.unreadableFiles++;
    options.onIssue?.({ kind: "unreadable", file: e.path, message: e.message });
  }
  let pool: WorkerPool | undefined;
  let seq = options.firstSeq ?? 0;
  try {
    for (const source of sources) {
      let size = await parallelSize(
        source,
        Math.max(2 * segmentBytes, parallel.minFileBytes ?? DEFAULT_MIN_FILE_BYTES),
      );
      if (size !== undefined && parallel.adaptive && parallel.threads <= ADAPTIVE_MAX_THREADS) {
        const sample = await sampleFile(source, options, parallel.localPrefilter, parallel.adaptive.relevant);
        if (!workersPay(sample.decoded, sample.returned, parallel.threads)) size = undefined;
      }
      if (size === undefined) {
        const stream = readSources([source], {
          ...options,
          prefilter: parallel.localPrefilter,
          firstSeq: seq,
        });
        for await (const batch of stream) yield batch;
        seq += stream.summary.events;
        addSummary(summary, stream.summary, true);
        continue;
      }
      summary.files++;
      pool ??= new WorkerPool(parallel.threads, {
        relevance: parallel.relevance,
        read: {
          maxLineBytes: options.maxLineBytes,
          timestampField: options.timestampField,
          timestamps: options.timestamps,
          from: options.from,
          to: options.to,
          keepTimeBounds: options.keepTimeBounds,
          prefilter: parallel.prefilter,
        },
      });
      const count = Math.ceil(size / segmentBytes);
      const pending = new Map<number, Promise<SegmentResult>>();
      let submitted = 0;
      let lineBase = 0;
      for (let i = 0; i < count; i++) {
        // Keep every worker busy, and at most two segments per worker in flight (bounded memory).
        while (submitted < count && submitted < i + 2 * parallel.threads) {
          const start = submitted * segmentBytes;
          pending.set(
            submitted,
            pool.run({
              segment: submitted,
              path: source.path,
              start,
              end: Math.min(size, start + segmentBytes),
            }),
          );
          submitted++;
        }
        const result = await pending.get(i)!;
        pending.delete(i);
        if (result.error !== undefined) throw new Error(`parallel reader worker failed: ${result.error}`);
        addSummary(summary, result.summary, false);
        options.onBytes?.(result.summary.bytes);
        for (const issue of result.issues) {
          options.onIssue?.({
            ...issue,
            file: source.path,
            line: issue.line === undefined ? undefined : issue.line + lineBase,
          });
        }
        let batch: EventRecord[] = [];
        for (const origin of result.events) {
          batch.push(eventFromOrigin(origin, source.path, lineBase, seq++));
          if (batch.length >= BATCH) {
            yield batch;
            batch = [];
          }
        }
        if (batch.length > 0) yield batch;
        lineBase += result.summary.lines;
      }
    }
  } finally {
    await pool?.close();
  }
}

/**
 * What fraction of a file's first lines (up to SAMPLE_BYTES) the prefilter lets through to be decoded,
 * and what fraction is relevant (would come back from a worker). Nothing read here is reported: the file
 * is read again from its start either way.
 */
async function sampleFile(
  source: InputSource,
  options: ReadOptions,
  prefilter: LinePrefilter | undefined,
  relevant: (event: EventRecord) => boolean,
): Promise<{ decoded: number; returned: number }> {
  const stream = readSources([{ path: source.path, range: { start: 0, end: SAMPLE_BYTES } }], {
    maxLineBytes: options.maxLineBytes,
    timestampField: options.timestampField,
    prefilter,
  });
  let returned = 0;
  for await (const batch of stream) for (const event of batch) if (relevant(event)) returned++;
  const lines = stream.summary.lines;
  if (lines === 0) return { decoded: 1, returned: 0 };
  return { decoded: stream.summary.events / lines, returned: returned / lines };
}

/**
 * How to read for a hunt: with its union prefilter (when every rule has one) on this thread, or in worker
 * threads that apply it (the hunt itself runs here, on the candidates). Without a prefilter the workers
 * would return every event, so the hunt then reads on this thread.
 */
export function huntReader(
  spec: HuntSpec,
  prefilter: LinePrefilter | undefined,
  options: {
    readonly threads: number;
    readonly inputs: readonly string[];
    /** `threads` is the default (the core count), not asked for: see ParallelOptions.adaptive. */
    readonly adaptive?: boolean;
  },
): EventReader {
  // A hunt's "now" is the whole input's: lines the prefilter skips must still count their times.
  const keepTimeBounds = prefilter !== undefined;
  if (!prefilter || options.threads < 2 || options.inputs.includes("-"))
    return (list, readOptions) => readEvents(list, { ...readOptions, prefilter, keepTimeBounds });
  return (list, readOptions) =>
    readEventsParallel(
      list,
      { ...readOptions, keepTimeBounds },
      {
        threads: options.threads,
        relevance: spec,
        prefilter: true,
        localPrefilter: prefilter,
        // Every event a hunt's worker decodes comes back: the rules run here.
        adaptive: options.adaptive ? { relevant: () => true } : undefined,
      },
    );
}

/** The file's size when it should be read in parallel: a plain (not gzip) NDJSON file of `minBytes` or more. */
async function parallelSize(source: InputSource, minBytes: number): Promise<number | undefined> {
  if (source.path === "-") return undefined;
  let size: number;
  try {
    const info = await stat(source.path);
    if (!info.isFile()) return undefined;
    size = info.size;
  } catch {
    return undefined; // the sequential path reports it
  }
  if (size < minBytes) return undefined;
  const handle = await open(source.path, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) return undefined;
    return detectMode(bytes, true) === "lines" ? size : undefined;
  } finally {
    await handle.close();
  }
}

/** Adds a part's counts; `files` only for whole-file parts (segments belong to a file counted once). */
function addSummary(total: ReadSummary, part: ReadSummary, countFiles: boolean): void {
  if (countFiles) total.files += part.files;
  total.unreadableFiles += part.unreadableFiles;
  total.bytes += part.bytes;
  total.lines += part.lines;
  total.events += part.events;
  total.skippedLines += part.skippedLines;
  total.timestampErrors += part.timestampErrors;
  total.outOfRange += part.outOfRange;
  total.truncatedFiles += part.truncatedFiles;
  total.prefiltered += part.prefiltered;
  if (part.minTime && (!total.minTime || compareTimestamps(part.minTime, total.minTime) < 0))
    total.minTime = part.minTime;
  if (part.maxTime && (!total.maxTime || compareTimestamps(part.maxTime, total.maxTime) > 0))
    total.maxTime = part.maxTime;
}

/** N workers, one segment each at a time, tasks queued in submission order. */
class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: { task: SegmentTask; resolve: (r: SegmentResult) => void }[] = [];
  private readonly busy = new Map<Worker, (r: SegmentResult) => void>();

  constructor(threads: number, setup: WorkerSetup) {
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: setup });
      worker.on("message", (result: SegmentResult) => {
        const resolve = this.busy.get(worker);
        this.busy.delete(worker);
        this.idle.push(worker);
        resolve?.(result);
        this.dispatch();
      });
      worker.on("error", (error) => {
        const resolve = this.busy.get(worker);
        this.busy.delete(worker);
        resolve?.({
          segment: -1,
          summary: emptySummary(),
          issues: [],
          events: [],
          error: error.stack ?? error.message,
        });
        // Fail every queued task too: the run stops at the first error anyway.
        for (const q of this.queue.splice(0))
          q.resolve({
            segment: q.task.segment,
            summary: emptySummary(),
            issues: [],
            events: [],
            error: error.message,
          });
      });
      worker.on("exit", (code) => {
        const resolve = this.busy.get(worker);
        this.busy.delete(worker);
        if (resolve && !this.closing)
          resolve({
            segment: -1,
            summary: emptySummary(),
            issues: [],
            events: [],
            error: `worker exited with code ${code}`,
          });
      });
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  run(task: SegmentTask): Promise<SegmentResult> {
    return new Promise((resolve) => {
      this.queue.push({ task, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const { task, resolve } = this.queue.shift()!;
      this.busy.set(worker, resolve);
      worker.postMessage(task);
    }
  }

  private closing = false;

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
