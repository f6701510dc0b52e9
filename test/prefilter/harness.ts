/**
 * Differential harness: run a compiled query over every line, and over only the lines a prefilter keeps
 * (found the way the event reader finds them: `next()` over a block, then `line()` on the hit's line).
 */
import { compareEventsForEql } from "../../src/eql/index.js";
import { parseJsonLossless } from "../../src/events/json.js";
import type { EventRecord, JsonObject } from "../../src/events/types.js";
import type { LinePrefilter } from "../../src/prefilter/index.js";
import type { CompiledQuery } from "../../src/query/index.js";

/** Which lines survive the prefilter, reading `lines` in blocks of at most `blockBytes` whole lines. */
export function keptLines(pf: LinePrefilter, lines: readonly string[], blockBytes = 1 << 20): boolean[] {
  const kept = new Array<boolean>(lines.length).fill(false);
  let i = 0;
  while (i < lines.length) {
    // One block of whole lines (at least one line), reusing nothing: a fresh Buffer per block.
    const first = i;
    let size = 0;
    const parts: Buffer[] = [];
    while (i < lines.length && (i === first || size + Buffer.byteLength(lines[i]) + 1 <= blockBytes)) {
      const b = Buffer.from(`${lines[i]}\n`, "utf8");
      parts.push(b);
      size += b.length;
      i++;
    }
    const block = Buffer.concat(parts);
    const starts: number[] = [];
    let at = 0;
    for (const p of parts) {
      starts.push(at);
      at += p.length;
    }
    let from = 0;
    while (from < block.length) {
      const hit = pf.next(block, from, block.length);
      if (hit < 0) break;
      if (hit < from || hit >= block.length)
        throw new Error(`next() returned ${hit} outside [${from}, ${block.length})`);
      const lineStart = block.lastIndexOf(0x0a, hit - 1) + 1;
      const nl = block.indexOf(0x0a, lineStart);
      const index = first + starts.indexOf(lineStart);
      if (pf.line(block, lineStart, nl)) kept[index] = true;
      from = nl + 1;
    }
  }
  return kept;
}

/** Events as the reader would build them (one per line, in input order). */
export function toEvents(lines: readonly string[]): EventRecord[] {
  return lines.map((raw, seq) => ({
    source: parseJsonLossless(raw) as JsonObject,
    raw,
    index: "test",
    id: String(seq + 1),
    provenance: { file: "test", line: seq + 1 },
    seq,
  }));
}

/** The hits of a query over events, as lists of event seqs (null for a missing event). */
export function hitsOf(
  query: CompiledQuery,
  events: readonly EventRecord[],
  label: (e: EventRecord) => string = (e) => String(e.seq),
): string[] {
  const ordered = query.needsTimeOrder ? [...events].sort(compareEventsForEql()) : events;
  const run = query.start();
  const out: string[] = [];
  const record = (hits: readonly import("../../src/query/index.js").QueryHit[] | undefined) => {
    for (const h of hits ?? []) {
      out.push(h.kind === "event" ? label(h.event) : h.events.map((e) => (e ? label(e) : "-")).join(","));
    }
  };
  for (const e of ordered) record(run.push(e));
  record(run.finish());
  return out;
}

/** Hits over all events and over the kept events only; also every line `line()` alone accepts. */
export function differential(
  query: CompiledQuery,
  pf: LinePrefilter | undefined,
  lines: readonly string[],
  blockBytes?: number,
): { all: string[]; filtered: string[]; kept: number } {
  const events = toEvents(lines);
  const all = hitsOf(query, events);
  if (!pf) return { all, filtered: all, kept: lines.length };
  const kept = keptLines(pf, lines, blockBytes);
  const filtered = hitsOf(
    query,
    events.filter((e) => kept[e.seq]),
  );
  return { all, filtered, kept: kept.filter(Boolean).length };
}
