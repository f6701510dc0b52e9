/**
 * Differential test over the simulator's output with the 3CX pack's own rules: every rule finds the same
 * hits with and without its prefilter, and the union of all the pack's prefilters keeps every hit too.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse as parseToml } from "smol-toml";
import { compileEql } from "../../src/eql/index.js";
import { readEvents } from "../../src/events/index.js";
import type { EventRecord } from "../../src/events/types.js";
import { compileKqlAst, parseKql } from "../../src/kql/index.js";
import type { LinePrefilter } from "../../src/prefilter/index.js";
import { prefilterForEql, prefilterForKql, unionPrefilters } from "../../src/prefilter/index.js";
import type { CompiledQuery } from "../../src/query/index.js";
import { simulateLines } from "../../src/simulate/index.js";
import { tempDir } from "../helpers/tmp.js";
import { differential, hitsOf, keptLines, toEvents } from "./harness.js";

const RULES = join(import.meta.dirname, "..", "..", "..", "packs", "3cx", "rules");

interface PackRule {
  readonly name: string;
  readonly query: CompiledQuery;
  readonly prefilter: LinePrefilter | undefined;
}

function loadRules(): PackRule[] {
  const out: PackRule[] = [];
  for (const file of readdirSync(RULES)
    .filter((f) => f.endsWith(".toml"))
    .sort()) {
    const doc = parseToml(readFileSync(join(RULES, file), "utf8")) as {
      rule: { language: string; query: string };
    };
    const { language, query: text } = doc.rule;
    if (language === "eql") {
      const q = compileEql(text);
      out.push({ name: file, query: q, prefilter: prefilterForEql(q.query) });
    } else {
      const ast = parseKql(text);
      out.push({ name: file, query: compileKqlAst(ast, {}, text), prefilter: prefilterForKql(ast) });
    }
  }
  return out;
}

test("3CX pack over simulated telemetry: identical hits with and without each rule's prefilter", () => {
  const lines = [...simulateLines({ seed: 3, hosts: 6, days: 10, activityRate: 8 })];
  const rules = loadRules();
  assert.equal(rules.length, 15);
  let totalHits = 0;
  let filtered = 0;
  for (const rule of rules) {
    const r = differential(rule.query, rule.prefilter, lines);
    assert.deepEqual(r.filtered, r.all, `${rule.name}: ${rule.prefilter?.description}`);
    totalHits += r.all.length;
    if (rule.prefilter) {
      filtered++;
      assert.ok(r.kept < lines.length, `${rule.name}: the prefilter kept every line`);
    }
  }
  assert.ok(totalHits > 10, `only ${totalHits} hits: the dataset must exercise the rules`);
  assert.ok(filtered >= 12, `only ${filtered} of 15 rules have a prefilter`);

  // The pack as one hunt: the union keeps every line any rule needs.
  const union = unionPrefilters(rules.map((r) => r.prefilter));
  if (union) {
    const kept = keptLines(union, lines);
    const events = toEvents(lines);
    const some = events.filter((e) => kept[e.seq]);
    for (const rule of rules)
      assert.deepEqual(hitsOf(rule.query, some), hitsOf(rule.query, events), rule.name);
  }
});

test("through the event reader: the same events reach each rule with and without its prefilter", async () => {
  // The reader reuses its block memory and carries partial lines across blocks: the real path.
  const lines = [...simulateLines({ seed: 5, hosts: 4, days: 9, activityRate: 6 })];
  const file = tempDir("quarry-prefilter-").file("sim.ndjson", `${lines.join("\n")}\n`);
  const read = async (prefilter: LinePrefilter | undefined): Promise<EventRecord[]> => {
    const out: EventRecord[] = [];
    for await (const batch of readEvents([file], { prefilter })) out.push(...batch);
    return out;
  };
  const all = await read(undefined);
  assert.equal(all.length, lines.length);
  const id = (e: EventRecord) => e.id;
  let hits = 0;
  for (const rule of loadRules()) {
    if (!rule.prefilter) continue;
    const some = await read(rule.prefilter);
    assert.ok(some.length < all.length, rule.name);
    const expected = hitsOf(rule.query, all, id);
    assert.deepEqual(hitsOf(rule.query, some, id), expected, rule.name);
    hits += expected.length;
  }
  assert.ok(hits > 5, `only ${hits} hits`);
});
