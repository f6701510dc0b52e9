/**
 * Runner for Elasticsearch's `sequences.series-spec` format (sequence-matcher specs): a spec is a name,
 * one line of events per stage (`A1` is an event at time 1; `k|A1` gives it join key `k`), `;`, then the
 * expected sequences one per line, `;`. `//` lines are comments. Each spec runs through `compileEql`
 * as `sequence by key [any where stage == 0] [any where stage == 1] ...` over the events in time order.
 */
import { compileEql } from "../../src/eql/index.js";
import type { EventRecord } from "../../src/events/types.js";
import type { CaseResult, SuiteReport } from "../conformance/harness.js";

export interface SeriesSpec {
  readonly name: string;
  readonly stages: readonly (readonly SpecEvent[])[];
  /** Expected sequences: event names in stage order. */
  readonly expected: readonly (readonly string[])[];
}

export interface SpecEvent {
  readonly name: string;
  readonly time: number;
  readonly key: string;
}

function parseToken(token: string): SpecEvent {
  const bar = token.indexOf("|");
  const key = bar >= 0 ? token.slice(0, bar) : "";
  const name = bar >= 0 ? token.slice(bar + 1) : token;
  const m = /(\d+)$/.exec(name);
  if (!m) throw new Error(`series-spec: token without a number: ${token}`);
  return { name, time: Number(m[1]), key };
}

export function parseSeriesSpecs(text: string): SeriesSpec[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("//"));
  const specs: SeriesSpec[] = [];
  let i = 0;
  while (i < lines.length) {
    const name = lines[i++];
    const stages: SpecEvent[][] = [];
    while (i < lines.length && lines[i] !== ";") stages.push(lines[i++].split(/\s+/).map(parseToken));
    i++;
    const expected: string[][] = [];
    while (i < lines.length && lines[i] !== ";")
      expected.push(lines[i++].split(/\s+/).map((t) => parseToken(t).name));
    i++;
    specs.push({ name, stages, expected });
  }
  return specs;
}

/** Run one spec; returns the sequences found (event names per sequence). */
export function runSeriesSpecCase(spec: SeriesSpec): string[][] {
  const query = `sequence by key ${spec.stages.map((_, s) => `[any where stage == ${s}]`).join(" ")}`;
  const compiled = compileEql(query);
  const events: EventRecord[] = [];
  spec.stages.forEach((line, stage) => {
    for (const e of line) {
      events.push({
        source: { "@timestamp": e.time, stage, key: e.key, name: e.name },
        raw: "",
        index: "spec",
        id: e.name,
        provenance: { file: "spec" },
        seq: events.length,
      });
    }
  });
  events.sort((a, b) => Number(a.source["@timestamp"]) - Number(b.source["@timestamp"]) || a.seq - b.seq);
  const run = compiled.start();
  const found: string[][] = [];
  const collect = (hits: ReturnType<typeof run.finish> | undefined) => {
    for (const hit of hits ?? []) {
      if (hit.kind === "sequence") found.push(hit.events.map((e) => (e ? String(e.source.name) : "-")));
    }
  };
  for (const e of events) collect(run.push(e));
  collect(run.finish());
  return found;
}

export function runSeriesSpec(text: string): SuiteReport {
  const cases: CaseResult[] = parseSeriesSpecs(text).map((spec) => {
    try {
      const found = runSeriesSpecCase(spec);
      const same =
        found.length === spec.expected.length &&
        found.every(
          (seq, i) =>
            seq.length === spec.expected[i].length && seq.every((n, j) => n === spec.expected[i][j]),
        );
      return same
        ? { name: spec.name, status: "passed" }
        : {
            name: spec.name,
            status: "failed",
            reason: `found ${found.map((s) => s.join(" ")).join(" | ")}; expected ${spec.expected.map((s) => s.join(" ")).join(" | ")}`,
          };
    } catch (error) {
      return { name: spec.name, status: "failed", reason: String(error) };
    }
  });
  return { suite: "eql/es/sequences.series-spec", cases };
}
