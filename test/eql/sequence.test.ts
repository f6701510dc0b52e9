import assert from "node:assert/strict";
import { test } from "node:test";
import { isQuarryError } from "../../src/diagnostics/index.js";
import { compileEql } from "../../src/eql/index.js";
import type { JsonObject } from "../../src/events/index.js";
import { event, ids, runAll } from "./engine-helpers.js";
import { parseSeriesSpecs, runSeriesSpecCase } from "./series-spec.js";

const ev = (id: number, t: number, stage: string, key = "k", extra: object = {}) => ({
  id,
  "@timestamp": t,
  "event.category": stage,
  key,
  ...extra,
});

test("a newer partial match replaces an older one", () => {
  const hits = runAll("sequence by key [a where true] [b where true]", [
    ev(1, 1, "a"),
    ev(2, 2, "a"),
    ev(3, 3, "b"),
  ]);
  assert.deepEqual(ids(hits), [[2, 3]]);
});

test("join keys separate sequences; multi-valued keys give one sequence per value", () => {
  const hits = runAll("sequence by key [a where true] [b where true]", [
    ev(1, 1, "a", "x"),
    ev(2, 2, "a", "y"),
    ev(3, 3, "b", "x"),
    ev(4, 4, "b", "y"),
  ]);
  assert.deepEqual(ids(hits), [
    [1, 3],
    [2, 4],
  ]);
  const multi = runAll("sequence by tags [a where true] [b where true]", [
    { id: 1, "@timestamp": 1, "event.category": "a", tags: ["t2", "t1"] },
    { id: 2, "@timestamp": 2, "event.category": "b", tags: ["t1", "t2", "t1"] },
  ]);
  assert.deepEqual(ids(multi), [
    [1, 2],
    [1, 2],
  ]);
  assert.deepEqual(
    multi.map((h) => (h.kind === "sequence" ? h.joinKeys : [])),
    [["t1"], ["t2"]],
  );
});

test("maxspan drops sequences that take too long", () => {
  const events = [ev(1, 1000, "a"), ev(2, 2500, "b")];
  assert.deepEqual(ids(runAll("sequence by key with maxspan=2s [a where true] [b where true]", events)), [
    [1, 2],
  ]);
  assert.deepEqual(ids(runAll("sequence by key with maxspan=1s [a where true] [b where true]", events)), []);
});

test("maxspan is exact to the nanosecond, across millisecond boundaries", () => {
  const q = "sequence by key with maxspan=1s [a where true] [b where true]";
  const at = (id: number, iso: string, stage: string) => ({
    id,
    "@timestamp": iso,
    "event.category": stage,
    key: "k",
  });
  const pair = (first: string, second: string) => ids(runAll(q, [at(1, first, "a"), at(2, second, "b")]));
  // Exactly the span: kept. One nanosecond more: dropped.
  assert.deepEqual(pair("2023-01-01T00:00:00.000000500Z", "2023-01-01T00:00:01.000000500Z"), [[1, 2]]);
  assert.deepEqual(pair("2023-01-01T00:00:00.000000500Z", "2023-01-01T00:00:01.000000501Z"), []);
  // The millisecond difference equals the span but the nanoseconds are smaller: within it.
  assert.deepEqual(pair("2023-01-01T00:00:00.000000900Z", "2023-01-01T00:00:01.000000100Z"), [[1, 2]]);
  // One millisecond more, fewer nanoseconds: still beyond it.
  assert.deepEqual(pair("2023-01-01T00:00:00.000000900Z", "2023-01-01T00:00:01.001000100Z"), []);
  // Before 1970 (negative epoch milliseconds).
  assert.deepEqual(pair("1969-12-31T23:59:59.000000001Z", "1970-01-01T00:00:00.000000001Z"), [[1, 2]]);
  assert.deepEqual(pair("1969-12-31T23:59:59.000000001Z", "1970-01-01T00:00:00.000000002Z"), []);
});

test("until drops pending sequences of its key", () => {
  const q = "sequence by key [a where true] [b where true] until [c where true]";
  assert.deepEqual(ids(runAll(q, [ev(1, 1, "a"), ev(2, 2, "c"), ev(3, 3, "b")])), []);
  assert.deepEqual(ids(runAll(q, [ev(1, 1, "a"), ev(2, 2, "c", "other"), ev(3, 3, "b")])), [[1, 3]]);
});

test("runs repeat a stage", () => {
  const q = "sequence by key [a where true] with runs=2 [b where true]";
  assert.deepEqual(ids(runAll(q, [ev(1, 1, "a"), ev(2, 2, "a"), ev(3, 3, "b")])), [[1, 2, 3]]);
});

test("missing events: middle, trailing", () => {
  const middle = "sequence by key with maxspan=1h [a where true] ![c where true] [b where true]";
  assert.deepEqual(ids(runAll(middle, [ev(1, 1, "a"), ev(2, 3, "b")])), [[1, -1, 2]]);
  assert.deepEqual(ids(runAll(middle, [ev(1, 1, "a"), ev(2, 2, "c"), ev(3, 3, "b")])), []);
  const trailing = "sequence by key with maxspan=10ms [a where true] [b where true] ![c where true]";
  assert.deepEqual(ids(runAll(trailing, [ev(1, 1, "a"), ev(2, 2, "b"), ev(3, 5, "c")])), []);
  assert.deepEqual(ids(runAll(trailing, [ev(1, 1, "a"), ev(2, 2, "b"), ev(3, 50, "c")])), [[1, 2, -1]]);
  assert.deepEqual(ids(runAll(trailing, [ev(1, 1, "a"), ev(2, 2, "b")])), [[1, 2, -1]]);
});

test("head and tail pipes, size and result position", () => {
  const events = [1, 2, 3, 4, 5].map((i) => ev(i, i, "a"));
  assert.deepEqual(ids(runAll("a where true | head 2", events)), [[1], [2]]);
  assert.deepEqual(ids(runAll("a where true | tail 2", events)), [[4], [5]]);
  assert.deepEqual(ids(runAll("a where true | head 4 | tail 2", events)), [[3], [4]]);
  assert.deepEqual(ids(runAll("a where true | tail 4 | head 1", events)), [[2]]);
  assert.deepEqual(ids(runAll("a where true", events, { size: 2, resultPosition: "tail" })), [[4], [5]]);
  assert.deepEqual(ids(runAll("a where true | head 0", events)), []);
});

test("pending state is capped with a clear error", () => {
  const q = compileEql("sequence by key [a where true] [b where true]", { maxPendingState: 10 });
  const run = q.start();
  assert.throws(
    () => {
      for (let i = 0; i < 100; i++) {
        run.push({
          source: ev(i, i, "a", `k${i}`),
          raw: "",
          index: "",
          id: "",
          provenance: { file: "" },
          seq: i,
        });
      }
    },
    (e: unknown) => isQuarryError(e) && e.diagnostic.code === "EQL172",
  );
});

test("with maxspan, a partial sequence is dropped once a later start is past its span", () => {
  // 1,000 keys each starting a sequence 1 s after the last: with maxspan=2s at most three can still
  // complete at any time, so state stays far under a cap of 10 (it grew to 1,000 until the periodic
  // sweep when only the sweep dropped them). Dropping them changes no result.
  const q = compileEql("sequence by key with maxspan=2s [a where true] [b where true]", {
    maxPendingState: 10,
  });
  const sources = Array.from({ length: 1000 }, (_, i) => ev(i, i * 1000, "a", `k${i}`));
  sources.push(ev(1000, 999_500, "b", "k999"), ev(1001, 999_600, "b", "k997"));
  assert.deepEqual(ids(runAll("sequence by key with maxspan=2s [a where true] [b where true]", sources)), [
    [999, 1000],
  ]);
  const run = q.start();
  const hits = sources.flatMap((s, i) => run.push(event(s, i)) ?? []);
  assert.deepEqual(ids([...hits, ...run.finish()]), [[999, 1000]]);
});

test("samples: keys in order, distinct events per stage, max samples per key", () => {
  const events = [
    { id: 1, "event.category": "a", host: "h2" },
    { id: 2, "event.category": "b", host: "h2" },
    { id: 3, "event.category": "a", host: "h1" },
    { id: 4, "event.category": "b", host: "h1" },
    { id: 5, "event.category": "a", host: "h1" },
  ];
  const q = "sample by host [a where true] [b where true]";
  assert.deepEqual(ids(runAll(q, events)), [
    [3, 4],
    [1, 2],
  ]);
  assert.deepEqual(ids(runAll(q, events, { maxSamplesPerKey: 2 })), [
    [3, 4],
    [5, 4],
    [1, 2],
  ]);
  // One event cannot fill two stages of the same sample.
  assert.deepEqual(ids(runAll("sample by host [any where true] [any where true]", [events[0]])), []);
});

test("series-spec format (inline)", () => {
  const spec = parseSeriesSpecs(`
// comment
threeStage
A1     A4
  B2      B5
    C3      C6
;
A1 B2 C3
A4 B5 C6
;
`);
  assert.equal(spec.length, 1);
  assert.deepEqual(runSeriesSpecCase(spec[0]), [
    ["A1", "B2", "C3"],
    ["A4", "B5", "C6"],
  ]);
});

test("firstStage: the run's own first stage, evaluated once per event when a gate asks first", () => {
  const q = compileEql("sequence by key [a where x == 1] [b where true]");
  assert.ok(q.firstStage);
  let reads = 0;
  const counted = (source: object) =>
    event(
      new Proxy(source, {
        get(target, key, receiver) {
          if (key === "x") reads++;
          return Reflect.get(target, key, receiver);
        },
      }) as JsonObject,
      0,
    );
  const run = q.start();
  const first = counted(ev(1, 1, "a", "k", { x: 1 }));
  assert.equal(q.firstStage(first), true);
  const afterGate = reads;
  assert.ok(afterGate > 0);
  run.push(first);
  assert.equal(reads, afterGate, "the run reuses the gate's answer for the same event");
  const second = counted(ev(2, 2, "a", "k", { x: 2 }));
  assert.equal(q.firstStage(second), false);
  assert.ok(reads > afterGate, "a new event is evaluated");
  // The answer is per event: the run still pairs the first event with a later `b`.
  assert.deepEqual(ids([...(run.push(event(ev(3, 3, "b"), 2)) ?? []), ...run.finish()]), [[1, 3]]);
  // A leading missing-event stage is no gate.
  assert.equal(
    compileEql("sequence by key with maxspan=1s ![a where true] [b where true]").firstStage,
    undefined,
  );
});
