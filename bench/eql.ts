/**
 * EQL bench rows and a per-event cost probe.
 *
 * Rows (run by bench/measure.ts over the whole dataset, the real public path):
 * - `eqlFilter`: `readEvents` + `compileEql` of a single-event filter, events pushed in input order.
 * - `eqlSequence3`: the 3CX pack's 3-stage `sequence by host.name, process.entity_id`, read in time
 *   order with `readInTimeOrder` as the `query` CLI does.
 *
 * Probe (`node dist/bench/eql.js [file] [lines]`): reads the first lines of the dataset into memory
 * once, then alternates timing `JSON.parse` of every line (the baseline) with the engine over the
 * same parsed events, best of 3, and prints each query's cost per event and its ratio to `JSON.parse`.
 * A shared 2-core machine is noisy; ratios measured inside one process are what to compare.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { compileEql } from "../src/eql/index.js";
import { type EventRecord, readEvents, readInTimeOrder } from "../src/events/index.js";
import type { QueryRun } from "../src/query/index.js";
import { HitCounter } from "./counter.js";

/** Hunt 1 of the 3CX pack, the shape of most single-event rules: a category, a `:` and an `==`. */
export const FILTER_QUERY =
  'process where process.name : "3CXDesktopApp.exe" and process.code_signature.subject_name == "3CX Ltd"';

/** Hunt 6 of the 3CX pack (packs/3cx/rules/hunt6_3cx_ffmpeg_then_raw_githubusercontent_sequence.toml). */
export const SEQUENCE_QUERY = `sequence by host.name, process.entity_id
  [process where process.code_signature.subject_name : "3CX Ltd"]
  [library where dll.hash.sha256 : ("c485674ee63ec8d4e8fde9800788175a8b02d3f9416d0e763360fff7f8eb4e02",
                                    "7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896")]
  [network where dns.question.name : "raw.githubusercontent.com"]`;

function queryArg(args: Record<string, unknown>, fallback: string): string {
  return typeof args.query === "string" ? args.query : fallback;
}

/** Single-event filter over the whole file, input order. `args.query` overrides the query. */
export async function eqlFilter(
  file: string,
  args: Record<string, unknown>,
): Promise<{ events: number; hits: number }> {
  const counter = new HitCounter(compileEql(queryArg(args, FILTER_QUERY)).start());
  for await (const batch of readEvents([file], {})) counter.push(batch);
  return counter.finish();
}

/** The 3-stage sequence over the whole file in time order (as `quarry query` reads it). */
export async function eqlSequence3(
  file: string,
  args: Record<string, unknown>,
): Promise<{ events: number; hits: number }> {
  const query = compileEql(queryArg(args, SEQUENCE_QUERY));
  const { consumer } = await readInTimeOrder([file], {}, {}, () => new HitCounter(query.start()));
  return consumer.finish();
}

// ---------------------------------------------------------------------------------------------------
// Cost probe

/** Queries the probe times: the two rows' queries and corpus-like shapes (`like~`, `in~`, functions). */
export const PROBE_QUERIES: Readonly<Record<string, string>> = {
  filter: FILTER_QUERY,
  network: 'network where dns.question.name : "raw.githubusercontent.com"',
  likeIn:
    'process where event.type == "start" and process.parent.name in~ ("winword.exe", "excel.exe", "outlook.exe") and process.name like~ ("cmd.exe", "*powershell*", "rundll32.exe")',
  wildcards:
    'file where file.path : ("*\\\\AppData\\\\Roaming\\\\*", "*\\\\Temp\\\\*.dll") and not file.name : "*.tmp"',
  functions:
    'process where startsWith~(process.executable, "C:\\\\Windows") and length(process.command_line) > 200 and endsWith(process.name, ".exe")',
  anyOr:
    'any where dns.question.name : "*.githubusercontent.com" or url.domain : "sbmsa.wiki" or destination.ip == "10.0.0.0/8"',
  sequence: SEQUENCE_QUERY,
};

async function readLines(file: string, max: number): Promise<string[]> {
  const lines: string[] = [];
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    if (line.length > 0) lines.push(line);
    if (lines.length >= max) break;
  }
  rl.close();
  return lines;
}

// The reader yields batches of 64 events mid-block: evaluation sees them while they are warm.
const BATCH = 64;

function toEvent(raw: string, file: string, seq: number): EventRecord {
  return {
    source: JSON.parse(raw) as EventRecord["source"],
    raw,
    index: file,
    id: String(seq + 1),
    provenance: { file, line: seq + 1 },
    seq,
  };
}

type Compile = (text: string) => { start(): QueryRun };

/**
 * One pass as the pipeline runs: each batch of lines is parsed (timed: the baseline), then pushed
 * through each engine while the batch is still warm in cache (timed: each engine's cost). Several
 * engines (e.g. this tree's and an older build's, `EQL_ALT`) see the same batches in turn.
 */
function timePass(
  text: string,
  lines: readonly string[],
  file: string,
  engines: readonly Compile[],
): { parseNs: number; engineNs: number[]; hits: number[] } {
  const runs = engines.map((compile) => compile(text).start());
  const hits = engines.map(() => 0);
  const engine = engines.map(() => 0n);
  let parse = 0n;
  const batch: EventRecord[] = [];
  for (let at = 0; at < lines.length; at += BATCH) {
    const end = Math.min(lines.length, at + BATCH);
    batch.length = 0;
    const t0 = process.hrtime.bigint();
    for (let i = at; i < end; i++) batch.push(toEvent(lines[i], file, i));
    parse += process.hrtime.bigint() - t0;
    for (let k = 0; k < runs.length; k++) {
      // Alternate which engine goes first, so neither always meets the batch colder.
      const e = (k + at / BATCH) % runs.length;
      const run = runs[e];
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < batch.length; i++) {
        const h = run.push(batch[i]);
        if (h) hits[e] += h.length;
      }
      engine[e] += process.hrtime.bigint() - t1;
    }
  }
  for (let e = 0; e < runs.length; e++) {
    const t3 = process.hrtime.bigint();
    hits[e] += runs[e].finish().length;
    engine[e] += process.hrtime.bigint() - t3;
  }
  return {
    parseNs: Number(parse) / lines.length,
    engineNs: engine.map((ns) => Number(ns) / lines.length),
    hits,
  };
}

async function probe(file: string, count: number, only: string | undefined): Promise<void> {
  const lines = await readLines(file, count);
  const engines: Compile[] = [(text) => compileEql(text)];
  const alt = process.env.EQL_ALT;
  if (alt) engines.push(((await import(alt)) as { compileEql: Compile }).compileEql);
  const names = Object.keys(PROBE_QUERIES).filter((n) => only === undefined || n === only);
  const rounds = Number(process.env.EQL_ROUNDS ?? 3);
  const best = new Map<string, { parseNs: number; ratio: number[]; engineNs: number[]; hits: number[] }>();
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const r = timePass(PROBE_QUERIES[name], lines, file, engines);
      const prev = best.get(name);
      const ratio = r.engineNs.map((ns) => ns / r.parseNs);
      if (!prev) best.set(name, { ...r, ratio });
      else
        for (let e = 0; e < engines.length; e++) {
          if (ratio[e] < prev.ratio[e]) {
            prev.ratio[e] = ratio[e];
            prev.engineNs[e] = r.engineNs[e];
          }
          prev.parseNs = Math.min(prev.parseNs, r.parseNs);
        }
    }
  }
  console.log(
    `events ${lines.length}, batches of ${BATCH}, best of ${rounds}; engine cost per event and as % of JSON.parse` +
      (alt ? ` (this tree | ${alt})` : ""),
  );
  for (const name of names) {
    const r = best.get(name)!;
    const cells = r.engineNs.map(
      (ns, e) => `${ns.toFixed(0).padStart(5)} ns ${(100 * r.ratio[e]).toFixed(1).padStart(5)}%`,
    );
    console.log(
      `${name.padEnd(10)} ${cells.join("  |  ")}   parse ${r.parseNs.toFixed(0)} ns  hits ${r.hits.join("/")}`,
    );
  }
}

if (process.argv[1]?.endsWith("eql.js")) {
  const [file = ".bench-cache/sim-2147483648.ndjson", count = "200000", only] = process.argv.slice(2);
  probe(file, Number(count), only).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
