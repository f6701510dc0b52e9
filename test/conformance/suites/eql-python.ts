/**
 * Suite `eql/python-eql/test_queries`: python-eql's (Endgame EQL) query suite, run with Elasticsearch
 * semantics. python-eql's harness streams test_data.json in file order with `event_type` as the
 * category and compares `serial_event_id`s in order, in case-insensitive mode.
 *
 * Here every query is compiled as Elasticsearch EQL: a query Elasticsearch rejects (python-eql-only
 * syntax: `join`, `descendant of`, pipes other than head/tail, `=`, array functions...) is skipped with
 * the reason; queries flagged `case_sensitive = true` only are skipped as python-eql's own harness skips
 * them. The rest run on the same events (time-ordered by the FILETIME `timestamp`, then
 * `serial_event_id`). Differences are listed in known-failures/eql.json and classified in
 * docs/compatibility/eql.md.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { isQuarryError } from "../../../src/diagnostics/index.js";
import { compareEventsForEql, compileEql } from "../../../src/eql/index.js";
import { parseJsonLossless } from "../../../src/events/json.js";
import type { EventRecord, JsonObject, JsonValue } from "../../../src/events/types.js";
import type { QueryHit } from "../../../src/query/index.js";
import type { CaseResult, SuiteReport } from "../harness.js";

const DIR = "conformance/eql/python-eql";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function loadEvents(shared: string): EventRecord[] {
  const parsed = parseJsonLossless(readFileSync(join(shared, DIR, "test_data.json"), "utf8"));
  if (!Array.isArray(parsed)) throw new Error("test_data.json: not an array");
  return parsed.filter(isRecord).map((raw, seq) => {
    const doc = raw as JsonObject;
    const ts: JsonValue | undefined = doc.timestamp;
    const big = typeof ts === "bigint" ? ts : typeof ts === "number" ? BigInt(ts) : undefined;
    const source: JsonObject =
      big === undefined ? doc : { ...doc, "@timestamp": Number(big / 10000n - 11644473600000n) };
    return {
      source,
      raw: "",
      index: "python-eql",
      id: String(seq),
      provenance: { file: "test_data.json" },
      seq,
    };
  });
}

/**
 * Rewrite python-eql spellings that have an exact Elasticsearch equivalent: `'single'` quotes become
 * `"double"` quotes, raw `?"..."`/`?'...'` strings become `"""..."""`, and `=` becomes `==`.
 */
export function toEsDialect(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "?" && (text[i + 1] === '"' || text[i + 1] === "'")) {
      const q = text[i + 1];
      const end = text.indexOf(q, i + 2);
      if (end < 0) return text;
      const body = text.slice(i + 2, end);
      if (body.includes('"""')) return text;
      out += `"""${body}"""`;
      i = end;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let body = "";
      while (j < text.length && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < text.length) {
          body += text[j + 1] === "'" ? "'" : text.slice(j, j + 2);
          j += 2;
          continue;
        }
        body += text[j] === '"' ? '\\"' : text[j];
        j++;
      }
      out += `"${body}"`;
      i = j;
      continue;
    }
    if (c === "=" && !"=!<>".includes(text[i - 1] ?? "") && text[i + 1] !== "=") {
      out += "==";
      continue;
    }
    out += c;
  }
  return out;
}

export async function run(shared: string): Promise<readonly SuiteReport[]> {
  const events = loadEvents(shared);
  const ordered = [...events].sort(compareEventsForEql({ tiebreakerField: "serial_event_id" }));
  const document = parse(readFileSync(join(shared, DIR, "test_queries.toml"), "utf8"));
  const list = Array.isArray(document.queries) ? document.queries : [];
  const cases: CaseResult[] = [];
  list.forEach((q, i) => {
    if (!isRecord(q) || typeof q.query !== "string") return;
    const original = q.query.trim();
    const text = toEsDialect(original);
    const name = `#${i + 1}: ${original.split("\n")[0].slice(0, 80)}`;
    if (q.case_sensitive === true && q.case_insensitive !== true) {
      cases.push({
        name,
        status: "skipped",
        reason: "case_sensitive only (python-eql's harness runs insensitive mode)",
      });
      return;
    }
    let compiled: ReturnType<typeof compileEql>;
    try {
      compiled = compileEql(text, { categoryField: "event_type", tiebreakerField: "serial_event_id" });
    } catch (error) {
      const why = isQuarryError(error) ? `${error.diagnostic.code} ${error.diagnostic.title}` : String(error);
      cases.push({ name, status: "skipped", reason: `not Elasticsearch EQL: ${why}` });
      return;
    }
    try {
      const run = compiled.start();
      const hits: QueryHit[] = [];
      const input = compiled.needsTimeOrder ? ordered : events;
      for (const e of input) hits.push(...(run.push(e) ?? []));
      hits.push(...run.finish());
      const ids: number[] = [];
      for (const hit of hits) {
        if (hit.kind === "event") ids.push(Number(hit.event.source.serial_event_id));
        else for (const e of hit.events) ids.push(e ? Number(e.source.serial_event_id) : -1);
      }
      const expected = (Array.isArray(q.expected_event_ids) ? q.expected_event_ids : []).map(Number);
      const same = ids.length === expected.length && ids.every((x, k) => x === expected[k]);
      cases.push(
        same
          ? { name, status: "passed" }
          : {
              name,
              status: "failed",
              reason: `ids [${ids.join(", ")}], python-eql expects [${expected.join(", ")}]`,
            },
      );
    } catch (error) {
      cases.push({ name, status: "failed", reason: String(error) });
    }
  });
  return [{ suite: "eql/python-eql/test_queries", cases }];
}
