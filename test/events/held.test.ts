/**
 * Held events (what a sequence keeps of a partial match): a line of a file read as it is is kept as its
 * place in the file and read back exactly, across a block boundary, after a BOM and with CRLF endings;
 * other events keep their text; a file changed in the meantime is an error, never a wrong event.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { isQuarryError } from "../../src/diagnostics/index.js";
import { compileEql } from "../../src/eql/index.js";
import { HeldEventCode, readEvents, retainEvent } from "../../src/events/index.js";
import type { EventRecord } from "../../src/events/types.js";
import { tempDir } from "../helpers/tmp.js";

async function read(file: string): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for await (const batch of readEvents([file], {})) out.push(...batch);
  return out;
}

/** Lines of ~1 KB: with 4,500 of them one lies across the reader's 4 MiB block boundary. */
function lines(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      "@timestamp": new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
      event: { category: i % 3 === 0 ? "process" : "network" },
      host: { name: `h${i % 7}` },
      n: i,
      big: 12345678901234567890n.toString(),
      pad: `${"é".repeat(i % 5)}${"x".repeat(900 + (i % 50))}`,
    }).replace('"big":"12345678901234567890"', '"big":12345678901234567890'),
  );
}

test("a held line of a plain file is read back exactly: every line, the one across a block, BOM and CRLF", async () => {
  const { dir } = tempDir();
  const text = lines(4500);
  const file = join(dir, "events.ndjson");
  writeFileSync(file, `\ufeff${text.join("\r\n")}\r\n`);
  const events = await read(file);
  assert.equal(events.length, 4500);
  let boundary = false;
  let offset = 3;
  for (const [i, e] of events.entries()) {
    const held = retainEvent(e);
    assert.notEqual(held, e);
    assert.equal(Object.hasOwn(held, "raw"), false, "held as a place, not as text");
    assert.equal(held.raw, e.raw, `line ${i + 1}`);
    assert.deepEqual(held.source, e.source);
    assert.deepEqual(held.provenance, e.provenance);
    assert.equal(held.id, e.id);
    assert.equal(held.seq, e.seq);
    const bytes = Buffer.byteLength(text[i]);
    if (offset < 4 << 20 && offset + bytes > 4 << 20) boundary = true;
    offset += bytes + 2;
  }
  assert.ok(boundary, "a line lies across the 4 MiB block boundary");
  assert.equal(typeof (events[0].source.big as unknown), "bigint", "long integers stay exact");
  assert.equal(typeof (retainEvent(events[0]).source.big as unknown), "bigint");
});

test("a held line whose file changed is an error (IN001), not a wrong event; gzip and hits keep text", async () => {
  const { dir } = tempDir();
  const text = lines(20);
  const file = join(dir, "events.ndjson");
  writeFileSync(file, `${text.join("\n")}\n`);
  const events = await read(file);
  const held = events.map(retainEvent);
  writeFileSync(file, `${text.slice(0, 10).join("\n")}\n${text[11]}\n`);
  assert.deepEqual(held[3].source, events[3].source, "an unchanged line still reads back");
  assert.throws(
    () => held[15].source,
    (e: unknown) =>
      isQuarryError(e) && e.diagnostic.code === HeldEventCode.changed && /:16: /.test(e.message),
  );
  assert.throws(
    () => held[10].raw,
    (e: unknown) => isQuarryError(e) && /differs|shorter/.test(e.message),
  );
  const gz = join(dir, "events.ndjson.gz");
  writeFileSync(gz, gzipSync(`${text.join("\n")}\n`));
  const fromGzip = (await read(gz)).map(retainEvent);
  assert.equal(Object.hasOwn(fromGzip[4], "raw"), true, "a gunzipped line is held as text");
  assert.deepEqual(fromGzip[4].source, events[4].source);
  const hits = join(dir, "hits.json");
  writeFileSync(hits, JSON.stringify({ hits: { hits: [{ _index: "i", _id: "a", _source: { n: 1 } }] } }));
  const fromHits = (await read(hits)).map(retainEvent);
  assert.equal(Object.hasOwn(fromHits[0], "raw"), true, "a hit of an export is held as text");
});

test("a sequence over a plain file reports its held events as read", async () => {
  const { dir } = tempDir();
  const file = join(dir, "seq.ndjson");
  const text = lines(300);
  writeFileSync(file, `${text.join("\n")}\n`);
  const events = await read(file);
  const q = compileEql(
    "sequence by host.name [process where true] [network where true] [network where true]",
  );
  const run = q.start();
  const hits = events.flatMap((e) => [...(run.push(e) ?? [])]);
  hits.push(...run.finish());
  assert.ok(hits.length > 10);
  const first = hits[0].kind === "sequence" ? hits[0].events[0] : undefined;
  assert.ok(first && !Object.hasOwn(first, "raw"), "a first stage's event was held as its place");
  for (const hit of hits) {
    assert.equal(hit.kind, "sequence");
    if (hit.kind !== "sequence") continue;
    for (const e of hit.events) {
      assert.ok(e);
      const original = events[e.seq];
      assert.equal(e.raw, original.raw);
      assert.deepEqual(e.source, original.source);
    }
  }
});
