/**
 * Elasticsearch's EQL spec suites, run with the harness rules of ../shared/conformance/eql/README.md:
 * indices built from `<index>.mapping` (+ dynamic mapping for unmapped fields) and `<index>.data`,
 * the endgame timestamp transforms, tiebreaker and id field per suite, `size` 50 unless set, expected
 * ids compared in order (or any alternative of a list of lists), `join_keys` compared as strings, and
 * every query run with `result_position` both `head` and `tail` (both must pass).
 *
 * Suites: `eql/es/<file>@<index>`, plus `eql/es/sequences.series-spec` (the sequence matcher specs).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { isQuarryError, renderDiagnostic } from "../../../src/diagnostics/index.js";
import { compareEventsForEql, compileEql } from "../../../src/eql/index.js";
import { parseJsonLossless, stringifyJson } from "../../../src/events/json.js";
import type { EventRecord, JsonObject, JsonValue } from "../../../src/events/types.js";
import { prefilterForEql } from "../../../src/prefilter/index.js";
import type { QueryHit } from "../../../src/query/index.js";
import { dynamicType, type FieldInfo, parseMapping, type Schema } from "../../../src/schema/index.js";
import { runSeriesSpec } from "../../eql/series-spec.js";
import type { CaseResult, SuiteReport } from "../harness.js";

const DIR = "conformance/eql/elasticsearch";
const NULL_SENTINEL = "__quarry_bare_null__";

interface Dataset {
  readonly events: readonly EventRecord[];
  readonly schema: Schema;
}

interface SuiteSpec {
  readonly files: readonly string[];
  readonly indexLabel: string;
  readonly indices: readonly string[];
  readonly tiebreaker?: string;
  readonly idField: string;
  /** Skip a query (with the reason) before running it. */
  readonly skip?: (q: QueryCase) => string | undefined;
}

interface QueryCase {
  readonly name: string;
  readonly query: string;
  readonly expected: readonly number[] | readonly (readonly number[])[];
  readonly joinKeys?: readonly string[];
  readonly size?: number;
  readonly maxSamplesPerKey?: number;
  readonly expectShardFailures?: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Read a data file: a JSON array; `//` comment lines are dropped (missing-events.data has them). */
function readData(shared: string, index: string): JsonObject[] {
  const file = index.startsWith("endgame-140") ? "test_data.json" : `${index}.data`;
  const text = readFileSync(join(shared, DIR, file), "utf8")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("//"))
    .join("\n");
  const parsed = parseJsonLossless(text);
  if (!Array.isArray(parsed)) throw new Error(`${file}: not a JSON array`);
  return parsed.filter(isRecord) as JsonObject[];
}

function toBig(value: JsonValue | undefined): bigint | undefined {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  return undefined;
}

/** The DataLoader's timestamp transforms. */
function transform(index: string, doc: JsonObject): JsonObject {
  const ts = toBig(doc.timestamp);
  if (ts === undefined) return doc;
  if (index === "endgame-140" || index === "endgame-shard-failures") {
    const ms = ts / 10000n - 11644473600000n;
    return { ...doc, "@timestamp": Number(ms) };
  }
  if (index === "endgame-140-nanos") {
    const digits = ts.toString();
    const whole = digits.slice(0, 12);
    const fraction = digits.slice(12);
    const stamp = /^0+$/.test(fraction) ? whole : `${whole}.${fraction}`;
    const ms = ts / 1_000_000n;
    return { ...doc, "@timestamp": stamp, timestamp: Number(ms) };
  }
  return doc;
}

/** Field paths and dynamic types of every value in the data (for fields the mapping lacks). */
function collectDynamic(doc: JsonValue, prefix: string, out: Map<string, FieldInfo>): void {
  if (doc === null) return;
  if (Array.isArray(doc)) {
    for (const v of doc) collectDynamic(v, prefix, out);
    return;
  }
  if (typeof doc === "object" && typeof doc !== "bigint") {
    for (const [k, v] of Object.entries(doc))
      collectDynamic(v as JsonValue, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  if (prefix && !out.has(prefix)) out.set(prefix, dynamicType(doc));
}

function buildSchema(mappingText: string, docs: readonly JsonObject[]): Schema {
  // parseMapping keeps `null_value` and date `format` (FieldInfo.nullValue / .format).
  const base = parseMapping(mappingText, "keyword");
  const dynamic = new Map<string, FieldInfo>();
  for (const doc of docs) collectDynamic(doc, "", dynamic);
  const lookup = (field: string): FieldInfo | undefined =>
    base.lookup(field) ?? dynamic.get(base.resolveAlias(field));
  return {
    lookup,
    resolveAlias: (field) => base.resolveAlias(field),
    fieldNames: () => [...new Set([...base.fieldNames(), ...dynamic.keys()])],
  };
}

const datasets = new Map<string, Dataset>();

function loadDataset(shared: string, indices: readonly string[]): Dataset {
  const label = indices.join(",");
  const cached = datasets.get(label);
  if (cached) return cached;
  const docs: { index: string; doc: JsonObject }[] = [];
  let mappingText = "";
  for (const index of indices) {
    mappingText = readFileSync(join(shared, DIR, `${index}.mapping`), "utf8");
    for (const doc of readData(shared, index)) docs.push({ index, doc: transform(index, doc) });
  }
  // Indices searched together share field types; the first mapping is the reference one.
  const firstMapping = readFileSync(join(shared, DIR, `${indices[0]}.mapping`), "utf8");
  const schema = buildSchema(
    mergeMappings(
      indices.map((i) => readFileSync(join(shared, DIR, `${i}.mapping`), "utf8")),
      firstMapping || mappingText,
    ),
    docs.map((d) => d.doc),
  );
  const events: EventRecord[] = docs.map(({ index, doc }, seq) => ({
    source: doc,
    raw: "",
    index,
    id: String(seq),
    provenance: { file: `${index}.data`, index: seq },
    seq,
  }));
  const dataset = { events, schema };
  datasets.set(label, dataset);
  return dataset;
}

/** Merge the `properties` of several mappings (the sample indices map different fields). */
function mergeMappings(texts: readonly string[], fallback: string): string {
  if (texts.length === 1) return texts[0];
  const merged: Record<string, unknown> = {};
  for (const text of texts) {
    const cleaned = text
      .split(/\r?\n/)
      .filter((l) => !l.trimStart().startsWith("#"))
      .join("\n")
      .replaceAll("[runtime_random_keyword_type]", "keyword");
    const json: unknown = JSON.parse(cleaned);
    if (isRecord(json) && isRecord(json.properties)) {
      for (const [k, v] of Object.entries(json.properties)) {
        const prev = merged[k];
        // The same date field with different formats in different indices: accept either.
        if (
          isRecord(prev) &&
          isRecord(v) &&
          typeof prev.format === "string" &&
          typeof v.format === "string" &&
          prev.format !== v.format
        ) {
          merged[k] = { ...prev, format: `${prev.format}||${v.format}` };
        } else if (!(k in merged)) merged[k] = v;
      }
    }
  }
  return Object.keys(merged).length > 0 ? JSON.stringify({ properties: merged }) : fallback;
}

/** Parse a TOML suite; bare `null` inside arrays (invalid TOML that ES's parser accepts) becomes a sentinel. */
function readQueries(shared: string, file: string): QueryCase[] {
  const text = readFileSync(join(shared, DIR, file), "utf8").replace(
    /^(\s*join_keys\s*=\s*\[[^\]]*\])/gm,
    (line) => line.replace(/(?<!")\bnull\b(?!")/g, JSON.stringify(NULL_SENTINEL)),
  );
  const doc = parse(text);
  const list = doc.queries;
  if (!Array.isArray(list)) return [];
  const out: QueryCase[] = [];
  for (const q of list) {
    if (!isRecord(q) || typeof q.name !== "string" || typeof q.query !== "string") continue;
    const expected = Array.isArray(q.expected_event_ids) ? (q.expected_event_ids as unknown[]) : [];
    const toNums = (a: unknown[]) => a.map((x) => Number(x));
    const nested = expected.length > 0 && expected.every(Array.isArray);
    out.push({
      name: q.name,
      query: q.query.trim(),
      expected: nested ? expected.map((a) => toNums(a as unknown[])) : toNums(expected),
      joinKeys: Array.isArray(q.join_keys)
        ? q.join_keys.map((k) => (k === NULL_SENTINEL || k === null ? "null" : String(k)))
        : undefined,
      size: typeof q.size === "number" ? q.size : undefined,
      maxSamplesPerKey: typeof q.max_samples_per_key === "number" ? q.max_samples_per_key : undefined,
      expectShardFailures: q.expect_shard_failures === true,
    });
  }
  return out;
}

function idOf(event: EventRecord | null, idField: string): number {
  if (event === null) return -1;
  const v = event.source[idField];
  return typeof v === "bigint" ? Number(v) : Number(v);
}

interface Outcome {
  readonly ids: number[];
  readonly joinKeys: string[];
}

function runQuery(q: QueryCase, data: Dataset, spec: SuiteSpec, position: "head" | "tail"): Outcome {
  const compiled = compileEql(q.query, {
    schema: data.schema,
    completeSchema: true,
    tiebreakerField: spec.tiebreaker,
    size: q.size ?? 50,
    maxSamplesPerKey: q.maxSamplesPerKey,
    resultPosition: position,
  });
  let events = data.events;
  if (compiled.shape !== "sample") {
    const order = compareEventsForEql({ tiebreakerField: spec.tiebreaker, schema: data.schema });
    events = [...events].sort(order);
  }
  const run = compiled.start();
  const hits: QueryHit[] = [];
  for (const e of events) {
    const out = run.push(e);
    if (out) hits.push(...out);
  }
  hits.push(...run.finish());
  const ids: number[] = [];
  const joinKeys: string[] = [];
  for (const hit of hits) {
    if (hit.kind === "event") ids.push(idOf(hit.event, spec.idField));
    else {
      for (const e of hit.events) ids.push(idOf(e, spec.idField));
      for (const k of hit.joinKeys) joinKeys.push(k === null ? "null" : String(k));
    }
  }
  return { ids, joinKeys };
}

function sameList(a: readonly (number | string)[], b: readonly (number | string)[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function check(q: QueryCase, outcome: Outcome): string | undefined {
  const alternatives: readonly (readonly number[])[] =
    q.expected.length > 0 && Array.isArray(q.expected[0])
      ? (q.expected as readonly (readonly number[])[])
      : [q.expected as readonly number[]];
  if (!alternatives.some((alt) => sameList(alt, outcome.ids))) {
    return `ids [${outcome.ids.join(", ")}], expected ${alternatives.map((a) => `[${a.join(", ")}]`).join(" or ")}`;
  }
  if (q.joinKeys && q.joinKeys.length > 0 && !sameList(q.joinKeys, outcome.joinKeys)) {
    return `join_keys [${outcome.joinKeys.join(", ")}], expected [${q.joinKeys.join(", ")}]`;
  }
  return undefined;
}

/** Each event's JSON text as bytes, built once per dataset (what an NDJSON export of it would hold). */
const serialized = new WeakMap<Dataset, readonly Buffer[]>();

/**
 * The differential check of issue 8: the query over only the events whose text its literal prefilter keeps
 * (`next` finds a candidate and `line` accepts it, as the reader applies them) must give the same results
 * as over every event. Undefined when it does (or the query has no prefilter).
 */
function prefilterDifference(q: QueryCase, data: Dataset, spec: SuiteSpec): string | undefined {
  const compiled = compileEql(q.query, {
    schema: data.schema,
    completeSchema: true,
    tiebreakerField: spec.tiebreaker,
  });
  const prefilter = prefilterForEql(compiled.query, { schema: data.schema });
  if (!prefilter) return undefined;
  prefilteredCases++;
  let texts = serialized.get(data);
  if (!texts) {
    texts = data.events.map((e) => Buffer.from(stringifyJson(e.source)));
    serialized.set(data, texts);
  }
  const lines = texts;
  const kept = data.events.filter((_, i) => {
    const b = lines[i];
    return prefilter.next(b, 0, b.length) >= 0 && prefilter.line(b, 0, b.length);
  });
  const all = runQuery(q, data, spec, "head");
  const some = runQuery(q, { ...data, events: kept }, spec, "head");
  if (sameList(all.ids, some.ids) && sameList(all.joinKeys, some.joinKeys)) return undefined;
  return `ids ${JSON.stringify(some.ids)} instead of ${JSON.stringify(all.ids)} (prefilter ${prefilter.description})`;
}

/** How many passing queries also passed the prefilter check (printed with the suite results). */
let prefilteredCases = 0;

function runCase(q: QueryCase, data: Dataset, spec: SuiteSpec): CaseResult {
  const skip = spec.skip?.(q);
  if (skip) return { name: q.name, status: "skipped", reason: skip };
  try {
    for (const position of ["head", "tail"] as const) {
      const problem = check(q, runQuery(q, data, spec, position));
      if (problem) return { name: q.name, status: "failed", reason: `${position}: ${problem}` };
    }
    const dropped = prefilterDifference(q, data, spec);
    if (dropped) return { name: q.name, status: "failed", reason: `with its literal prefilter: ${dropped}` };
    return { name: q.name, status: "passed" };
  } catch (error) {
    const reason = isQuarryError(error)
      ? renderDiagnostic(error.diagnostic, error.sourceText ?? q.query)
      : String(error instanceof Error ? error.stack : error);
    return { name: q.name, status: "failed", reason };
  }
}

const SHARDS_SKIP = (q: QueryCase): string | undefined =>
  q.expectShardFailures
    ? "needs a failing shard (Elasticsearch's runtime field `broken` raising on one index); Quarry has no shards"
    : undefined;

const SUITES: readonly SuiteSpec[] = [
  {
    files: ["test_queries.toml"],
    indexLabel: "endgame-140",
    indices: ["endgame-140"],
    tiebreaker: "serial_event_id",
    idField: "serial_event_id",
  },
  {
    files: ["additional_test_queries.toml"],
    indexLabel: "endgame-140",
    indices: ["endgame-140"],
    tiebreaker: "serial_event_id",
    idField: "serial_event_id",
  },
  {
    files: ["test_queries_date.toml"],
    indexLabel: "endgame-140",
    indices: ["endgame-140"],
    tiebreaker: "serial_event_id",
    idField: "serial_event_id",
  },
  {
    files: ["test_queries_date_nanos.toml"],
    indexLabel: "endgame-140-nanos",
    indices: ["endgame-140-nanos"],
    tiebreaker: "serial_event_id",
    idField: "serial_event_id",
  },
  {
    files: ["test_queries.toml"],
    indexLabel: "endgame-140-nanos",
    indices: ["endgame-140-nanos"],
    tiebreaker: "serial_event_id",
    idField: "serial_event_id",
  },
  {
    files: ["test_extra.toml"],
    indexLabel: "extra",
    indices: ["extra"],
    tiebreaker: "sequence",
    idField: "sequence",
  },
  {
    files: ["test_missing_events.toml"],
    indexLabel: "missing-events",
    indices: ["missing-events"],
    tiebreaker: "sequence",
    idField: "sequence",
  },
  {
    files: ["test_sample.toml"],
    indexLabel: "sample1,sample2,sample3",
    indices: ["sample1", "sample2", "sample3"],
    idField: "id",
  },
  { files: ["test_sample_multi.toml"], indexLabel: "sample-multi", indices: ["sample-multi"], idField: "id" },
  {
    files: ["test_failing_shards.toml"],
    indexLabel: "endgame-140,endgame-shard-failures",
    indices: ["endgame-140", "endgame-shard-failures"],
    tiebreaker: "serial_event_id",
    idField: "serial_event_id",
    skip: SHARDS_SKIP,
  },
];

export async function run(shared: string): Promise<readonly SuiteReport[]> {
  const reports: SuiteReport[] = [];
  for (const spec of SUITES) {
    const data = loadDataset(shared, spec.indices);
    for (const file of spec.files) {
      const cases = readQueries(shared, file).map((q) => runCase(q, data, spec));
      reports.push({ suite: `eql/es/${file.replace(/\.toml$/, "")}@${spec.indexLabel}`, cases });
    }
  }
  reports.push(runSeriesSpec(readFileSync(join(shared, DIR, "sequences.series-spec"), "utf8")));
  process.stdout.write(
    `eql/es: ${prefilteredCases} queries with a literal prefilter gave the same results over only the events it keeps\n`,
  );
  return reports;
}
