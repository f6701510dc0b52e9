import assert from "node:assert/strict";
import { test } from "node:test";
import { compareKeys, externalSort, makeKeyer, readInTimeOrder } from "../../src/events/order.js";
import { readEvents } from "../../src/events/reader.js";
import type { EventRecord } from "../../src/events/types.js";
import { tempDir } from "../helpers/tmp.js";

const tmp = tempDir();

function lines(ts: number[], extra: (i: number) => string = () => ""): string {
  return ts.map((t, i) => `{"@timestamp":${t},"i":${i}${extra(i)}}`).join("\n");
}

test("ties on timestamp break by tiebreaker, then input order; missing tiebreaker sorts last", () => {
  const keyer = makeKeyer({ tiebreakerField: "tb" });
  const mk = (seq: number, source: Record<string, number>): EventRecord => ({
    source: { "@timestamp": 5, ...source },
    raw: "",
    index: "x",
    id: String(seq),
    provenance: { file: "x" },
    seq,
  });
  const a = keyer(mk(0, { tb: 2 }))!;
  const b = keyer(mk(1, { tb: 1 }))!;
  const c = keyer(mk(2, {}))!;
  const d = keyer(mk(3, { tb: 1 }))!;
  const sorted = [a, b, c, d].sort(compareKeys).map((k) => k.seq);
  assert.deepEqual(sorted, [1, 3, 0, 2]);
});

test("external sort with tiny runs spills, merges and keeps every event exactly once", async () => {
  const ts = Array.from({ length: 500 }, (_, i) => (i * 7919) % 101);
  const path = tmp.file(
    "unsorted.ndjson",
    lines(ts, (i) => (i === 3 ? ',"big":123456789012345678901' : "")),
  );
  const out: EventRecord[] = [];
  for await (const batch of externalSort(readEvents([path]), makeKeyer({}), { runBytes: 2000 }))
    out.push(...batch);
  assert.equal(out.length, 500);
  const got = out.map((e) => [e.source["@timestamp"], e.seq]);
  const want = ts.map((t, i) => [t, i]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  assert.deepEqual(got, want);
  const big = out.find((e) => e.source.i === 3)!;
  assert.equal(big.source.big, 123456789012345678901n);
  assert.equal(big.id, "4");
});

test("readInTimeOrder streams sorted input once and falls back to sorting when it is not", async () => {
  let made = 0;
  const consumer = () => {
    made++;
    const seen: number[] = [];
    return { seen, push: (b: readonly EventRecord[]) => seen.push(...b.map((e) => e.source.i as number)) };
  };
  const sorted = tmp.file("sorted.ndjson", lines([1, 2, 2, 3]));
  const r1 = await readInTimeOrder([sorted], {}, {}, consumer);
  assert.equal(r1.sorted, false);
  assert.deepEqual(r1.consumer.seen, [0, 1, 2, 3]);
  assert.equal(made, 1);
  const shuffled = tmp.file("shuffled.ndjson", `${lines([3, 1, 2])}\n{"no":"timestamp"}`);
  const issues: string[] = [];
  const r2 = await readInTimeOrder([shuffled], { onIssue: (i) => issues.push(i.kind) }, {}, consumer);
  assert.equal(r2.sorted, true);
  assert.deepEqual(r2.consumer.seen, [1, 2, 0]);
  assert.deepEqual(issues, ["timestamp"]);
});
