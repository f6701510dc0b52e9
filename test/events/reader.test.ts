import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { type InputIssue, type ReadOptions, readEvents } from "../../src/events/reader.js";
import type { EventRecord } from "../../src/events/types.js";
import fc from "../fc.js";
import { tempDir } from "../helpers/tmp.js";

const tmp = tempDir();

async function read(inputs: string[], options: ReadOptions = {}) {
  const issues: InputIssue[] = [];
  const stream = readEvents(inputs, { ...options, onIssue: (i) => issues.push(i) });
  const events: EventRecord[] = [];
  for await (const batch of stream) events.push(...batch);
  return { events, issues, summary: stream.summary };
}

const ev = (i: number) => `{"@timestamp":"2023-03-29T10:00:0${i}Z","n":${i}}`;

test("NDJSON: BOM, CRLF, blank lines, final line without newline", async () => {
  const path = tmp.file("a.ndjson", `\ufeff${ev(1)}\r\n\r\n\n${ev(2)}\r\n   \n${ev(3)}`);
  const { events, issues, summary } = await read([path]);
  assert.deepEqual(
    events.map((e) => e.source.n),
    [1, 2, 3],
  );
  assert.deepEqual(
    events.map((e) => e.id),
    ["1", "4", "6"],
  );
  assert.equal(events[0].raw, ev(1));
  assert.equal(events[0].index, path);
  assert.deepEqual(issues, []);
  assert.equal(summary.events, 3);
});

test("malformed lines are reported as file:line, counted, skipped; the run goes on", async () => {
  const path = tmp.file("bad.ndjson", `${ev(1)}\n{"broken":\n[1,2]\n"str"\n${ev(2)}\n`);
  const { events, issues, summary } = await read([path]);
  assert.deepEqual(
    events.map((e) => e.source.n),
    [1, 2],
  );
  assert.deepEqual(
    issues.map((i) => [i.kind, i.line]),
    [
      ["malformed", 2],
      // `[1,2]` is a JSON array of non-objects: each element is reported.
      ["not-an-object", 3],
      ["not-an-object", 3],
      ["not-an-object", 4],
    ],
  );
  assert.equal(summary.skippedLines, 4);
});

test("lines over --max-line-bytes are skipped with a diagnostic, without buffering them", async () => {
  const long = `{"x":"${"a".repeat(5000)}"}`;
  const path = tmp.file("long.ndjson", `${ev(1)}\n${long}\n${ev(2)}\n${long}`);
  const { events, issues } = await read([path], { maxLineBytes: 1000 });
  assert.deepEqual(
    events.map((e) => e.source.n),
    [1, 2],
  );
  assert.deepEqual(
    issues.map((i) => [i.kind, i.line]),
    [
      ["too-long", 2],
      ["too-long", 4],
    ],
  );
});

test("a JSON array streams element by element, with 0-based index ids", async () => {
  const path = tmp.file("arr.json", `[\n ${ev(1)},\n {"s":"]},[\\"{"},\n ${ev(2)}\n]\n`);
  const { events, issues } = await read([path]);
  assert.deepEqual(
    events.map((e) => e.id),
    ["0", "1", "2"],
  );
  assert.equal(events[1].source.s, ']},["{');
  assert.equal(events[2].provenance.index, 2);
  assert.equal(events[2].provenance.line, 4);
  assert.deepEqual(
    issues.map((i) => i.kind),
    ["timestamp"],
  );
});

test("a truncated JSON array keeps the events before the cut and reports it", async () => {
  const path = tmp.file("cut.json", `[${ev(1)},${ev(2)},{"a":`);
  const { events, issues, summary } = await read([path]);
  assert.deepEqual(
    events.map((e) => e.source.n),
    [1, 2],
  );
  assert.equal(issues.at(-1)?.kind, "truncated");
  assert.equal(summary.truncatedFiles, 1);
});

test("a pretty-printed single object and a saved _search response", async () => {
  const one = tmp.file("one.json", `{\n  "@timestamp": "2023-01-01T00:00:00Z",\n  "a": {"b": 1}\n}\n`);
  const search = tmp.file(
    "search.json",
    JSON.stringify(
      {
        took: 1,
        hits: {
          total: { value: 2 },
          hits: [
            { _index: "logs-1", _id: "abc", _source: { "@timestamp": 1, k: 1 } },
            { _index: "logs-1", _id: "def", _source: { "@timestamp": 2, k: 2 } },
          ],
        },
      },
      null,
      2,
    ),
  );
  const eqlResp = tmp.file(
    "eql.json",
    JSON.stringify({
      hits: {
        sequences: [
          {
            join_keys: ["h"],
            events: [
              { _index: "i", _id: "s1", _source: { "@timestamp": 1 } },
              { _index: "", _id: "", missing: true },
            ],
          },
        ],
      },
    }),
  );
  const r = await read([one, search, eqlResp]);
  assert.equal(r.events[0].source.a && (r.events[0].source.a as { b: number }).b, 1);
  assert.deepEqual(
    r.events.slice(1).map((e) => [e.index, e.id]),
    [
      ["logs-1", "abc"],
      ["logs-1", "def"],
      ["i", "s1"],
    ],
  );
  assert.deepEqual(r.issues, []);
});

test("NDJSON of Elasticsearch hits is unwrapped to _source, keeping _index and _id", async () => {
  const path = tmp.file("dump.ndjson", `{"_index":"winlogbeat","_id":"Xy1","_source":${ev(7)}}\n`);
  const { events } = await read([path]);
  assert.deepEqual([events[0].index, events[0].id, events[0].source.n], ["winlogbeat", "Xy1", 7]);
  assert.equal(events[0].raw, ev(7));
});

test("gzip is detected from content, whatever the name; truncated gzip keeps what was read", async () => {
  const lines = Array.from(
    { length: 2000 },
    (_, i) => `{"@timestamp":${1680000000000 + i},"i":${i},"pad":"${"x".repeat(40 + (i % 7))}"}`,
  ).join("\n");
  const gz = gzipSync(lines);
  const named = tmp.file("plain-name.log", gz);
  const ok = await read([named]);
  assert.equal(ok.events.length, 2000);
  const cut = tmp.file("cut.ndjson.gz", gz.subarray(0, Math.floor(gz.length / 2)));
  const bad = await read([cut]);
  assert.ok(bad.events.length > 0 && bad.events.length < 2000);
  assert.deepEqual(
    bad.events.map((e) => e.source.i),
    Array.from({ length: bad.events.length }, (_, i) => i),
  );
  assert.equal(bad.issues.at(-1)?.kind, "gzip");
  assert.match(bad.issues.at(-1)!.message, /after \d+ lines/);
});

test("directories are read recursively by extension, with include/exclude globs", async () => {
  const d = tempDir();
  d.file("a.ndjson", `${ev(1)}\n`);
  d.file("b.txt", `${ev(2)}\n`);
  d.file("c.json", `[${ev(3)}]`);
  const all = await read([d.dir]);
  assert.deepEqual(
    all.events.map((e) => e.source.n),
    [1, 3],
  );
  const some = await read([d.dir], { exclude: ["c.*"] });
  assert.deepEqual(
    some.events.map((e) => e.source.n),
    [1],
  );
  const txt = await read([d.dir], { include: ["*.txt"] });
  assert.deepEqual(
    txt.events.map((e) => e.source.n),
    [2],
  );
});

test("unreadable inputs are reported and the others still read", async () => {
  const good = tmp.file("good.ndjson", `${ev(1)}\n`);
  const { events, issues, summary } = await read([tmp.dir + "/nope.json", good]);
  assert.equal(events.length, 1);
  assert.equal(issues[0].kind, "unreadable");
  assert.equal(summary.unreadableFiles, 1);
});

test("timestamps: unreadable ones are reported; require skips them; from/to bound the range", async () => {
  const path = tmp.file("ts.ndjson", `${ev(1)}\n{"n":9}\n${ev(2)}\n${ev(3)}\n`);
  const check = await read([path]);
  assert.equal(check.events.length, 4);
  assert.equal(check.summary.timestampErrors, 1);
  const req = await read([path], { timestamps: "require" });
  assert.deepEqual(
    req.events.map((e) => e.source.n),
    [1, 2, 3],
  );
  const range = await read([path], {
    from: { ms: Date.parse("2023-03-29T10:00:02Z"), nanos: 0 },
    timestamps: "require",
  });
  assert.deepEqual(
    range.events.map((e) => e.source.n),
    [2, 3],
  );
});

test("big integers survive reading and raw text is kept byte for byte", async () => {
  const line = '{"@timestamp":"2023-01-01T00:00:00.123456789Z","id":123456789012345678901,"f":1.10}';
  const { events } = await read([tmp.file("big.ndjson", `${line}\n`)]);
  assert.equal(events[0].source.id, 123456789012345678901n);
  assert.equal(events[0].raw, line);
});

test("property: arbitrary bytes never throw, never hang, and every line is accounted for", async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.boolean(), async (bytes, gzip) => {
      const path = tmp.file(`fuzz-${n++}.bin`, gzip ? gzipSync(bytes) : Buffer.from(bytes));
      const r = await read([path], { maxLineBytes: 200 });
      assert.ok(r.summary.events >= 0);
      for (const e of r.events) assert.equal(typeof e.source, "object");
    }),
    { numRuns: 300 },
  );
});

test("property: valid NDJSON with random chunk-crossing lines reads every event", async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
        { maxLength: 40 },
      ),
      async (docs) => {
        const text = docs.map((d) => JSON.stringify(d)).join("\n");
        const r = await read([tmp.file(`ok-${n++}.ndjson`, text)], { timestamps: "ignore" });
        assert.equal(r.events.length, docs.length);
        assert.deepEqual(JSON.stringify(r.events.map((e) => e.source)), JSON.stringify(docs));
      },
    ),
    { numRuns: 100 },
  );
});
