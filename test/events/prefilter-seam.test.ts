/**
 * The reader's prefilter seam: whole runs of lines skipped on raw bytes must give exactly the events a full
 * read keeps and the prefilter accepts, with the same line numbers, across 1 MiB block boundaries and for
 * lines carried between blocks; over-long lines are still reported.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { type InputIssue, type LinePrefilter, readEvents } from "../../src/events/reader.js";
import fc from "../fc.js";
import { tempDir } from "../helpers/tmp.js";

const tmp = tempDir();

/** A literal search, the simplest real prefilter. */
function literalPrefilter(literal: string): LinePrefilter {
  const needle = Buffer.from(literal);
  return {
    next: (buf, from, end) => {
      const at = buf.indexOf(needle, from);
      return at >= 0 && at + needle.length <= end ? at : -1;
    },
    line: (buf, start, end) => {
      const at = buf.indexOf(needle, start);
      return at >= 0 && at + needle.length <= end;
    },
    description: `contains "${literal}"`,
  };
}

async function lines(path: string, prefilter?: LinePrefilter, maxLineBytes?: number) {
  const issues: InputIssue[] = [];
  const stream = readEvents([path], {
    prefilter,
    maxLineBytes,
    timestamps: "ignore",
    onIssue: (i) => issues.push(i),
  });
  const out: { line: number | undefined; n: unknown }[] = [];
  for await (const batch of stream)
    for (const e of batch) out.push({ line: e.provenance.line, n: e.source.n });
  return { out, issues, summary: stream.summary };
}

test("prefiltered read = full read filtered, with line numbers, across block boundaries", async () => {
  // ~3 MiB of lines of varied length (some over 100 KB) so hits and carried lines straddle 1 MiB blocks.
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < 3 * 1024 * 1024; i++) {
    const pad = "x".repeat(i % 97 === 0 ? 150_000 : (i * 7919) % 3000);
    const tag = i % 13 === 0 ? "needle" : "hay";
    const line = i % 50 === 0 ? "" : `{"n":${i},"tag":"${tag}","pad":"${pad}"}`;
    parts.push(line);
    size += line.length + 1;
  }
  const text = `${parts.join("\n")}\n{"n":-1,"tag":"needle-last-without-newline"}`;
  const path = tmp.file("blocks.ndjson", text);
  const full = await lines(path);
  const wanted = full.out.filter((e) => parts[(e.line ?? 0) - 1]?.includes("needle") || e.n === -1);
  const filtered = await lines(path, literalPrefilter("needle"));
  assert.deepEqual(filtered.out, wanted);
  assert.ok(wanted.length > 20, String(wanted.length));
  // Every line is either decoded or counted as prefiltered (blank lines skipped in a run count too).
  const blanks = parts.filter((p) => p === "").length;
  assert.equal(filtered.summary.events + filtered.summary.prefiltered, full.summary.events + blanks);
  // gzip input goes through the same splitter.
  const gz = tmp.file("blocks.ndjson.gz", gzipSync(Buffer.from(text)));
  assert.deepEqual((await lines(gz, literalPrefilter("needle"))).out, wanted);
});

test("over-long lines are reported even when the prefilter skips them", async () => {
  const path = tmp.file(
    "long.ndjson",
    `{"n":1,"tag":"needle"}\n{"n":2,"pad":"${"y".repeat(5000)}"}\n{"n":3,"tag":"needle"}\n`,
  );
  const r = await lines(path, literalPrefilter("needle"), 1000);
  assert.deepEqual(
    r.out.map((e) => e.line),
    [1, 3],
  );
  assert.deepEqual(
    r.issues.map((i) => [i.kind, i.line]),
    [["too-long", 2]],
  );
});

test("property: keepTimeBounds reads skipped lines' times as the general parser does", async () => {
  const { parseTimestamp } = await import("../../src/events/timestamp.js");
  const pad = (n: number, w: number) => String(n).padStart(w, "0");
  const timeArb = fc
    .tuple(
      fc.integer({ min: 100, max: 9999 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 31 }),
      fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: 0, max: 59 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 999 }),
    )
    .map(
      ([y, mo, d, h, mi, s, ms]) =>
        `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`,
    );
  const never: LinePrefilter = { next: () => -1, line: () => false, description: "nothing" };
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(timeArb, { minLength: 1, maxLength: 20 }), async (times) => {
      const path = tmp.file(
        `times-${run++}.ndjson`,
        times.map((t) => `{"@timestamp":"${t}","x":1}\n`).join(""),
      );
      const stream = readEvents([path], { prefilter: never, keepTimeBounds: true });
      for await (const _ of stream);
      const ms = times.map((t) => parseTimestamp(t)?.ms ?? Number.NaN);
      assert.equal(stream.summary.prefiltered, times.length);
      assert.equal(stream.summary.minTime?.ms, Math.min(...ms));
      assert.equal(stream.summary.maxTime?.ms, Math.max(...ms));
    }),
    { numRuns: 200 },
  );
});

test("a hit at the very first byte of a block is its own line's start, not a skip to the block's end", async () => {
  // Lines that are not JSON objects: the needle can sit at byte 0 of the file.
  const path = tmp.file(
    "first-byte.ndjson",
    'needle\n{"n":2,"tag":"needle"}\n{"n":3}\n{"n":4,"tag":"needle"}\n',
  );
  const r = await lines(path, literalPrefilter("needle"));
  assert.deepEqual(
    r.out.map((e) => e.line),
    [2, 4],
  );
  assert.deepEqual(
    r.issues.map((i) => [i.kind, i.line]),
    [["malformed", 1]],
  );
});

test("a prefilter keeping most of a file's first 4,096 lines is dropped for the rest of the file", async () => {
  // Line i holds "needle" except every 8th: the prefilter keeps 7 lines in 8 and is dropped after the first
  // 4,096, so later lines it would rule out are parsed (events carry them); the events a consumer needs
  // are the same either way.
  const count = 10_000;
  const parts = Array.from(
    { length: count },
    (_, i) => `{"n":${i},"tag":"${i % 8 === 0 ? "hay" : "needle"}"}`,
  );
  const path = tmp.file("mostly-kept.ndjson", `${parts.join("\n")}\n`);
  const read = await lines(path, literalPrefilter("needle"));
  const ruledOut = read.out.length < count ? count - read.out.length : 0;
  assert.equal(read.summary.prefiltered, ruledOut);
  assert.equal(ruledOut, 512, "only the first 4,096 lines were judged by the prefilter");
  assert.ok(read.out.some((e) => (e.n as number) >= 4096 && (e.n as number) % 8 === 0));
  // A selective prefilter (1 line in 8 kept) stays on for the whole file.
  const rare = Array.from(
    { length: count },
    (_, i) => `{"n":${i},"tag":"${i % 8 === 0 ? "needle" : "hay"}"}`,
  );
  const rarePath = tmp.file("mostly-ruled-out.ndjson", `${rare.join("\n")}\n`);
  const selective = await lines(rarePath, literalPrefilter("needle"));
  assert.equal(selective.out.length, count / 8);
  assert.equal(selective.summary.prefiltered, count - count / 8);
});
