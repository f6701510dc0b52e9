/**
 * The parallel reader must give what the sequential reader gives, minus the events the query cannot need:
 * same events in the same order, same line numbers and ids, same issues at the same lines, same counts.
 * Segments are made tiny here so that lines straddle many segment boundaries.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { compileEql } from "../../src/eql/index.js";
import { type EventRecord, type InputIssue, type ReadOptions, readEvents } from "../../src/events/index.js";
import { readEventsParallel } from "../../src/parallel/index.js";
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
    { threads: 2, relevance: { language: "eql", text: query }, prefilter: false, segmentBytes: 4096 },
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

test("mixed inputs keep input order: small file and gzip read on the main thread", async () => {
  const big = tmp.file("c.ndjson", `${makeLines(1500).join("\n")}\n`);
  const small = tmp.file("d.ndjson", `${makeLines(3).join("\n")}\n`);
  const gz = tmp.file("e.ndjson.gz", gzipSync(Buffer.from(`${makeLines(1500).join("\n")}\n`)));
  const r = await both([small, big, gz], "any where true");
  assert.deepEqual(r.parallel, r.sequential);
  assert.deepEqual(r.parIssues, r.seqIssues);
  assert.deepEqual(r.parStream.summary, r.seqStream.summary);
});
