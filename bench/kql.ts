/**
 * KQL bench rows over the dataset, through the public path (readEvents + compileKql), and a profiler that
 * measures the evaluator's per-event cost against `JSON.parse` of the same lines inside one process:
 *   node dist/bench/kql.js profile FILE [lines]
 * Issue 4's targets: KQL filters >= 90% of the parse-only baseline's events/s, a 5,000-value hash IOC
 * query >= 85%.
 */
import { createReadStream } from "node:fs";
import { fileURLToPath } from "node:url";
import { readEvents } from "../src/events/index.js";
import type { JsonObject } from "../src/events/types.js";
import { compileKql } from "../src/kql/index.js";
import { ecsSchema, layeredSchema, parseMapping } from "../src/schema/index.js";
import { HitCounter } from "./counter.js";

/** The 3CX hunt shape: two exact keyword clauses. */
export const FILTER_QUERY =
  'process.name : "3CXDesktopApp.exe" and dns.question.name : "raw.githubusercontent.com"';

/** Hash fields IOC lists are written against. */
export const HASH_FIELDS = ["dll.hash.sha256", "file.hash.sha256", "process.hash.sha256"] as const;

/**
 * `count` sha256-shaped hex strings from a fixed seed (xorshift32: cheap, so the row measures the engine
 * and not the list's making), with `real` spliced in at fixed positions so a sweep over data that holds
 * them has hits.
 */
export function seededHashes(count: number, real: readonly string[], seed = 0x9e3779b9): string[] {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const out: string[] = [];
  while (out.length < count - real.length) {
    let hex = "";
    for (let k = 0; k < 8; k++) hex += next().toString(16).padStart(8, "0");
    out.push(hex);
  }
  real.forEach((hash, k) => {
    out.splice(Math.floor(((k + 1) * out.length) / (real.length + 1)), 0, hash);
  });
  return out;
}

/** `field : (h1 or h2 ...)`, or the same list on several fields joined by `or`. */
export function hashQuery(fields: readonly string[], hashes: readonly string[]): string {
  const list = `(${hashes.join(" or ")})`;
  return fields.map((field) => `${field} : ${list}`).join(" or ");
}

/**
 * Up to `perField` distinct values of each of `fields` from the first `bytes` of `file` (the real IOCs a
 * sweep should find: the bench dataset is generated, so its hashes are only known by reading it).
 */
export async function sampleHashes(
  file: string,
  fields: readonly string[],
  perField: number,
  bytes = 16 << 20,
): Promise<string[]> {
  const found = new Map<string, Set<string>>(fields.map((field) => [field, new Set<string>()]));
  const full = () => [...found.values()].every((set) => set.size >= perField);
  let carry = "";
  // Stops at the first chunk after which every field has its values (library loads come early).
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1, encoding: "utf8" })) {
    const lines = (carry + (chunk as string)).split("\n");
    carry = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.includes('"sha256"')) continue;
      const event = JSON.parse(line) as JsonObject;
      for (const field of fields) {
        let node: unknown = event;
        for (const key of field.split(".")) node = (node as Record<string, unknown> | undefined)?.[key];
        const set = found.get(field) as Set<string>;
        if (typeof node === "string" && set.size < perField) set.add(node);
      }
      if (full()) break;
    }
    if (full()) break;
  }
  return [...new Set([...found.values()].flatMap((set) => [...set]))];
}

async function runQuery(file: string, query: string): Promise<{ events: number; hits: number }> {
  const counter = new HitCounter(compileKql(query).start());
  for await (const batch of readEvents([file], { timestamps: "ignore" })) counter.push(batch);
  return counter.finish();
}

/** Bench row: the 3CX filter (or `args.query`) over the whole file. */
export async function kqlFilter(
  file: string,
  args: Record<string, unknown>,
): Promise<{ events: number; hits: number }> {
  const query = typeof args.query === "string" ? args.query : FILTER_QUERY;
  return runQuery(file, query);
}

/**
 * Bench row: a 5,000-value sha256 IOC list (seeded, plus `args.real` real hashes per field read from the
 * file's head, default 5) on `args.fields` (default `dll.hash.sha256`; `"all"` for dll, file and process hashes).
 */
export async function kqlHashSweep(
  file: string,
  args: Record<string, unknown>,
): Promise<{ events: number; hits: number }> {
  const fields =
    args.fields === "all"
      ? HASH_FIELDS
      : Array.isArray(args.fields)
        ? (args.fields as string[])
        : ["dll.hash.sha256"];
  const count = typeof args.count === "number" ? args.count : 5000;
  const perField = typeof args.real === "number" ? args.real : 5;
  const real = await sampleHashes(file, fields, perField);
  return runQuery(file, hashQuery(fields, seededHashes(count, real)));
}

// ---- profiler -------------------------------------------------------------------------------------

async function readLines(file: string, count: number): Promise<string[]> {
  const lines: string[] = [];
  let carry = "";
  for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    const parts = (carry + (chunk as string)).split("\n");
    carry = parts.pop() ?? "";
    for (const part of parts) if (part.length > 0 && lines.length < count) lines.push(part);
    if (lines.length >= count) break;
  }
  return lines;
}

/** Profile the evaluator over in-memory events: ns per event for each query and for `JSON.parse`. */
export async function profileKql(file: string, count: number): Promise<void> {
  const lines = await readLines(file, count);
  const events = lines.map((line) => ({ source: JSON.parse(line) as JsonObject }));
  const real = await sampleHashes(file, HASH_FIELDS, 2);
  const hashes = seededHashes(5000, real);
  const queries: Record<string, string> = {
    filter: FILTER_QUERY,
    wildcard: "process.executable : *\\\\3CXDesktopApp.exe",
    "wildcard-text": "process.command_line : *githubusercontent*",
    text: 'message : "process event"',
    range: 'process.pid > 30000 and @timestamp >= "2023-03-15T12:00:00Z"',
    not: "not event.category : process and not host.os.family : linux",
    nested: "process.parent : { name : explorer.exe and pid > 100 }",
    "or-fields": "process.name : (chrome.exe or svchost.exe or explorer.exe) or event.action : start",
    "hash-dll": hashQuery(["dll.hash.sha256"], hashes),
    "hash-all": hashQuery(HASH_FIELDS, hashes),
  };
  // `process.parent` mapped nested (over ECS) so the nested query is a real nested query.
  const nestedMapping = {
    properties: {
      process: {
        properties: {
          parent: { type: "nested", properties: { name: { type: "keyword" }, pid: { type: "long" } } },
        },
      },
    },
  };
  const nestedSchema = layeredSchema(parseMapping(JSON.stringify(nestedMapping)), ecsSchema());
  const compiled = Object.entries(queries).map(([name, text]) => {
    const q = compileKql(text, name === "nested" ? { schema: nestedSchema } : {});
    const matches = q.matches as (e: unknown) => boolean;
    return { name, matches };
  });
  // Best of 5 rounds, the baseline and the queries interleaved, in CPU time (the machine is shared):
  //  cold: one evaluation per event over events parsed beforehand (each event comes from memory);
  //  hot:  the cost of an evaluation when the event is in cache, as it is right after the reader parses it
  //        in a real run: (time of 8 evaluations per event - time of 1) / 7.
  const best = new Map<string, { cold: number; hot: number; hits: number }>();
  const now = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  const perEvent = (t: number) => ((now() - t) * 1000) / lines.length;
  let parse = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    for (const { name, matches } of compiled) {
      let t = now();
      for (const line of lines) JSON.parse(line);
      parse = Math.min(parse, perEvent(t));
      t = now();
      let hits = 0;
      for (const event of events) if (matches(event)) hits++;
      const once = perEvent(t);
      t = now();
      for (const event of events) for (let r = 0; r < 8; r++) matches(event);
      const eight = perEvent(t);
      const prev = best.get(name) ?? { cold: Number.POSITIVE_INFINITY, hot: Number.POSITIVE_INFINITY, hits };
      best.set(name, {
        cold: Math.min(prev.cold, once),
        hot: Math.min(prev.hot, Math.max(0, (eight - once) / 7)),
        hits,
      });
    }
  }
  console.log(`${lines.length} events; JSON.parse ${parse.toFixed(0)} ns/event (CPU time)`);
  for (const [name, { cold, hot, hits }] of best) {
    const pct = (ns: number) => `${((ns / parse) * 100).toFixed(1).padStart(4)}%`;
    console.log(
      `${name.padEnd(14)} hot ${hot.toFixed(0).padStart(5)} ns = ${pct(hot)} of parse -> ` +
        `${((parse / (parse + hot)) * 100).toFixed(1)}% of baseline;  cold ${cold.toFixed(0).padStart(5)} ns = ${pct(cold)}  hits=${hits}`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "profile") {
  const file = process.argv[3] ?? "";
  const count = Number(process.argv[4] ?? 200_000);
  await profileKql(file, count);
}
