/**
 * Query hits in the shape of Elasticsearch's EQL search response, so users' tooling carries over:
 * an event hit is `{"_index", "_id", "_source"}` with `_source` exactly as read; a sequence or sample hit
 * is `{"join_keys": [...], "events": [...]}` where a missing (`![...]`) event is, as Elasticsearch writes
 * it, `{"_index": "", "_id": "", "missing": true}`.
 */

import { compileField } from "../events/field-access.js";
import { stringifyJson } from "../events/json.js";
import { formatTimestamp, parseTimestamp } from "../events/timestamp.js";
import type { EventRecord, JsonValue } from "../events/types.js";
import type { QueryHit } from "../query/index.js";

/** One event hit as JSON text; `_source` is the event's original text, byte for byte. */
export function eventHitJson(event: EventRecord, indent?: number): string {
  if (indent === undefined) {
    return `{"_index":${JSON.stringify(event.index)},"_id":${JSON.stringify(event.id)},"_source":${event.raw}}`;
  }
  const pad = " ".repeat(indent);
  return `{\n${pad}"_index": ${JSON.stringify(event.index)},\n${pad}"_id": ${JSON.stringify(event.id)},\n${pad}"_source": ${event.raw}\n}`;
}

const MISSING_EVENT = '{"_index":"","_id":"","missing":true}';

export function hitJson(hit: QueryHit): string {
  if (hit.kind === "event") return eventHitJson(hit.event);
  const events = hit.events.map((e) => (e ? eventHitJson(e) : MISSING_EVENT)).join(",");
  return `{"join_keys":${stringifyJson(hit.joinKeys as JsonValue[])},"events":[${events}]}`;
}

/** The whole response for `--format json`: `{"hits": {"total": ..., "events"|"sequences": [...]}}`. */
export function responseJsonParts(
  shape: "event" | "sequence" | "sample",
  count: number,
): { head: string; tail: string } {
  const key = shape === "event" ? "events" : "sequences";
  return { head: `{"hits":{"total":{"value":${count},"relation":"eq"},"${key}":[`, tail: "]}}\n" };
}

const tsField = compileField("@timestamp");
const columns: [string, ReturnType<typeof compileField>][] = [
  ["event.category", compileField("event.category")],
  ["host.name", compileField("host.name")],
  ["process.name", compileField("process.name")],
];

function cell(value: JsonValue | undefined, width: number): string {
  let text =
    value === undefined
      ? "-"
      : typeof value === "object" && value !== null
        ? stringifyJson(value)
        : String(value);
  // Events are attacker-controlled: control characters never reach the terminal.
  text = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/** A readable line per event for `--format table`. */
export function tableRow(event: EventRecord, prefix = ""): string {
  const ts = parseTimestamp(tsField(event.source)[0]);
  const time = ts ? formatTimestamp(ts) : "-";
  const cols = columns.map(([, get]) => {
    const values = get(event.source);
    return cell(values.length > 1 ? values : values[0], 22);
  });
  return `${prefix}${time.padEnd(30)} ${cell(`${event.index}:${event.id}`, 28)} ${cols.join(" ")}`;
}

export function tableHeader(prefix = ""): string {
  return `${prefix}${"@timestamp".padEnd(30)} ${"_index:_id".padEnd(28)} ${columns.map(([n]) => n.padEnd(22)).join(" ")}`;
}

export function tableHit(hit: QueryHit, n: number): string {
  if (hit.kind === "event") return tableRow(hit.event);
  const lines = [`sequence ${n}  join_keys=${stringifyJson(hit.joinKeys as JsonValue[])}`];
  for (const e of hit.events) lines.push(e ? tableRow(e, "  ") : "  (missing event)");
  return lines.join("\n");
}
