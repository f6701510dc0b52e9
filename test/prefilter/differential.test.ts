/**
 * Differential property tests: a query finds the same hits over every line and over only the lines its
 * prefilter keeps, for generated events (random escapes, dotted/nested keys, arrays, case, unicode) and
 * generated EQL and KQL queries (event queries, sequences with `until` and missing stages, samples).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileEql } from "../../src/eql/index.js";
import { compileKqlAst, parseKql } from "../../src/kql/index.js";
import { prefilterForEql, prefilterForKql, unionPrefilters } from "../../src/prefilter/index.js";
import type { CompiledQuery } from "../../src/query/index.js";
import fc from "../fc.js";
import { eqlQueryArb, eventArb, kqlQueryArb, linesOf } from "./generators.js";
import { differential, hitsOf, keptLines, toEvents } from "./harness.js";

const RUNS = 400;

function tryCompile<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

test("EQL: hits with and without the prefilter are identical (generated events and queries)", () => {
  let compiled = 0;
  let filtered = 0;
  let withHits = 0;
  fc.assert(
    fc.property(
      eqlQueryArb,
      fc.array(eventArb, { minLength: 1, maxLength: 25 }),
      fc.nat(300),
      (text, events, block) => {
        const query = tryCompile(() => compileEql(text));
        if (!query) return;
        compiled++;
        const pf = prefilterForEql(query.query);
        if (pf) filtered++;
        const lines = linesOf(events);
        const r = differential(query, pf, lines, 1 + block * 10);
        if (r.all.length > 0) withHits++;
        assert.deepEqual(r.filtered, r.all, `${text}\n${pf?.description}\n${lines.join("\n")}`);
      },
    ),
    { numRuns: RUNS },
  );
  // The generators must exercise the interesting case: compiled queries with a prefilter that had hits.
  assert.ok(compiled > RUNS / 2, `only ${compiled} queries compiled`);
  assert.ok(filtered > RUNS / 4, `only ${filtered} prefilters`);
  assert.ok(withHits > RUNS / 20, `only ${withHits} runs with hits`);
});

test("KQL: hits with and without the prefilter are identical (generated events and queries)", () => {
  let compiled = 0;
  let filtered = 0;
  let withHits = 0;
  fc.assert(
    fc.property(
      kqlQueryArb,
      fc.array(eventArb, { minLength: 1, maxLength: 25 }),
      fc.boolean(),
      (text, events, ci) => {
        const ast = tryCompile(() => parseKql(text));
        if (!ast) return;
        const query = tryCompile(() => compileKqlAst(ast, { caseInsensitive: ci }, text));
        if (!query) return;
        compiled++;
        const pf = prefilterForKql(ast, { caseInsensitive: ci });
        if (pf) filtered++;
        const lines = linesOf(events);
        const r = differential(query, pf, lines);
        if (r.all.length > 0) withHits++;
        assert.deepEqual(r.filtered, r.all, `${text}\n${pf?.description}\n${lines.join("\n")}`);
      },
    ),
    { numRuns: RUNS },
  );
  assert.ok(compiled > RUNS / 2, `only ${compiled} queries compiled`);
  assert.ok(filtered > RUNS / 4, `only ${filtered} prefilters`);
  assert.ok(withHits > RUNS / 20, `only ${withHits} runs with hits`);
});

test("union: every query of a set keeps its hits under the union of the prefilters", () => {
  let checked = 0;
  fc.assert(
    fc.property(
      fc.array(eqlQueryArb, { minLength: 2, maxLength: 4 }),
      fc.array(eventArb, { minLength: 1, maxLength: 20 }),
      (texts, events) => {
        const queries = texts.map((t) => tryCompile(() => compileEql(t))).filter((q) => q !== undefined);
        if (queries.length === 0) return;
        const union = unionPrefilters(queries.map((q) => prefilterForEql(q.query)));
        if (!union) return;
        checked++;
        const lines = linesOf(events);
        const kept = keptLines(union, lines);
        const all = toEvents(lines);
        const some = all.filter((e) => kept[e.seq]);
        for (const q of queries as CompiledQuery[]) assert.deepEqual(hitsOf(q, some), hitsOf(q, all));
      },
    ),
    { numRuns: 150 },
  );
  assert.ok(checked > 10, `only ${checked} unions checked`);
});
