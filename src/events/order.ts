/**
 * Time order for sequences and samples: `@timestamp` (configurable), then the tiebreaker field when
 * given, then input order.
 *
 * Real exports are often already sorted, so ordered reading is optimistic: events stream straight to
 * the consumer while they are in order. At the first event out of order the consumer is thrown away and a
 * new one is fed from an external merge sort (sorted in-memory runs spilled to temporary files and merged),
 * so memory stays bounded by the run size, never by the input.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { compileField, type FieldGetter } from "./field-access.js";
import { parseJsonLossless, stringifyJson } from "./json.js";
import {
  type EventStream,
  type InputIssue,
  type ReadOptions,
  type ReadSummary,
  readEvents,
} from "./reader.js";
import { parseTimestamp, type Timestamp } from "./timestamp.js";
import type { EventRecord, JsonObject, JsonValue } from "./types.js";

export interface OrderOptions {
  readonly timestampField?: string;
  readonly tiebreakerField?: string;
  /** Approximate bytes of events held in memory before a sorted run is spilled. Default 128 MiB. */
  readonly runBytes?: number;
  readonly tmpDir?: string;
}

interface SortKey {
  readonly ts: Timestamp;
  readonly tiebreaker: JsonValue | undefined;
  readonly seq: number;
}

export function makeKeyer(options: OrderOptions): (event: EventRecord) => SortKey | undefined {
  const tsGetter = compileField(options.timestampField ?? "@timestamp");
  const tbGetter: FieldGetter | undefined = options.tiebreakerField
    ? compileField(options.tiebreakerField)
    : undefined;
  return (event) => {
    const ts = parseTimestamp(tsGetter(event.source)[0]);
    if (!ts) return undefined;
    return { ts, tiebreaker: tbGetter ? tbGetter(event.source)[0] : undefined, seq: event.seq };
  };
}

/** Events with a tiebreaker sort before events without one (Elasticsearch sorts missing values last). */
export function compareKeys(a: SortKey, b: SortKey): number {
  const t = a.ts.ms - b.ts.ms || a.ts.nanos - b.ts.nanos;
  if (t !== 0) return t;
  const x = a.tiebreaker;
  const y = b.tiebreaker;
  if (x !== undefined || y !== undefined) {
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    const c = compareScalars(x, y);
    if (c !== 0) return c;
  }
  return a.seq - b.seq;
}

function compareScalars(x: JsonValue, y: JsonValue): number {
  const numeric = (v: JsonValue) => typeof v === "number" || typeof v === "bigint";
  if (numeric(x) && numeric(y)) {
    if (typeof x === "bigint" || typeof y === "bigint") {
      const a = BigInt(typeof x === "number" ? Math.trunc(x) : (x as bigint));
      const b = BigInt(typeof y === "number" ? Math.trunc(y) : (y as bigint));
      return a < b ? -1 : a > b ? 1 : 0;
    }
    return (x as number) - (y as number);
  }
  const a = String(x);
  const b = String(y);
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface OrderedConsumer {
  push(batch: readonly EventRecord[]): void;
}

/**
 * Read `inputs` in time order into a consumer made by `makeConsumer`. Returns the consumer that saw the
 * whole input in order and the reader's summary. Events without a readable timestamp are reported and
 * skipped (time order needs one).
 */
export async function readInTimeOrder<C extends OrderedConsumer>(
  inputs: readonly string[],
  readOptions: ReadOptions,
  orderOptions: OrderOptions,
  makeConsumer: () => C,
  read: (inputs: readonly string[], options: ReadOptions) => EventStream = readEvents,
): Promise<{ consumer: C; summary: ReadSummary; sorted: boolean }> {
  const keyer = makeKeyer({
    ...orderOptions,
    timestampField: orderOptions.timestampField ?? readOptions.timestampField,
  });
  const canReread = !inputs.includes("-");
  let consumer = makeConsumer();
  if (canReread) {
    // Optimistic pass. Its issues are held back until it is known to be the pass that counts: after a
    // disorder the sorted pass reads (and reports) everything again.
    let inOrder = true;
    const held: InputIssue[] = [];
    const stream = read(inputs, {
      ...readOptions,
      timestamps: "require",
      onIssue: (issue) => {
        if (held.length < 10_000) held.push(issue);
      },
    });
    let last: SortKey | undefined;
    for await (const batch of stream) {
      for (let i = 0; i < batch.length; i++) {
        const key = keyer(batch[i])!;
        if (last && compareKeys(last, key) > 0) {
          inOrder = false;
          break;
        }
        last = key;
      }
      if (!inOrder) break;
      consumer.push(batch);
    }
    if (inOrder) {
      for (const issue of held) readOptions.onIssue?.(issue);
      return { consumer, summary: stream.summary, sorted: false };
    }
    consumer = makeConsumer();
  }
  const stream = read(inputs, { ...readOptions, timestamps: "require" });
  for await (const batch of externalSort(stream, keyer, orderOptions)) consumer.push(batch);
  return { consumer, summary: stream.summary, sorted: true };
}

interface Keyed {
  key: SortKey;
  event: EventRecord;
}

/** Sort a stream of events with bounded memory. */
export async function* externalSort(
  stream: AsyncIterable<EventRecord[]>,
  keyer: (event: EventRecord) => SortKey | undefined,
  options: OrderOptions = {},
): AsyncGenerator<EventRecord[]> {
  const limit = options.runBytes ?? 128 * 1024 * 1024;
  let run: Keyed[] = [];
  let runBytes = 0;
  const spills: string[] = [];
  let dir: string | undefined;
  try {
    for await (const batch of stream) {
      for (const event of batch) {
        const key = keyer(event);
        if (!key) continue;
        run.push({ key, event });
        runBytes += event.raw.length * 2 + 256;
      }
      if (runBytes >= limit) {
        dir ??= mkdtempSync(join(options.tmpDir ?? tmpdir(), "quarry-sort-"));
        run.sort((a, b) => compareKeys(a.key, b.key));
        const path = join(dir, `run-${spills.length}.ndjson`);
        await writeRun(path, run);
        spills.push(path);
        run = [];
        runBytes = 0;
      }
    }
    run.sort((a, b) => compareKeys(a.key, b.key));
    if (spills.length === 0) {
      for (let i = 0; i < run.length; i += 1024) yield run.slice(i, i + 1024).map((k) => k.event);
      return;
    }
    yield* mergeRuns(spills, run);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function writeRun(path: string, run: readonly Keyed[]): Promise<void> {
  const out = createWriteStream(path);
  for (const { key, event } of run) {
    const record = [
      key.ts.ms,
      key.ts.nanos,
      key.tiebreaker === undefined ? null : [key.tiebreaker],
      key.seq,
      event.index,
      event.id,
      event.provenance.file,
      event.provenance.line ?? null,
      event.provenance.index ?? null,
      event.raw,
    ] as JsonValue[];
    if (!out.write(`${stringifyJson(record)}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

function decodeRecord(line: string): Keyed {
  const r = parseJsonLossless(line) as JsonValue[];
  const raw = r[9] as string;
  const event: EventRecord = {
    source: parseJsonLossless(raw) as JsonObject,
    raw,
    index: r[4] as string,
    id: r[5] as string,
    provenance:
      r[8] !== null
        ? { file: r[6] as string, line: (r[7] as number | null) ?? undefined, index: r[8] as number }
        : { file: r[6] as string, line: (r[7] as number | null) ?? undefined },
    seq: r[3] as number,
  };
  const tb = r[2] as JsonValue[] | null;
  return {
    key: {
      ts: { ms: r[0] as number, nanos: r[1] as number },
      tiebreaker: tb ? tb[0] : undefined,
      seq: event.seq,
    },
    event,
  };
}

async function* mergeRuns(
  paths: readonly string[],
  memoryRun: readonly Keyed[],
): AsyncGenerator<EventRecord[]> {
  type Head = { item: Keyed; next: () => Promise<Keyed | undefined> };
  const heads: Head[] = [];
  for (const path of paths) {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })[
      Symbol.asyncIterator
    ]();
    const next = async () => {
      const r = await lines.next();
      return r.done ? undefined : decodeRecord(r.value);
    };
    const first = await next();
    if (first) heads.push({ item: first, next });
  }
  let memIndex = 0;
  const memNext = async () => (memIndex < memoryRun.length ? memoryRun[memIndex++] : undefined);
  const firstMem = await memNext();
  if (firstMem) heads.push({ item: firstMem, next: memNext });
  // A binary min-heap over the run heads.
  const less = (a: Head, b: Head) => compareKeys(a.item.key, b.item.key) < 0;
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heads.length && less(heads[l], heads[m])) m = l;
      if (r < heads.length && less(heads[r], heads[m])) m = r;
      if (m === i) return;
      [heads[i], heads[m]] = [heads[m], heads[i]];
      i = m;
    }
  };
  for (let i = Math.floor(heads.length / 2) - 1; i >= 0; i--) siftDown(i);
  let batch: EventRecord[] = [];
  while (heads.length > 0) {
    const top = heads[0];
    batch.push(top.item.event);
    const next = await top.next();
    if (next) top.item = next;
    else {
      const last = heads.pop()!;
      if (heads.length > 0) heads[0] = last;
    }
    if (heads.length > 0) siftDown(0);
    if (batch.length >= 1024) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
