/**
 * The SIMD search reads the reader's blocks where they lie, in the memory they share
 * (src/events/block-memory.ts): same answers as a copy would give, up to a block's last byte, and the
 * reader's prefiltered events are unchanged. Its own file, so that it runs in a fresh process, where the
 * shared memory's regions are free (other test files make many finders).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { compileEql } from "../../src/eql/index.js";
import {
  BLOCK_BYTES,
  blockMemory,
  giveSharedBlock,
  releaseRegion,
  reserveRegion,
  takeSharedBlock,
} from "../../src/events/block-memory.js";
import { readEvents } from "../../src/events/index.js";
import { prefilterForEql } from "../../src/prefilter/index.js";
import type { Needle } from "../../src/prefilter/requirement.js";
import { teddyFinder } from "../../src/prefilter/teddy.js";

function needle(text: string, caseInsensitive: boolean): Needle {
  return { bytes: Buffer.from(text, "latin1"), caseInsensitive, common: false, text };
}

function naive(needles: readonly Needle[], buf: Uint8Array, from: number, end: number): number {
  const fold = (b: number) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
  for (let s = from; s < end; s++)
    for (const n of needles) {
      if (s + n.bytes.length > end) continue;
      let i = 0;
      while (i < n.bytes.length && (n.caseInsensitive ? fold(buf[s + i]) : buf[s + i]) === n.bytes[i]) i++;
      if (i === n.bytes.length) return s;
    }
  return -1;
}

test("a block of the shared memory is searched in place, to its last byte", () => {
  const block = takeSharedBlock();
  assert.ok(block, "the shared memory has free blocks");
  assert.equal(block.buffer, blockMemory()?.buffer);
  try {
    const needles = [
      needle("raw.githubusercontent.com", true),
      needle("\\u00", false),
      needle("3cx ltd", true),
    ];
    const f = teddyFinder(needles);
    assert.ok(f);
    // Bytes past a range's end are garbage a search may read but must not match.
    block.fill("x.y-");
    const tail = "RAW.GitHubUserContent.com";
    block.write(tail, BLOCK_BYTES - tail.length, "latin1");
    block.write("3CX Ltd", 1_000_000, "latin1");
    block.write("\\u0041", 3_000_000, "latin1");
    for (const [from, end] of [
      [0, BLOCK_BYTES],
      [1_000_001, BLOCK_BYTES],
      [3_000_001, BLOCK_BYTES],
      [3_000_001, BLOCK_BYTES - 1],
      [0, 1_000_006],
      [999_990, 1_000_007],
    ])
      assert.equal(f.find(block, from, end), naive(needles, block, from, end), `[${from}, ${end})`);
    const placed = (f as unknown as { placed?: { memory: Uint8Array } }).placed;
    assert.equal(placed?.memory.buffer, block.buffer, "the finder's tables are in the shared memory");
    // A subarray of a block (as the reader passes) is searched in place too, offsets relative to it.
    const view = block.subarray(999_000, 1_001_000);
    assert.equal(f.find(view, 0, view.length), 1000);
    // Past the verification budget (every position almost matches), the automaton finishes in place.
    const hostile = [needle(`${"a".repeat(40)}b`, false), needle(`${"a".repeat(41)}c`, true)];
    const g = teddyFinder(hostile, { maxCandidateRate: 1 });
    assert.ok(g);
    block.fill("a", 0, 200_000);
    block.write(`${"a".repeat(41)}C`, 150_000, "latin1");
    assert.equal(g.find(block, 0, 200_000), naive(hostile, block, 0, 200_000));
    assert.ok((g as unknown as { fallback?: unknown }).fallback, "the budget ran out");
  } finally {
    assert.equal(giveSharedBlock(block), true);
  }
  assert.equal(giveSharedBlock(Buffer.alloc(BLOCK_BYTES)), false, "not a shared block");
});

test("the reader's prefiltered events are the same with blocks in the shared memory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quarry-teddy-"));
  try {
    const lines: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const name =
        i % 997 === 0
          ? "RAW.githubusercontent.com"
          : i % 1009 === 0
            ? "raw.githubuserc\\u006fntent.com"
            : `host${i}.example`;
      lines.push(
        `{"@timestamp":"2023-03-29T00:00:00Z","event":{"category":"network"},"dns":{"question":{"name":"${name}"}},"pad":"${"p".repeat(i % 300)}"}`,
      );
    }
    const file = join(dir, "events.ndjson");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const text = 'network where dns.question.name : "raw.githubusercontent.com"';
    const query = compileEql(text);
    const prefilter = prefilterForEql(query.query);
    assert.ok(prefilter);
    const names = async (withPrefilter: boolean) => {
      const out: string[] = [];
      for await (const batch of readEvents([file], withPrefilter ? { prefilter } : {}))
        for (const e of batch) {
          const dns = (e.source.dns as { question: { name: string } }).question.name;
          if (dns.toLowerCase() === "raw.githubusercontent.com") out.push(`${e.provenance.line}`);
        }
      return out;
    };
    const all = await names(false);
    assert.ok(all.length > 50);
    assert.deepEqual(await names(true), all);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every free region of the shared memory (the test gives them back). */
function takeAllRegions(): number[] {
  const taken: number[] = [];
  for (let r = reserveRegion(); r !== undefined; r = reserveRegion()) taken.push(r);
  return taken;
}

test("with the shared regions taken and no memory to be had, the JavaScript search answers", () => {
  const taken = takeAllRegions();
  const original = WebAssembly.Memory;
  (WebAssembly as { Memory: unknown }).Memory = class {
    constructor() {
      throw new RangeError("WebAssembly.Memory(): could not allocate memory");
    }
  };
  try {
    const needles = [needle("raw.githubusercontent.com", true), needle("\\u00", false)];
    const f = teddyFinder(needles);
    assert.ok(f);
    const text = Buffer.from('{"a":"x"}\n{"dns":"RAW.githubusercontent.com"}\n');
    assert.equal(f.find(text, 0, text.length), naive(needles, text, 0, text.length));
    assert.equal(f.lastNeedle, 0);
    const placed = (f as unknown as { placed?: object }).placed;
    assert.ok(placed && !("wasm" in placed), "the JavaScript search took over");
    assert.equal(f.find(text, 20, text.length), -1);
  } finally {
    (WebAssembly as { Memory: unknown }).Memory = original;
    for (const r of taken) releaseRegion(r);
  }
});

test("a shared region that held other tables is cleared before a finder writes its own", () => {
  const taken = takeAllRegions();
  const memory = blockMemory();
  assert.ok(memory && taken.length > 0);
  // A collected finder's leftovers: every table byte set.
  const reused = taken.pop() as number;
  new Uint8Array(memory.buffer).fill(0xff, reused, reused + 65536);
  releaseRegion(reused);
  try {
    const needles = [needle("evil.example", true), needle("3cx ltd", true)];
    const f = teddyFinder(needles);
    assert.ok(f);
    const text = Buffer.from('{"a":"benign text here"}\n{"b":"www.EVIL.example"}\n');
    assert.equal(f.find(text, 0, text.length), naive(needles, text, 0, text.length));
    assert.equal(f.lastNeedle, 0);
    const placed = (f as unknown as { placed?: { base: number } }).placed;
    assert.equal(placed?.base, reused, "the finder took the reused region");
  } finally {
    for (const r of taken) releaseRegion(r);
  }
});
