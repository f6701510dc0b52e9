/** Helpers for the EQL engine tests: one-liner semantic checks over in-memory events. */
import assert from "node:assert/strict";
import { compileEql, type EqlOptions } from "../../src/eql/index.js";
import type { EventRecord, JsonObject } from "../../src/events/types.js";
import type { QueryHit } from "../../src/query/index.js";

export function event(source: JsonObject, seq = 0): EventRecord {
  return {
    source,
    raw: JSON.stringify(source),
    index: "test",
    id: String(seq),
    provenance: { file: "test" },
    seq,
  };
}

/** `any where <condition>` unless the text already names a category. */
function asQuery(text: string): string {
  return /\bwhere\b/.test(text) ? text : `any where ${text}`;
}

export function matches(query: string, source: JsonObject, options?: EqlOptions): void {
  const q = compileEql(asQuery(query), options);
  assert.ok(q.matches?.(event(source)), `expected a match: ${query} on ${JSON.stringify(source)}`);
}

export function noMatch(query: string, source: JsonObject, options?: EqlOptions): void {
  const q = compileEql(asQuery(query), options);
  assert.equal(q.matches?.(event(source)), false, `expected no match: ${query} on ${JSON.stringify(source)}`);
}

/** Run a query over events (already in order); returns hits. */
export function runAll(query: string, sources: readonly JsonObject[], options?: EqlOptions): QueryHit[] {
  const q = compileEql(query, options);
  const run = q.start();
  const hits: QueryHit[] = [];
  for (const [i, s] of sources.entries()) hits.push(...(run.push(event(s, i)) ?? []));
  hits.push(...run.finish());
  return hits;
}

/** Hits as lists of `id` fields (-1 for a missing event). */
export function ids(hits: readonly QueryHit[]): number[][] {
  return hits.map((h) =>
    h.kind === "event" ? [Number(h.event.source.id)] : h.events.map((e) => (e ? Number(e.source.id) : -1)),
  );
}
