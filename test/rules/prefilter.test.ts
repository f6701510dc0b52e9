/**
 * A hunt with its literal prefilter gives exactly the alerts of a hunt that parses every line: the 3CX
 * pack (event rules, sequences, IOC lists) over simulated fleets, and the input's time span ("now") kept
 * from lines the prefilter skipped.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readEvents } from "../../src/events/index.js";
import { Hunt, huntOptionsFor, loadRuleSet, runHunt } from "../../src/rules/index.js";
import { ecsSchema } from "../../src/schema/index.js";
import { writeSimulatedFile } from "../../src/simulate/index.js";
import { tempDir } from "../helpers/tmp.js";

const tmp = tempDir();

async function huntBoth(path: string) {
  const set = await loadRuleSet({ rules: ["3cx"] });
  const hunt = new Hunt(huntOptionsFor(set, { schema: ecsSchema() }));
  const prefilter = hunt.linePrefilter();
  assert.ok(prefilter, "every 3CX rule and IOC list has a prefilter");
  const full = await runHunt(hunt, [path], {});
  const filtered = await runHunt(hunt, [path], { prefilter, keepTimeBounds: true });
  return { full, filtered };
}

for (const seed of [5, 77]) {
  test(`seed ${seed}: the 3CX pack's alerts are identical with and without its prefilter`, async () => {
    const path = `${tmp.dir}/fleet-${seed}.ndjson`;
    await writeSimulatedFile(path, { seed, hosts: 60, days: 9, infected: 8, bytes: 6_000_000 });
    const { full, filtered } = await huntBoth(path);
    assert.ok(full.result.alerts.length > 0);
    assert.ok(filtered.summary.prefiltered > filtered.summary.events, "most lines are ruled out unparsed");
    assert.deepEqual(filtered.result.alerts, full.result.alerts);
    assert.deepEqual(filtered.result.now, full.result.now);
    assert.deepEqual(filtered.result.start, full.result.start);
  });
}

test("keepTimeBounds: skipped lines count with their leading timestamp; others are decoded", async () => {
  const lines = [
    '{"@timestamp":"2023-03-29T10:00:00.000Z","m":"needle"}',
    '{"@timestamp":"2023-03-01T00:00:00.000Z","m":"hay"}', // skipped, earliest
    '{"@timestamp":1680300000000,"m":"hay"}', // skipped, epoch millis, latest
    '{"m":"hay","@timestamp":"2023-04-02T00:00:00.000Z"}', // timestamp not first: decoded
    '{"@timestamp":"2023-03-30T00:00:00.000Z","m":"hay"}',
    // 24 characters like the canonical form, but with an offset: 2023-02-28T23:30Z, the earliest.
    '{"@timestamp":"2023-03-01T00:30:00+0100","m":"hay"}',
  ];
  const path = tmp.file("bounds.ndjson", `${lines.join("\n")}\n`);
  const needle = Buffer.from("needle");
  const prefilter = {
    next: (buf: Buffer, from: number, end: number) => {
      const at = buf.indexOf(needle, from);
      return at >= 0 && at < end ? at : -1;
    },
    line: (buf: Buffer, start: number, end: number) => {
      const at = buf.indexOf(needle, start);
      return at >= 0 && at < end;
    },
    description: "needle",
  };
  const stream = readEvents([path], { prefilter, keepTimeBounds: true });
  const seen: unknown[] = [];
  for await (const batch of stream) for (const e of batch) seen.push(e.provenance.line);
  assert.deepEqual(seen, [1, 4]);
  assert.equal(stream.summary.prefiltered, 4);
  assert.equal(stream.summary.minTime?.ms, Date.parse("2023-02-28T23:30:00.000Z"));
  assert.equal(stream.summary.maxTime?.ms, Date.parse("2023-04-02T00:00:00.000Z"));
});
