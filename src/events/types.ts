/**
 * The event model every engine compiles against.
 *
 * A document is parsed once into plain JSON values. Integers outside the safe range of a double arrive as
 * `bigint` so that 18-digit ids and nanosecond epochs keep every digit; `raw` keeps the exact text so
 * `_source` can be written back out byte for byte.
 */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Where an event came from: the input path as given and its 1-based line (NDJSON) or 0-based array index (JSON). */
export interface Provenance {
  readonly file: string;
  readonly line?: number;
  readonly index?: number;
}

export interface EventRecord {
  /** The parsed document (`_source`). */
  readonly source: JsonObject;
  /** The document's exact text as read (for NDJSON, the line without its terminator). */
  readonly raw: string;
  /** `_index`: the export's own `_index`, else the input path as given. */
  readonly index: string;
  /** `_id`: the export's own `_id`, else the 1-based line number or 0-based array index, as a string. */
  readonly id: string;
  readonly provenance: Provenance;
  /** Position in input order across the whole run, 0-based; the last ordering tiebreaker. */
  readonly seq: number;
}
