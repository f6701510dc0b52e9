/**
 * The parallel reader must give what the sequential reader gives, minus the events the query cannot need:
 * same events in the same order, same line numbers and ids, same issues at the same lines, same counts.
 * Segments are made tiny here so that lines straddle many segment boundaries.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { compileEql } from "../../src/eql/index.js";
import {
  type EventRecord,
  type InputIssue,
  type ReadOptions,
  readEvents,
  retainEvent,
} from "../../src/events/index.js";
import { queryPrefilter, readEventsParallel, workersPay } from "../../src/parallel/index.js";
import { tempDir } from "../helpers/tmp.js";

const tmp = tempDir();

function makeLines(count: number): string[] {
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const second = String(i % 60).padStart(2, "0");
    if (i % 37 === 0) lines.push(`{"broken": ${i}`);
    else if (i % 41 === 0) lines.push("");
    else if (i % 43 === 0) lines.push(`{"n":${i},"event":{"category":"process"}}`);
    else
      lines.push(
        JSON.stringify({
          "@timestamp": `2023-03-29T10:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${second}.000Z`,
          n: i,
          event: { category: i % 3 === 0 ? "network" : "process" },
          pad: "p".repeat((i * 7919) % 700),
        }),
      );
  }
  return lines;
}

async function collect(stream: AsyncIterable<EventRecord[]>) {
  const out: { n: unknown; id: string; line: number | undefined; file: string }[] = [];
  for await (const batch of stream)
    for (const e of batch) out.push({ n: e.source.n, id: e.id, line: e.provenance.line, file: e.index });
  return out;
}

async function both(paths: string[], query: string, options: ReadOptions = {}) {
  const compiled = compileEql(query);
  const seqIssues: InputIssue[] = [];
  const seqStream = readEvents(paths, { ...options, onIssue: (i) => seqIssues.push(i) });
  const sequential = (await collect(seqStream)).filter((e) => e);
  const parIssues: InputIssue[] = [];
  const parStream = readEventsParallel(
    paths,
    { ...options, onIssue: (i) => parIssues.push(i) },
    {
      threads: 2,
      relevance: { language: "eql", text: query },
      prefilter: false,
      segmentBytes: 4096,
      minFileBytes: 0,
    },
  );
  const parallel = await collect(parStream);
  return { compiled, sequential, parallel, seqIssues, parIssues, seqStream, parStream };
}

test("every event, line number, issue and count matches the sequential reader", async () => {
  const path = tmp.file("a.ndjson", `${makeLines(3000).join("\n")}\n`);
  const r = await both([path], "any where true");
  assert.ok(r.sequential.length > 2500);
  assert.deepEqual(r.parallel, r.sequential);
  assert.deepEqual(r.parIssues, r.seqIssues);
  assert.deepEqual(r.parStream.summary, r.seqStream.summary);
});

test("only relevant events come back, in order, with their true lines", async () => {
  const lines = makeLines(2000);
  const path = tmp.file("b.ndjson", lines.join("\n")); // no final newline
  const r = await both([path], "network where true");
  const wanted = (await collect(readEvents([path], { onIssue: () => {} }))).filter((e) =>
    lines[(e.line ?? 0) - 1].includes('"network"'),
  );
  assert.ok(wanted.length > 500);
  assert.deepEqual(r.parallel, wanted);
  assert.equal(r.parStream.summary.events, r.seqStream.summary.events);
});

test("events from workers are held as their place in the file and read back exactly (CRLF, BOM)", async () => {
  const lines = makeLines(1200).filter((l) => l.startsWith('{"@timestamp"'));
  const path = tmp.file("held.ndjson", `\ufeff${lines.join("\r\n")}\r\n`);
  const stream = readEventsParallel(
    [path],
    {},
    {
      threads: 2,
      relevance: { language: "eql", text: "any where true" },
      prefilter: false,
      segmentBytes: 4096,
      minFileBytes: 0,
    },
  );
  let count = 0;
  for await (const batch of stream)
    for (const e of batch) {
      const held = retainEvent(e);
      // Held as a place: the text is not a property of its own, it is read back from the file.
      assert.equal(Object.hasOwn(held, "raw"), false, `line ${e.provenance.line} held as a place`);
      assert.equal(held.raw, e.raw, `line ${e.provenance.line}`);
      assert.deepEqual(held.source, e.source);
      assert.deepEqual(held.provenance, e.provenance);
      count++;
    }
  assert.equal(count, lines.length);
  assert.ok(stream.summary.bytes > 3 * 4096, "the file spans several 4 KiB segments, so workers read it");
});

test("mixed inputs keep input order: small file and gzip read on the main thread", async () => {
  const big = tmp.file("c.ndjson", `${makeLines(1500).join("\n")}\n`);
  const small = tmp.file("d.ndjson", `${makeLines(3).join("\n")}\n`);
  const gz = tmp.file("e.ndjson.gz", gzipSync(Buffer.from(`${makeLines(1500).join("\n")}\n`)));
  const r = await both([small, big, gz], "any where true");
  assert.deepEqual(r.parallel, r.sequential);
  assert.deepEqual(r.parIssues, r.seqIssues);
  assert.deepEqual(r.parStream.summary, r.seqStream.summary);
});

test("files read on this thread keep the query's prefilter", async () => {
  const lines = makeLines(300);
  const small = tmp.file("f.ndjson", `${lines.join("\n")}\n`);
  const query = "network where true";
  const prefilter = queryPrefilter({ language: "eql", text: query });
  assert.ok(prefilter);
  const sequential = readEvents([small], { prefilter, onIssue: () => {} });
  const expected = await collect(sequential);
  // A file under two segments is read here: it must be prefiltered as a one-thread read is.
  const parallel = readEventsParallel(
    [small],
    { onIssue: () => {} },
    { threads: 2, relevance: { language: "eql", text: query }, prefilter: true, localPrefilter: prefilter },
  );
  assert.deepEqual(await collect(parallel), expected);
  assert.ok(parallel.summary.prefiltered > 100);
  assert.deepEqual(parallel.summary, sequential.summary);
});

test("a default thread count reads on this thread when workers would only send back what they decode", async () => {
  const lines = makeLines(3000);
  const path = tmp.file("g.ndjson", `${lines.join("\n")}\n`);
  const query = "network where true";
  const prefilter = queryPrefilter({ language: "eql", text: query });
  const network = (e: EventRecord) =>
    (e.source.event as { category?: string } | undefined)?.category === "network";
  // Workers given a query they cannot compile fail the read: a read that succeeds started none.
  const unworkable = { language: "eql" as const, text: "not a query" };
  const read = (relevant: ((e: EventRecord) => boolean) | undefined, filter: typeof prefilter) =>
    readEventsParallel(
      [path],
      { onIssue: () => {} },
      {
        threads: 2,
        relevance: unworkable,
        prefilter: filter !== undefined,
        localPrefilter: filter,
        segmentBytes: 4096,
        minFileBytes: 0,
        adaptive: relevant ? { relevant } : undefined,
      },
    );
  // Every line the prefilter lets through is relevant: workers would decode nothing more than this thread.
  const expected = await collect(readEvents([path], { prefilter, onIssue: () => {} }));
  assert.deepEqual(await collect(read(network, prefilter)), expected);
  // Asked for two threads (not adaptive), the workers run.
  await assert.rejects(collect(read(undefined, prefilter)), /worker failed/);
  // Every line decoded and few sent back: the workers do pay.
  assert.equal(workersPay(1, 0.01, 2), true);
  await assert.rejects(collect(read((e) => e.source.n === 7, undefined)), /worker failed/);
});
