/**
 * A rule-sharded hunt (each worker runs a shard of the rules over the whole input) gives exactly what one
 * pass gives: the same alerts in the same order, the same "now", the same input summary, each input issue
 * reported once, and every rule's counts.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { renderDiagnostic } from "../../src/diagnostics/index.js";
import type { InputIssue } from "../../src/events/index.js";
import {
  assignShards,
  type HuntThreading,
  MIN_RULES_TO_SHARD,
  runHuntParallel,
} from "../../src/parallel/hunt.js";
import { type HuntSettings, runHuntSharded } from "../../src/parallel/index.js";
import type { HuntSpec } from "../../src/parallel/protocol.js";
import { Hunt, huntOptionsFor, loadRuleSet, runHunt } from "../../src/rules/index.js";
import { ecsSchema } from "../../src/schema/index.js";
import { writeSimulatedFile } from "../../src/simulate/index.js";
import { tempDir } from "../helpers/tmp.js";
import { ruleToml } from "../rules/fixtures.js";

const tmp = tempDir();

async function fleet(seed: number): Promise<string> {
  const path = `${tmp.dir}/shards-${seed}.ndjson`;
  await writeSimulatedFile(path, { seed, hosts: 40, days: 9, infected: 6, bytes: 3_000_000 });
  // Malformed lines: each must be reported once, by one shard.
  appendFileSync(path, 'not json\n{"@timestamp": \n');
  return path;
}

async function compare(path: string, shards: number, settings: HuntSettings): Promise<void> {
  const set = await loadRuleSet({ rules: ["3cx"] });
  const make = () => new Hunt(huntOptionsFor(set, { schema: ecsSchema(), ...settings }));
  const singleIssues: InputIssue[] = [];
  const single = await runHunt(make(), [path], { onIssue: (i) => singleIssues.push(i) });
  const shardedIssues: InputIssue[] = [];
  let progress = 0;
  const hunt = make();
  const sharded = await runHuntSharded(
    hunt,
    { language: "hunt", rules: ["3cx"] },
    settings,
    [path],
    { onIssue: (i) => shardedIssues.push(i) },
    shards,
    (n) => {
      progress += n;
    },
  );
  assert.ok(single.result.alerts.length > 0);
  assert.deepEqual(sharded.result.alerts, single.result.alerts);
  assert.deepEqual(sharded.result.now, single.result.now);
  assert.deepEqual(sharded.result.start, single.result.start);
  assert.deepEqual(sharded.summary, single.summary);
  assert.equal(sharded.sorted, single.sorted);
  assert.deepEqual(shardedIssues, singleIssues);
  assert.equal(singleIssues.length, 2);
  assert.equal(progress, single.summary.events);
  const counts = (rules: typeof single.result.rules) =>
    rules.map((r) => [r.rule.ruleId, r.status, r.alerts, r.truncated, r.evaluated]);
  assert.deepEqual(counts(sharded.result.rules), counts(single.result.rules));
}

test("two shards: the 3CX pack's alerts, summary and issues are those of one pass", async () => {
  await compare(await fleet(5), 2, {});
});

test("three shards, replayed schedule: the same as one pass", async () => {
  await compare(await fleet(77), 3, { schedule: true });
});

test("assignShards: every rule gets a shard, IOC lists share one, costs are balanced", async () => {
  const set = await loadRuleSet({ rules: ["3cx"] });
  const hunt = new Hunt(huntOptionsFor(set, { schema: ecsSchema() }));
  const costs = new Float64Array(hunt.compiled.length);
  for (const c of hunt.compiled) costs[c.index] = c.rule.type === "ioc" ? 1 : c.index % 4;
  const owners = assignShards(hunt, costs, 2);
  assert.equal(owners.length, hunt.reports.length);
  const iocOwners = new Set(
    hunt.compiled.filter((c) => c.rule.type === "ioc").map((c) => owners[hunt.reports.indexOf(c.report)]),
  );
  assert.equal(iocOwners.size, 1);
  const load = [0, 0];
  for (const c of hunt.compiled) load[owners[hunt.reports.indexOf(c.report)]] += costs[c.index];
  assert.ok(Math.abs(load[0] - load[1]) <= 3, `loads ${load}`);
});

test("a default thread count on two cores shards only an input large enough to repay the shards' start", async () => {
  const dir = `${tmp.dir}/many-rules`;
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < MIN_RULES_TO_SHARD; i++)
    writeFileSync(
      `${dir}/rule-${i}.toml`,
      ruleToml({ query: i === 0 ? 'event.category : "process"' : `process.name : "p${i}.exe"` }),
    );
  const set = await loadRuleSet({ rules: [dir] });
  const hunt = () => new Hunt(huntOptionsFor(set, { schema: ecsSchema() }));
  const path = await fleet(9);
  // Workers told to load rules that do not exist fail the run: a run that succeeds started no shard.
  const unworkable: HuntSpec = { language: "hunt", rules: [`${tmp.dir}/no-such-rules`] };
  const run = (threading: HuntThreading) =>
    runHuntParallel(hunt(), unworkable, {}, [path], { onIssue: () => {} }, threading);
  const single = await runHunt(hunt(), [path], { onIssue: () => {} });
  assert.ok(single.result.alerts.length > 0);
  const small = await run({ threads: 2, adaptive: true, prefilter: undefined });
  assert.deepEqual(small.result.alerts, single.result.alerts);
  assert.deepEqual(small.summary, single.summary);
  // The same input counted as large enough, or two threads asked for: shards start (and fail here).
  await assert.rejects(run({ threads: 2, adaptive: true, prefilter: undefined, minShardBytes: 1000 }));
  await assert.rejects(run({ threads: 2, prefilter: undefined }));
});

test("a rule stopped at its state cap, or skipping an event, in a shard is reported as one pass reports it", async () => {
  const dir = `${tmp.dir}/state-rules`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    `${dir}/seq.toml`,
    ruleToml({
      type: "eql",
      name: "Start then network",
      query: 'sequence by process.pid [process where event.type == "start"] [network where true]',
    }),
  );
  writeFileSync(`${dir}/any.toml`, ruleToml({ name: "Any process", query: 'event.category : "process"' }));
  writeFileSync(
    `${dir}/args.toml`,
    ruleToml({
      type: "eql",
      name: "Same args twice",
      query: "sequence by process.args [process where true] [process where true]",
    }),
  );
  // First, one event with 2,000 join-key combinations for "Same args twice": skipped by that rule alone
  // (later, its pending state passes the cap and it stops too).
  const path = `${tmp.dir}/state-fleet.ndjson`;
  writeFileSync(
    path,
    `${JSON.stringify({
      "@timestamp": "2000-01-01T00:00:00Z",
      event: { category: ["process"], type: ["start"] },
      process: { name: "x.exe", args: Array.from({ length: 2000 }, (_, i) => `a${i}`) },
    })}\n${readFileSync(await fleet(21), "utf8")}`,
  );
  const settings: HuntSettings = { maxPendingState: 50 };
  const set = await loadRuleSet({ rules: [dir] });
  const make = () => new Hunt(huntOptionsFor(set, { schema: ecsSchema(), ...settings }));
  const single = await runHunt(make(), [path], { onIssue: () => {} });
  const sharded = await runHuntSharded(
    make(),
    { language: "hunt", rules: [dir] },
    settings,
    [path],
    { onIssue: () => {} },
    2,
  );
  const view = (rules: typeof single.result.rules) =>
    rules.map((r) => [
      r.rule.name,
      r.status,
      r.stopped ?? false,
      r.reason,
      r.alerts,
      r.skippedEvents,
      r.skipReason,
      // The diagnostic crosses from the shard: its code, title and rendering (with the rule's query).
      r.diagnostic?.diagnostic.code,
      r.diagnostic?.diagnostic.title,
      r.diagnostic ? renderDiagnostic(r.diagnostic.diagnostic, r.diagnostic.sourceText) : undefined,
    ]);
  assert.equal(single.result.rules.find((r) => r.rule.name === "Start then network")?.stopped, true);
  assert.equal(single.result.rules.find((r) => r.rule.name === "Same args twice")?.skippedEvents, 1);
  assert.deepEqual(view(sharded.result.rules), view(single.result.rules));
  assert.deepEqual(sharded.result.alerts, single.result.alerts);
});
