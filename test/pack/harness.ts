/**
 * What the 3CX pack tests share: reading the pack straight from its files (independent of the rules
 * loader), loading the query engines when they exist, and running the pack's rules and IOC lists over
 * simulator output in memory through the engines' `CompiledQuery` API and src/intel's index.
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "smol-toml";
import type { EventRecord, JsonObject } from "../../src/events/types.js";
import { readCsv } from "../../src/intel/csv.js";
import {
  buildIndicatorIndex,
  type IndicatorIndex,
  type IndicatorList,
  parseIndicators,
} from "../../src/intel/index.js";
import type { CompiledQuery } from "../../src/query/index.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root, from test/pack (source) or dist/test/pack (compiled). */
export const REPO = [join(here, "../.."), join(here, "../../..")].find((d) =>
  existsSync(join(d, "packs", "3cx", "pack.toml")),
)!;
export const PACK_DIR = join(REPO, "packs", "3cx");

export type Severity = "low" | "medium" | "high" | "critical";
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 1, medium: 2, high: 3, critical: 4 };

export interface PackRule {
  readonly file: string;
  readonly doc: Record<string, unknown>;
  readonly ruleId: string;
  readonly name: string;
  readonly severity: Severity;
  readonly riskScore: number;
  readonly language: "eql" | "kuery";
  readonly type: string;
  readonly query: string;
}

export function readPackRules(): PackRule[] {
  const dir = join(PACK_DIR, "rules");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".toml"))
    .sort()
    .map((file) => {
      const doc = parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>;
      const rule = doc.rule as Record<string, unknown>;
      return {
        file,
        doc,
        ruleId: String(rule.rule_id),
        name: String(rule.name),
        severity: rule.severity as Severity,
        riskScore: Number(rule.risk_score),
        language: rule.language as "eql" | "kuery",
        type: String(rule.type),
        query: String(rule.query),
      };
    });
}

export interface PackManifest {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly iocs: readonly {
    file: string;
    rule_id: string;
    name: string;
    severity: Severity;
    risk_score: number;
    description: string;
  }[];
  readonly yara: readonly { file: string }[];
  readonly protected: { rule_ids: string[]; reason: string };
  readonly constants: Record<string, string | number>;
}

export function readManifest(): PackManifest {
  return parse(readFileSync(join(PACK_DIR, "pack.toml"), "utf8")) as unknown as PackManifest;
}

export interface PackIoc {
  readonly ruleId: string;
  readonly name: string;
  readonly severity: Severity;
  readonly list: IndicatorList;
  readonly index: IndicatorIndex;
}

export function readPackIocs(): PackIoc[] {
  return readManifest().iocs.map((spec) => {
    const list = parseIndicators(readFileSync(join(PACK_DIR, spec.file), "utf8"), {
      name: spec.name,
      file: spec.file,
    });
    return {
      ruleId: spec.rule_id,
      name: spec.name,
      severity: spec.severity,
      list,
      index: buildIndicatorIndex([list]),
    };
  });
}

/** Rows of a pack CSV as records keyed by header (read with the project's RFC 4180 reader). */
export function readCsvRows(file: string): Record<string, string>[] {
  const { records } = readCsv(readFileSync(join(PACK_DIR, file), "utf8"));
  const [header, ...rows] = records;
  return rows.map((row) => Object.fromEntries(header.fields.map((n, i) => [n, row.fields[i] ?? ""])));
}

// ---- engines ----

export type Compile = (text: string) => CompiledQuery;

export interface Engines {
  readonly eql?: Compile;
  readonly kql?: Compile;
  readonly parseEql?: (text: string) => unknown;
  readonly parseKql?: (text: string) => unknown;
  readonly verifyEql?: (
    query: unknown,
    options: { schema?: unknown; strictFields?: boolean; source?: string },
  ) => void;
}

/** An engine module if it has been built (src/<lang>/index.ts compiled next to these tests). */
async function engineModule(lang: "eql" | "kql"): Promise<Record<string, unknown> | undefined> {
  const path = join(here, "../../src", lang, "index.js");
  if (!existsSync(path)) return undefined;
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

async function eqlModule(file: string): Promise<Record<string, unknown> | undefined> {
  const path = join(here, "../../src/eql", file);
  if (!existsSync(path)) return undefined;
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

export async function loadEngines(): Promise<Engines> {
  const eql = await engineModule("eql");
  const kql = await engineModule("kql");
  const eqlParser = await eqlModule("parser.js");
  const eqlVerifier = await eqlModule("verifier.js");
  const fn = <T>(m: Record<string, unknown> | undefined, name: string): T | undefined =>
    m && typeof m[name] === "function" ? (m[name] as T) : undefined;
  return {
    eql: fn<Compile>(eql, "compileEql"),
    kql: fn<Compile>(kql, "compileKql"),
    parseEql: fn(eql, "parseEql") ?? fn(eqlParser, "parseEql"),
    parseKql: fn(kql, "parseKql"),
    verifyEql: fn(eql, "verifyEql") ?? fn(eqlVerifier, "verifyEql"),
  };
}

/** Which engines a set of rules needs that are not built yet (empty when all can run). */
export function missingEngines(rules: readonly PackRule[], engines: Engines): string[] {
  const missing = new Set<string>();
  for (const r of rules) {
    if (r.language === "eql" && !engines.eql) missing.add("EQL (compileEql in src/eql/index.ts)");
    if (r.language === "kuery" && !engines.kql) missing.add("KQL (compileKql in src/kql/index.ts)");
  }
  return [...missing];
}

export function compileRule(rule: PackRule, engines: Engines): CompiledQuery {
  const compile = rule.language === "eql" ? engines.eql : engines.kql;
  if (!compile) throw new Error(`no ${rule.language} engine`);
  return compile(rule.query);
}

// ---- evaluation ----

export function toRecords(lines: Iterable<string>): EventRecord[] {
  const out: EventRecord[] = [];
  let i = 0;
  for (const raw of lines) {
    i++;
    out.push({
      source: JSON.parse(raw) as JsonObject,
      raw,
      index: "simulated",
      id: String(i),
      provenance: { file: "simulated", line: i },
      seq: i - 1,
    });
  }
  return out;
}

export interface Hit {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly host: string;
  /** `event.id` of every member event (one for event rules and IOC lists). */
  readonly eventIds: readonly string[];
}

const hostOf = (e: EventRecord): string => {
  const host = e.source.host;
  return host && typeof host === "object" && !Array.isArray(host)
    ? String((host as JsonObject).name ?? "")
    : "";
};
const eventIdOf = (e: EventRecord): string => {
  const event = e.source.event;
  return event && typeof event === "object" && !Array.isArray(event)
    ? String((event as JsonObject).id ?? "")
    : "";
};

/** Run one compiled rule over events already in time order. */
export function runQuery(rule: PackRule, query: CompiledQuery, events: readonly EventRecord[]): Hit[] {
  const hits: Hit[] = [];
  const add = (members: readonly (EventRecord | null)[]) => {
    const present = members.filter((m): m is EventRecord => m !== null);
    hits.push({
      ruleId: rule.ruleId,
      severity: rule.severity,
      host: present.length ? hostOf(present[0]) : "",
      eventIds: present.map(eventIdOf),
    });
  };
  if (query.shape === "event" && query.matches) {
    const matches = query.matches;
    for (const e of events) if (matches(e)) add([e]);
    return hits;
  }
  const run = query.start();
  const take = (out: readonly import("../../src/query/index.js").QueryHit[] | undefined) => {
    if (!out) return;
    for (const h of out) add(h.kind === "event" ? [h.event] : h.events);
  };
  for (const e of events) take(run.push(e));
  take(run.finish());
  return hits;
}

export function runIocs(iocs: readonly PackIoc[], events: readonly EventRecord[]): Hit[] {
  const hits: Hit[] = [];
  for (const ioc of iocs)
    for (const e of events)
      if (ioc.index.matchEvent(e.source).length > 0)
        hits.push({ ruleId: ioc.ruleId, severity: ioc.severity, host: hostOf(e), eventIds: [eventIdOf(e)] });
  return hits;
}

/** Highest severity per host. */
export function maxSeverityByHost(hits: readonly Hit[]): Map<string, Severity> {
  const out = new Map<string, Severity>();
  for (const h of hits) {
    const prev = out.get(h.host);
    if (!prev || SEVERITY_RANK[h.severity] > SEVERITY_RANK[prev]) out.set(h.host, h.severity);
  }
  return out;
}
