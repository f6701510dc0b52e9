/**
 * The reader's prefilter seam: whole runs of lines skipped on raw bytes must give exactly the events a full
 * read keeps and the prefilter accepts, with the same line numbers, across 1 MiB block boundaries and for
 * lines carried between blocks; over-long lines are still reported.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { type InputIssue, type LinePrefilter, readEvents } from "../../src/events/reader.js";
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
