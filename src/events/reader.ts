/**
 * The event reader: sources -> line splitting / JSON value splitting -> decoding -> EventRecords.
 *
 * Contract: nothing is lost silently. Every line or element that is not an event is reported through
 * `onIssue` as `file:line: reason`, counted in the summary, and skipped; the run goes on. Memory is bounded
 * by the largest event (and `maxLineBytes`), never by the file.
 *
 * Formats are detected from content: NDJSON (also of Elasticsearch hits `{_index,_id,_source}`), a JSON
 * array of objects (streamed element by element), or one JSON document (an object, or a saved `_search` /
 * `_eql/search` response whose `hits.hits[]`, `hits.events[]` or `hits.sequences[].events[]` are unwrapped).
 */
import { compileField } from "./field-access.js";
import { parseJsonLossless, stringifyJson } from "./json.js";
import { describeFsError, expandInputs, type InputSource, openChunks } from "./sources.js";
import { compareTimestamps, parseTimestamp, type Timestamp } from "./timestamp.js";
import type { EventRecord, JsonObject, JsonValue } from "./types.js";

export type InputIssueKind =
  | "malformed"
  | "too-long"
  | "not-an-object"
  | "timestamp"
  | "unreadable"
  | "gzip"
  | "truncated";

export interface InputIssue {
  readonly kind: InputIssueKind;
  readonly file: string;
  /** 1-based line where the problem starts, when there is one. */
  readonly line?: number;
  readonly message: string;
}

export function formatIssue(issue: InputIssue): string {
  return `${issue.file}${issue.line !== undefined ? `:${issue.line}` : ""}: ${issue.message}`;
}

export interface ReadOptions {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Lines (or array elements) longer than this are skipped with a diagnostic. Default 64 MiB. */
  readonly maxLineBytes?: number;
  /** Field holding the event time. Default `@timestamp`. */
  readonly timestampField?: string;
  /**
   * `ignore`: never read timestamps. `check`: report and count unreadable ones but keep the event.
   * `require`: report, count and skip events without a readable timestamp (for time-ordered work).
   * Default `check`. `from`/`to` imply at least `check`.
   */
  readonly timestamps?: "ignore" | "check" | "require";
  /** Inclusive time bounds; events outside are dropped (not an error). */
  readonly from?: Timestamp;
  readonly to?: Timestamp;
  readonly onIssue?: (issue: InputIssue) => void;
  /** Called with raw (compressed) bytes read, for progress. */
  readonly onBytes?: (n: number) => void;
  /**
   * A candidate test on a line's raw bytes before it is decoded (NDJSON only). It may accept lines that
   * turn out not to match, but must never reject a line the consumer needs: rejected lines are counted in
   * `prefiltered` and not parsed (so a malformed line that fails the test is not reported either).
   */
  readonly lineFilter?: (buf: Buffer, start: number, end: number) => boolean;
  /** Events per yielded batch. Default 1024. */
  readonly batchSize?: number;
}

export interface ReadSummary {
  files: number;
  unreadableFiles: number;
  /** Raw bytes read from disk (compressed size for gzip). */
  bytes: number;
  events: number;
  /** Lines or elements skipped as malformed, too long or not objects. */
  skippedLines: number;
  /** Events whose timestamp could not be read (skipped under `timestamps: "require"`). */
  timestampErrors: number;
  /** Events dropped by `from`/`to`. */
  outOfRange: number;
  /** Files cut short by corrupt or truncated compression or JSON. */
  truncatedFiles: number;
  /** Lines rejected by `lineFilter` without being decoded. */
  prefiltered: number;
}

export interface EventStream extends AsyncIterable<EventRecord[]> {
  readonly summary: ReadSummary;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Read events from files, directories and `-`, in input order, in batches. */
export function readEvents(inputs: readonly string[], options: ReadOptions = {}): EventStream {
  const summary: ReadSummary = {
    files: 0,
    unreadableFiles: 0,
    bytes: 0,
    events: 0,
    skippedLines: 0,
    timestampErrors: 0,
    outOfRange: 0,
    truncatedFiles: 0,
    prefiltered: 0,
  };
  return {
    summary,
    [Symbol.asyncIterator]: () => iterate(inputs, options, summary)[Symbol.asyncIterator](),
  };
}

async function* iterate(
  inputs: readonly string[],
  options: ReadOptions,
  summary: ReadSummary,
): AsyncGenerator<EventRecord[]> {
  const { sources, errors } = await expandInputs(inputs, options);
  const report = (issue: InputIssue) => options.onIssue?.(issue);
  for (const e of errors) {
    summary.unreadableFiles++;
    report({ kind: "unreadable", file: e.path, message: e.message });
  }
  const decoder = new EventDecoder(options, summary, report);
  const batchSize = options.batchSize ?? 1024;
  for (const source of sources) {
    summary.files++;
    decoder.beginFile(source);
    try {
      for await (const batch of decodeSource(source, decoder, options, summary, batchSize)) yield batch;
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (
        e?.code === "Z_BUF_ERROR" ||
        e?.code === "Z_DATA_ERROR" ||
        e?.code === "Z_STREAM_ERROR" ||
        /zlib|gzip|header check|unexpected end of file/i.test(e?.message ?? "")
      ) {
        summary.truncatedFiles++;
        report({
          kind: "gzip",
          file: source.path,
          message: `corrupt or truncated gzip after ${decoder.linesInFile} lines (${decoder.bytesInFile} decompressed bytes): ${e.message}; events read before it are kept`,
        });
      } else if (e?.code) {
        summary.unreadableFiles++;
        report({ kind: "unreadable", file: source.path, message: describeFsError(error) });
      } else throw error;
    }
    const tail = decoder.flushBatch();
    if (tail.length > 0) yield tail;
  }
}

async function* decodeSource(
  source: InputSource,
  decoder: EventDecoder,
  options: ReadOptions,
  summary: ReadSummary,
  batchSize: number,
): AsyncGenerator<EventRecord[]> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const chunks = openChunks(source, (n) => {
    summary.bytes += n;
    options.onBytes?.(n);
  });
  let mode: "detect" | "lines" | "values" = "detect";
  const lines = new LineSplitter(maxLine);
  const values = new ValueSplitter(maxLine);
  let detectBuffer: Buffer[] = [];
  let detectBytes = 0;
  const feedMode = (chunk: Buffer, final: boolean) => {
    if (mode === "lines") lines.push(chunk, decoder, final);
    else values.push(chunk, decoder, final);
  };
  for await (const chunk of chunks) {
    decoder.bytesInFile += chunk.length;
    if (mode === "detect") {
      detectBuffer.push(chunk);
      detectBytes += chunk.length;
      const head = Buffer.concat(detectBuffer);
      const decided = detectMode(head, detectBytes >= maxLine);
      if (decided === undefined) continue;
      mode = decided;
      detectBuffer = [];
      feedMode(head, false);
    } else feedMode(chunk, false);
    if (decoder.batch.length >= batchSize) yield decoder.flushBatch();
  }
  if (mode === "detect") {
    const head = Buffer.concat(detectBuffer);
    mode = detectMode(head, true) ?? "lines";
    feedMode(head, true);
  } else feedMode(Buffer.alloc(0), true);
  if (decoder.batch.length > 0) yield decoder.flushBatch();
}

/**
 * Decide between NDJSON (`lines`) and one JSON document or array (`values`) from the first bytes.
 * Undefined: need more bytes.
 */
function detectMode(head: Buffer, final: boolean): "lines" | "values" | undefined {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09))
    i++;
  if (i >= head.length) return final ? "lines" : undefined;
  if (head[i] === 0x5b /* [ */) return "values";
  if (head[i] !== 0x7b /* { */) return "lines";
  const nl = head.indexOf(0x0a, i);
  if (nl < 0) return final ? "values" : undefined;
  const firstLine = head.toString("utf8", i, nl).trim();
  try {
    JSON.parse(firstLine);
    return "lines";
  } catch {
    // A pretty-printed document starts with a line that cannot be complete JSON on its own.
    return /[{[,:]$/.test(firstLine) ? "values" : "lines";
  }
}

/** Splits NDJSON on Buffers (newline search is byte-level); a line over the limit is skipped, not buffered. */
class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  constructor(private readonly maxLine: number) {}

  push(chunk: Buffer, decoder: EventDecoder, final: boolean): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      decoder.linesInFile++;
      if (this.skipping) {
        this.skipping = false;
        decoder.tooLong(decoder.linesInFile, this.pendingBytes + nl - start);
        this.pendingBytes = 0;
      } else if (this.pendingBytes > 0) {
        if (this.pendingBytes + nl - start > this.maxLine) {
          decoder.tooLong(decoder.linesInFile, this.pendingBytes + nl - start);
        } else {
          this.pending.push(chunk.subarray(start, nl));
          const line = Buffer.concat(this.pending);
          decoder.line(line, 0, line.length, decoder.linesInFile);
        }
        this.pending = [];
        this.pendingBytes = 0;
      } else if (nl - start > this.maxLine) {
        decoder.tooLong(decoder.linesInFile, nl - start);
      } else {
        decoder.line(chunk, start, nl, decoder.linesInFile);
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      if (this.skipping || this.pendingBytes + rest > this.maxLine) {
        this.skipping = true;
        this.pending = [];
        this.pendingBytes += rest;
      } else {
        // Copy: the chunk's memory may be reused by the stream.
        this.pending.push(Buffer.from(chunk.subarray(start)));
        this.pendingBytes += rest;
      }
    }
    if (final && (this.pendingBytes > 0 || this.skipping)) {
      decoder.linesInFile++;
      if (this.skipping) decoder.tooLong(decoder.linesInFile, this.pendingBytes);
      else {
        const line = Buffer.concat(this.pending);
        decoder.line(line, 0, line.length, decoder.linesInFile);
      }
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = false;
    }
  }
}

/**
 * Splits a JSON document into values: the elements of a top-level array, or top-level values
 * (one object, or several concatenated). Tracks strings and nesting byte by byte; an element over the
 * limit is skipped while scanning continues.
 */
class ValueSplitter {
  private depth = 0;
  private inString = false;
  private escape = false;
  /** True when the document's top level is an array whose elements are the values. */
  private arrayMode = false;
  private started = false;
  private elementIndex = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private collecting = false;
  private oversized = false;
  private elementStartLine = 1;
  private line = 1;
  private bomChecked = false;
  constructor(private readonly maxLine: number) {}

  push(chunk: Buffer, decoder: EventDecoder, final: boolean): void {
    let i = 0;
    if (!this.bomChecked && chunk.length > 0) {
      this.bomChecked = true;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }
    let segStart = this.collecting ? i : -1;
    const valueDepth = () => (this.arrayMode ? 1 : 0);
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 0x0a) this.line++;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 0x5c) this.escape = true;
        else if (c === 0x22) {
          this.inString = false;
          // A bare string element ends with its closing quote.
          if (this.collecting && this.depth === valueDepth())
            this.finishElement(chunk, segStart, i + 1, decoder);
        }
        continue;
      }
      const isSpace = c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
      if (!this.collecting) {
        if (isSpace) continue;
        if (!this.started) {
          this.started = true;
          if (c === 0x5b) {
            this.arrayMode = true;
            this.depth = 1;
            continue;
          }
        }
        if (this.arrayMode && this.depth === 1 && (c === 0x2c || c === 0x5d)) {
          if (c === 0x5d) this.depth = 0;
          continue;
        }
        if (this.arrayMode && this.depth === 0) {
          decoder.issue("malformed", this.line, "unexpected data after the end of the top-level array");
          this.started = false;
          this.arrayMode = false;
        }
        this.collecting = true;
        this.oversized = false;
        this.elementStartLine = this.line;
        segStart = i;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) this.depth--;
      const atEnd =
        (this.depth === valueDepth() && (c === 0x7d || c === 0x5d)) ||
        (this.depth === valueDepth() && !isStructural(c) && isValueEnd(chunk, i));
      if (this.depth < valueDepth()) {
        // `]` closing the top-level array right after a scalar, or a stray closer.
        this.finishElement(chunk, segStart, i, decoder);
        this.depth = Math.max(0, this.depth);
        continue;
      }
      if (atEnd && !this.inString) {
        this.finishElement(chunk, segStart, i + 1, decoder);
      }
    }
    if (this.collecting && segStart >= 0) this.keep(chunk.subarray(segStart));
    if (final) {
      if (this.collecting || this.inString || this.depth > 0) {
        decoder.truncated(this.elementStartLine, this.arrayMode ? this.elementIndex : undefined);
      }
      this.collecting = false;
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  private keep(part: Buffer): void {
    if (this.oversized) {
      this.pendingBytes += part.length;
      return;
    }
    if (this.pendingBytes + part.length > this.maxLine) {
      this.oversized = true;
      this.pending = [];
      this.pendingBytes += part.length;
      return;
    }
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private finishElement(chunk: Buffer, segStart: number, end: number, decoder: EventDecoder): void {
    if (!this.collecting) return;
    this.collecting = false;
    const index = this.elementIndex++;
    if (this.oversized || this.pendingBytes + (end - segStart) > this.maxLine) {
      decoder.tooLong(
        this.elementStartLine,
        this.pendingBytes + (end - segStart),
        this.arrayMode ? index : undefined,
      );
    } else if (this.pendingBytes > 0) {
      this.pending.push(chunk.subarray(segStart, end));
      const text = Buffer.concat(this.pending);
      decoder.value(text, this.elementStartLine, this.arrayMode ? index : undefined);
    } else {
      decoder.value(chunk.subarray(segStart, end), this.elementStartLine, this.arrayMode ? index : undefined);
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.oversized = false;
  }
}

function isStructural(c: number): boolean {
  return c === 0x7b || c === 0x7d || c === 0x5b || c === 0x5d || c === 0x22 || c === 0x2c;
}

/** A bare scalar (number, true, null) ends where the next byte is a delimiter. */
function isValueEnd(chunk: Buffer, i: number): boolean {
  if (i + 1 >= chunk.length) return false;
  const n = chunk[i + 1];
  return n === 0x2c || n === 0x5d || n === 0x7d || n === 0x20 || n === 0x0a || n === 0x0d || n === 0x09;
}

/** Turns texts into EventRecords: lossless parse, hit unwrapping, provenance, timestamp checks. */
class EventDecoder {
  batch: EventRecord[] = [];
  linesInFile = 0;
  bytesInFile = 0;
  private file = "";
  private seq = 0;
  private readonly timestampGetter;
  private readonly timestampMode: "ignore" | "check" | "require";
  private readonly lineFilter: ReadOptions["lineFilter"];
  constructor(
    private readonly options: ReadOptions,
    private readonly summary: ReadSummary,
    private readonly report: (issue: InputIssue) => void,
  ) {
    this.timestampGetter = compileField(options.timestampField ?? "@timestamp");
    const mode = options.timestamps ?? "check";
    this.timestampMode = mode === "ignore" && (options.from || options.to) ? "check" : mode;
    this.lineFilter = options.lineFilter;
  }

  beginFile(source: InputSource): void {
    this.file = source.path;
    this.linesInFile = 0;
    this.bytesInFile = 0;
  }

  flushBatch(): EventRecord[] {
    const out = this.batch;
    this.batch = [];
    return out;
  }

  issue(kind: InputIssueKind, line: number | undefined, message: string): void {
    this.report({ kind, file: this.file, line, message });
  }

  tooLong(line: number, bytes: number, index?: number): void {
    this.summary.skippedLines++;
    this.issue(
      "too-long",
      line,
      `${index !== undefined ? `array element ${index}: ` : ""}line of ${bytes} bytes exceeds --max-line-bytes (${this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES}); skipped`,
    );
  }

  truncated(line: number, index?: number): void {
    this.summary.truncatedFiles++;
    this.summary.skippedLines++;
    this.issue(
      "truncated",
      line,
      `${index !== undefined ? `array element ${index}: ` : ""}JSON document ends before this value is complete (truncated file?); events before it are kept`,
    );
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    if (lineNo === 1 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    if (end > start && buf[end - 1] === 0x0d) end--;
    // Blank lines are not events and not errors.
    let s = start;
    while (s < end && (buf[s] === 0x20 || buf[s] === 0x09 || buf[s] === 0x0d)) s++;
    if (s === end) return;
    if (this.lineFilter && !this.lineFilter(buf, start, end)) {
      this.summary.prefiltered++;
      return;
    }
    const text = buf.toString("utf8", start, end);
    let value: JsonValue;
    try {
      value = parseJsonLossless(text);
    } catch (error) {
      this.summary.skippedLines++;
      this.issue("malformed", lineNo, `malformed JSON: ${shortJsonError(error)}`);
      return;
    }
    this.accept(value, text, lineNo, undefined);
  }

  value(buf: Buffer, lineNo: number, index: number | undefined): void {
    const text = buf.toString("utf8");
    let value: JsonValue;
    try {
      value = parseJsonLossless(text);
    } catch (error) {
      this.summary.skippedLines++;
      this.issue(
        "malformed",
        lineNo,
        `${index !== undefined ? `array element ${index}: ` : ""}malformed JSON: ${shortJsonError(error)}`,
      );
      return;
    }
    this.accept(value, text, lineNo, index);
  }

  private accept(value: JsonValue, text: string, lineNo: number, index: number | undefined): void {
    if (value === null || typeof value !== "object") {
      this.summary.skippedLines++;
      this.issue(
        "not-an-object",
        lineNo,
        `${index !== undefined ? `array element ${index}: ` : ""}not a JSON object (${value === null ? "null" : typeof value})`,
      );
      return;
    }
    if (Array.isArray(value)) {
      // A whole-document array that did not stream (e.g. nested in a value): take its objects.
      value.forEach((element, i) => {
        if (element !== null && typeof element === "object" && !Array.isArray(element)) {
          this.emit(element, undefined, lineNo, i);
        } else {
          this.summary.skippedLines++;
          this.issue("not-an-object", lineNo, `array element ${i}: not a JSON object`);
        }
      });
      return;
    }
    const hits = searchResponseHits(value);
    if (hits) {
      hits.forEach((hit, i) => {
        this.emit(hit, undefined, lineNo, i);
      });
      return;
    }
    this.emit(value, text, lineNo, index);
  }

  private emit(doc: JsonObject, text: string | undefined, lineNo: number, index: number | undefined): void {
    let source = doc;
    let esIndex: string | undefined;
    let esId: string | undefined;
    if (isHit(doc)) {
      source = doc._source as JsonObject;
      esIndex = typeof doc._index === "string" ? doc._index : undefined;
      esId = typeof doc._id === "string" ? doc._id : undefined;
      text = undefined;
    }
    if (this.timestampMode !== "ignore") {
      const ts = parseTimestamp(this.timestampGetter(source)[0]);
      if (!ts) {
        this.summary.timestampErrors++;
        this.issue(
          "timestamp",
          lineNo,
          `${index !== undefined ? `element ${index}: ` : ""}no readable ${this.options.timestampField ?? "@timestamp"}${this.timestampMode === "require" ? "; skipped" : ""}`,
        );
        if (this.timestampMode === "require") return;
      } else if (
        (this.options.from && compareTimestamps(ts, this.options.from) < 0) ||
        (this.options.to && compareTimestamps(ts, this.options.to) > 0)
      ) {
        this.summary.outOfRange++;
        return;
      }
    }
    this.summary.events++;
    this.batch.push({
      source,
      raw: text ?? stringifyJson(source),
      index: esIndex ?? this.file,
      id: esId ?? (index !== undefined ? String(index) : String(lineNo)),
      provenance:
        index !== undefined ? { file: this.file, line: lineNo, index } : { file: this.file, line: lineNo },
      seq: this.seq++,
    });
  }
}

function isHit(doc: JsonObject): boolean {
  const source = doc._source;
  return (
    source !== null &&
    typeof source === "object" &&
    !Array.isArray(source) &&
    ("_id" in doc || "_index" in doc)
  );
}

/** `hits.hits[]`, `hits.events[]` and `hits.sequences[].events[]` of a saved search response. */
function searchResponseHits(doc: JsonObject): JsonObject[] | undefined {
  const hits = doc.hits;
  if (hits === null || typeof hits !== "object" || Array.isArray(hits) || typeof hits === "bigint")
    return undefined;
  const out: JsonObject[] = [];
  const take = (list: JsonValue | undefined) => {
    if (!Array.isArray(list)) return false;
    for (const h of list)
      if (h !== null && typeof h === "object" && !Array.isArray(h) && isHit(h)) out.push(h);
    return true;
  };
  const a = take(hits.hits);
  const b = take(hits.events);
  let c = false;
  if (Array.isArray(hits.sequences)) {
    c = true;
    for (const s of hits.sequences)
      if (s !== null && typeof s === "object" && !Array.isArray(s)) take(s.events);
  }
  return a || b || c ? out : undefined;
}

function shortJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 160 ? `${message.slice(0, 160)}...` : message;
}
