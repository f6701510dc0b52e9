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
import { compileFirstValue } from "./field-access.js";
import { hasLongDigitRun, parseJsonLossless, stringifyJson } from "./json.js";
import { describeFsError, expandInputs, type InputSource, openChunks } from "./sources.js";
import { compareTimestamps, parseTimestamp, type Timestamp } from "./timestamp.js";
import type { EventRecord, JsonObject, JsonValue, Provenance } from "./types.js";

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
   * A test on raw bytes before decoding (NDJSON only; see LinePrefilter). It may accept lines that turn
   * out not to match, but must never reject a line the consumer needs: rejected lines are counted in
   * `prefiltered` and not parsed (so a malformed line that fails the test is not reported either).
   * A prefilter that keeps more than 3 lines in 4 of a file's first 4,096 is dropped for the rest of that
   * file (every line is parsed, as without one): it saves too few parses to pay for its searches.
   */
  readonly prefilter?: LinePrefilter;
  /**
   * Keep `summary.minTime`/`maxTime` exact under a prefilter: a line it skips still counts with its
   * timestamp, read from its text when the line starts with the (single-segment) timestamp key; a line
   * where that cannot be done cheaply is decoded instead of skipped. For consumers whose results depend
   * on the input's time span (a hunt's "now").
   */
  readonly keepTimeBounds?: boolean;
  /** `seq` of the first event (for readers that stitch several streams into one input order). Default 0. */
  readonly firstSeq?: number;
  /** Events per yielded batch. Default 64 (small batches keep parsed events in V8's young generation). */
  readonly batchSize?: number;
}

/**
 * What a line must contain for a query to need it, tested on raw bytes (implemented by src/prefilter).
 * Literals never span lines: JSON text holds no raw newline inside a value.
 */
export interface LinePrefilter {
  /** Offset of the first byte of the earliest possible hit in buf[from, end), or -1 when there is none. */
  next(buf: Buffer, from: number, end: number): number;
  /** The complete check of one line buf[start, end): false only when the query cannot need it. */
  line(buf: Buffer, start: number, end: number): boolean;
  readonly description: string;
}

export interface ReadSummary {
  files: number;
  unreadableFiles: number;
  /** Raw bytes read from disk (compressed size for gzip). */
  bytes: number;
  /** NDJSON lines seen (decoded, blank, skipped or prefiltered); JSON documents add nothing here. */
  lines: number;
  events: number;
  /** Lines or elements skipped as malformed, too long or not objects. */
  skippedLines: number;
  /** Events whose timestamp could not be read (skipped under `timestamps: "require"`). */
  timestampErrors: number;
  /** Events dropped by `from`/`to`. */
  outOfRange: number;
  /** Files cut short by corrupt or truncated compression or JSON. */
  truncatedFiles: number;
  /** Lines rejected by the prefilter without being decoded. */
  prefiltered: number;
  /** Earliest and latest timestamps of the events read (within --from/--to), when timestamps are read. */
  minTime?: Timestamp;
  maxTime?: Timestamp;
}

export interface EventStream extends AsyncIterable<EventRecord[]> {
  readonly summary: ReadSummary;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Read events from files, directories and `-`, in input order, in batches. */
export function readEvents(inputs: readonly string[], options: ReadOptions = {}): EventStream {
  const summary = emptySummary();
  return {
    summary,
    [Symbol.asyncIterator]: () =>
      iterate(() => expandInputs(inputs, options), options, summary)[Symbol.asyncIterator](),
  };
}

/**
 * Read already-resolved sources (e.g. byte ranges of one file, for parallel readers). Line numbers in
 * provenance and ids count from the first line of each source.
 */
export function readSources(sources: readonly InputSource[], options: ReadOptions = {}): EventStream {
  const summary = emptySummary();
  return {
    summary,
    [Symbol.asyncIterator]: () =>
      iterate(async () => ({ sources, errors: [] }), options, summary)[Symbol.asyncIterator](),
  };
}

export function emptySummary(): ReadSummary {
  return {
    files: 0,
    unreadableFiles: 0,
    bytes: 0,
    lines: 0,
    events: 0,
    skippedLines: 0,
    timestampErrors: 0,
    outOfRange: 0,
    truncatedFiles: 0,
    prefiltered: 0,
  };
}

async function* iterate(
  expand: () => Promise<{
    sources: readonly InputSource[];
    errors: readonly { path: string; message: string }[];
  }>,
  options: ReadOptions,
  summary: ReadSummary,
): AsyncGenerator<EventRecord[]> {
  const { sources, errors } = await expand();
  const report = (issue: InputIssue) => options.onIssue?.(issue);
  for (const e of errors) {
    summary.unreadableFiles++;
    report({ kind: "unreadable", file: e.path, message: e.message });
  }
  const decoder = new EventDecoder(options, summary, report);
  const batchSize = options.batchSize ?? 64;
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
    summary.lines += decoder.linesInFile;
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
  // Plain files: each line's byte offset goes with its event (see EventRecord.location).
  let plainFile = false;
  /** File offset of the first chunk's first byte (a range starts inside the file). */
  let base = 0;
  const chunks = openChunks(
    source,
    (n) => {
      summary.bytes += n;
      options.onBytes?.(n);
    },
    (offset) => {
      plainFile = true;
      base = offset;
    },
  );
  let mode: "detect" | "lines" | "values" = "detect";
  const lines = new LineSplitter(maxLine, options.prefilter);
  const values = new ValueSplitter(maxLine);
  let detectBuffer: Buffer[] = [];
  let detectBytes = 0;
  function* feedMode(chunk: Buffer, final: boolean): Generator<EventRecord[]> {
    const offset = plainFile ? base + decoder.bytesInFile - chunk.length : -1;
    if (mode === "lines") yield* lines.push(chunk, decoder, final, batchSize, offset);
    else values.push(chunk, decoder, final);
  }
  for await (const chunk of chunks) {
    decoder.bytesInFile += chunk.length;
    if (mode === "detect") {
      detectBytes += chunk.length;
      // Usually the first block decides, and is fed as it is; otherwise the blocks so far are kept
      // (copied: the source reuses a block's memory for the next one) until one does.
      const head = detectBuffer.length === 0 ? chunk : Buffer.concat([...detectBuffer, chunk]);
      const decided = detectMode(head, detectBytes >= maxLine);
      if (decided === undefined) {
        detectBuffer = [Buffer.from(head)];
        continue;
      }
      mode = decided;
      detectBuffer = [];
      yield* feedMode(head, false);
    } else yield* feedMode(chunk, false);
    if (decoder.batch.length >= batchSize) yield decoder.flushBatch();
  }
  if (mode === "detect") {
    const head = Buffer.concat(detectBuffer);
    mode = detectMode(head, true) ?? "lines";
    yield* feedMode(head, true);
  } else yield* feedMode(Buffer.alloc(0), true);
  if (decoder.batch.length > 0) yield decoder.flushBatch();
}

/**
 * Decide between NDJSON (`lines`) and one JSON document or array (`values`) from the first bytes.
 * Undefined: need more bytes.
 */
export function detectMode(head: Buffer, final: boolean): "lines" | "values" | undefined {
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

/** Lines of a file over which a prefilter's keep rate is measured (see ReadOptions.prefilter). */
const PREFILTER_GUARD_LINES = 4096;
/** A prefilter keeping more than this fraction of those lines is dropped for the rest of the file. */
const PREFILTER_MAX_KEEP = 0.75;

/**
 * Splits NDJSON on Buffers (newline search is byte-level); a line over the limit is skipped, not buffered.
 * Yields a batch as soon as it fills, even mid-block, so that events die young in V8's nursery: holding a
 * whole 1 MiB block of parsed events at once promotes them and doubled the reader's cost in GC.
 *
 * With a prefilter, whole runs of lines are skipped without decoding: `next()` finds the earliest possible
 * hit in the block, the lines before it are only counted (and length-checked), and the hit's line is
 * verified with `line()` before it is parsed. A prefilter that keeps more than PREFILTER_MAX_KEEP of the
 * file's first PREFILTER_GUARD_LINES lines is dropped for the rest of the file: skipping a quarter of the
 * parses does not pay for a search of every line (lines it let the decoder read for their timestamps
 * count as ruled out, which only ever keeps a prefilter).
 */
class LineSplitter {
  private pending: Buffer[] = [];
  /** Lines the prefilter kept and ruled out while its keep rate is measured (`judging`). */
  private kept = 0;
  private ruledOut = 0;
  private judging = true;
  private prefilter: LinePrefilter | undefined;
  private pendingBytes = 0;
  private skipping = false;
  /** File offset of the carried line's first byte (-1: not a plain file). */
  private carriedOffset = -1;
  /** File offset of the current chunk's first byte (-1: not a plain file). */
  private chunkOffset = -1;
  constructor(
    private readonly maxLine: number,
    prefilter: LinePrefilter | undefined,
  ) {
    this.prefilter = prefilter;
  }

  /** Count a prefilter's decisions over the first lines; drop it if it keeps most of them. */
  private judge(kept: number, ruledOut: number): void {
    this.kept += kept;
    this.ruledOut += ruledOut;
    const seen = this.kept + this.ruledOut;
    if (seen < PREFILTER_GUARD_LINES) return;
    if (this.kept > PREFILTER_MAX_KEEP * seen) this.prefilter = undefined;
    this.judging = false;
  }

  *push(
    chunk: Buffer,
    decoder: EventDecoder,
    final: boolean,
    batchSize: number,
    chunkOffset = -1,
  ): Generator<EventRecord[]> {
    this.chunkOffset = chunkOffset;
    let start = 0;
    const end = chunk.length;
    if (this.pendingBytes > 0 || this.skipping) {
      const nl = chunk.indexOf(0x0a);
      if (nl >= 0) {
        decoder.linesInFile++;
        this.finishCarried(chunk.subarray(0, nl), decoder);
        start = nl + 1;
      } else {
        this.carry(chunk, 0);
        start = end;
      }
    }
    while (start < end) {
      const prefilter = this.prefilter;
      if (prefilter) {
        const hit = prefilter.next(chunk, start, end);
        // (lastIndexOf with a negative offset would count from the block's end: a hit at `start` is its
        // own line's start.)
        const lineStart =
          hit < 0 ? end : hit <= start ? start : Math.max(start, chunk.lastIndexOf(0x0a, hit - 1) + 1);
        if (lineStart > start) {
          const before = decoder.linesInFile;
          start = this.skipLines(chunk, start, lineStart, decoder);
          if (this.judging) this.judge(0, decoder.linesInFile - before);
        }
        if (hit < 0) break;
      }
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      decoder.linesInFile++;
      if (nl - start > this.maxLine) decoder.tooLong(decoder.linesInFile, nl - start);
      else {
        const keep = !prefilter || prefilter.line(chunk, start, nl);
        if (prefilter && this.judging) this.judge(keep ? 1 : 0, keep ? 0 : 1);
        if (keep || !decoder.skipLine(chunk, start, nl))
          decoder.line(chunk, start, nl, decoder.linesInFile, this.offsetOf(start));
      }
      start = nl + 1;
      if (decoder.batch.length >= batchSize) yield decoder.flushBatch();
    }
    if (start < end) this.carry(chunk.subarray(start), start);
    if (final && (this.pendingBytes > 0 || this.skipping)) {
      decoder.linesInFile++;
      this.finishCarried(undefined, decoder);
    }
    if (decoder.batch.length >= batchSize) yield decoder.flushBatch();
  }

  /** Counts the complete lines of chunk[from, to) as prefiltered (still reporting over-long ones). */
  private skipLines(chunk: Buffer, from: number, to: number, decoder: EventDecoder): number {
    let p = from;
    while (p < to) {
      const nl = chunk.indexOf(0x0a, p);
      if (nl < 0 || nl >= to) break;
      decoder.linesInFile++;
      if (nl - p > this.maxLine) decoder.tooLong(decoder.linesInFile, nl - p);
      else if (!decoder.skipLine(chunk, p, nl))
        decoder.line(chunk, p, nl, decoder.linesInFile, this.offsetOf(p));
      p = nl + 1;
    }
    return p;
  }

  private offsetOf(at: number): number {
    return this.chunkOffset < 0 ? -1 : this.chunkOffset + at;
  }

  /** Keeps the start of a line that continues in the next block (copied: the block's memory is reused). */
  private carry(part: Buffer, at: number): void {
    if (this.pendingBytes === 0 && !this.skipping) this.carriedOffset = this.offsetOf(at);
    if (this.skipping || this.pendingBytes + part.length > this.maxLine) {
      this.skipping = true;
      this.pending = [];
    } else this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  /** Completes the line carried over from earlier blocks with `tail` (undefined at end of input). */
  private finishCarried(tail: Buffer | undefined, decoder: EventDecoder): void {
    const total = this.pendingBytes + (tail?.length ?? 0);
    if (this.skipping || total > this.maxLine) decoder.tooLong(decoder.linesInFile, total);
    else {
      if (tail) this.pending.push(tail);
      const line = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      if (
        !this.prefilter ||
        this.prefilter.line(line, 0, line.length) ||
        !decoder.skipLine(line, 0, line.length)
      )
        decoder.line(line, 0, line.length, decoder.linesInFile, this.carriedOffset);
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
    this.carriedOffset = -1;
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
  /** Where the line being decoded lies in its file (offset -1: unknown), for ReadEvent.location. */
  private lineOffset = -1;
  private lineBytes = 0;
  linesInFile = 0;
  bytesInFile = 0;
  private file = "";
  private seq = 0;
  private readonly timestampGetter;
  /** `"@timestamp"` as JSON text, for reading skipped lines' times (single-segment fields only). */
  private readonly timeKey: Buffer | undefined;
  private readonly timestampMode: "ignore" | "check" | "require";
  constructor(
    private readonly options: ReadOptions,
    private readonly summary: ReadSummary,
    private readonly report: (issue: InputIssue) => void,
  ) {
    this.timestampGetter = compileFirstValue(options.timestampField ?? "@timestamp");
    this.seq = options.firstSeq ?? 0;
    const field = options.timestampField ?? "@timestamp";
    this.timeKey = field.includes(".") ? undefined : Buffer.from(JSON.stringify(field));
    const mode = options.timestamps ?? "check";
    this.timestampMode = mode === "ignore" && (options.from || options.to) ? "check" : mode;
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

  /** `offset`: the file offset of buf[start] when the file is read as it is (-1 otherwise). */
  line(buf: Buffer, start: number, end: number, lineNo: number, offset = -1): void {
    if (lineNo === 1 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
      start += 3;
      if (offset >= 0) offset += 3;
    }
    if (end > start && buf[end - 1] === 0x0d) end--;
    // Blank lines are not events and not errors.
    let s = start;
    while (s < end && (buf[s] === 0x20 || buf[s] === 0x09 || buf[s] === 0x0d)) s++;
    if (s === end) return;
    const text = buf.toString("utf8", start, end);
    let value: JsonValue;
    try {
      value = parseJsonLossless(text, hasLongDigitRun(buf, start, end));
    } catch (error) {
      this.summary.skippedLines++;
      this.issue("malformed", lineNo, `malformed JSON: ${shortJsonError(error)}`);
      return;
    }
    this.lineOffset = offset;
    this.lineBytes = end - start;
    this.accept(value, text, lineNo, undefined);
    this.lineOffset = -1;
  }

  /**
   * Count a line the prefilter rules out as skipped, unless its timestamp must count (keepTimeBounds) and
   * cannot be read from its first bytes: then false, and the caller decodes it.
   */
  skipLine(buf: Buffer, start: number, end: number): boolean {
    if (this.options.keepTimeBounds && this.timestampMode !== "ignore") {
      const value = this.timeKey ? leadingValue(buf, start, end, this.timeKey) : undefined;
      if (!value) return false;
      // The usual shape is read from its bytes with integer arithmetic (no string, no Date); any other
      // shape goes through the general parser.
      const ms = canonicalIsoMillis(buf, value.start, value.end);
      const ts =
        ms === undefined ? parseTimestamp(buf.toString("latin1", value.start, value.end)) : undefined;
      if (ms === undefined && !ts) return false;
      const time = ts ?? { ms: ms as number, nanos: 0 };
      const summary = this.summary;
      const inside =
        summary.minTime !== undefined &&
        summary.maxTime !== undefined &&
        compareTimestamps(time, summary.minTime) >= 0 &&
        compareTimestamps(time, summary.maxTime) <= 0;
      if (!inside && this.inRange(time)) this.noteTime(time);
    }
    this.summary.prefiltered++;
    return true;
  }

  private inRange(ts: Timestamp): boolean {
    return !(
      (this.options.from && compareTimestamps(ts, this.options.from) < 0) ||
      (this.options.to && compareTimestamps(ts, this.options.to) > 0)
    );
  }

  private noteTime(ts: Timestamp): void {
    const summary = this.summary;
    if (!summary.minTime || compareTimestamps(ts, summary.minTime) < 0) summary.minTime = ts;
    if (!summary.maxTime || compareTimestamps(ts, summary.maxTime) > 0) summary.maxTime = ts;
  }

  value(buf: Buffer, lineNo: number, index: number | undefined): void {
    const text = buf.toString("utf8");
    let value: JsonValue;
    try {
      value = parseJsonLossless(text, hasLongDigitRun(buf, 0, buf.length));
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
      const ts = parseTimestamp(this.timestampGetter(source));
      if (!ts) {
        this.summary.timestampErrors++;
        this.issue(
          "timestamp",
          lineNo,
          `${index !== undefined ? `element ${index}: ` : ""}no readable ${this.options.timestampField ?? "@timestamp"}${this.timestampMode === "require" ? "; skipped" : ""}`,
        );
        if (this.timestampMode === "require") return;
      } else if (!this.inRange(ts)) {
        this.summary.outOfRange++;
        return;
      } else this.noteTime(ts);
    }
    this.summary.events++;
    this.batch.push(
      new ReadEvent(
        source,
        text ?? stringifyJson(source),
        esIndex,
        esId,
        this.file,
        lineNo,
        index,
        this.seq++,
        // The line is the event's own text only when it is not a wrapped hit or an array element.
        text !== undefined && index === undefined ? this.lineOffset : -1,
        this.lineBytes,
      ),
    );
  }
}

/**
 * An EventRecord whose `id` and `provenance` are built only when asked for: most events are never output,
 * and two allocations per event showed in the reader's profile.
 */
export class ReadEvent implements EventRecord {
  readonly index: string;
  constructor(
    readonly source: JsonObject,
    readonly raw: string,
    index: string | undefined,
    /** The export's own `_id`, when the event came wrapped in a hit. */
    readonly exportId: string | undefined,
    readonly file: string,
    readonly lineNo: number,
    readonly elementIndex: number | undefined,
    readonly seq: number,
    /**
     * Where `raw` lies in `file` as bytes, when the file was read as it is (not gunzipped, not stdin) and
     * the line is the event (-1 otherwise): what lets a long-held event be read back instead of kept.
     */
    readonly fileOffset = -1,
    readonly fileBytes = 0,
  ) {
    this.index = index ?? file;
  }

  get id(): string {
    return this.exportId ?? String(this.elementIndex ?? this.lineNo);
  }

  get provenance(): Provenance {
    return this.elementIndex !== undefined
      ? { file: this.file, line: this.lineNo, index: this.elementIndex }
      : { file: this.file, line: this.lineNo };
  }

  toJSON(): EventRecord {
    return plainEventRecord(this);
  }
}

/**
 * An event as plain data, for JSON.stringify and structured clone of records whose fields are getters
 * (getters are not own properties, so they would be lost).
 */
export function plainEventRecord(event: EventRecord): EventRecord {
  return {
    source: event.source,
    raw: event.raw,
    index: event.index,
    id: event.id,
    provenance: event.provenance,
    seq: event.seq,
  };
}

/**
 * Where the value of a line that starts `{"<key>": <value>` (spaces allowed) lies, read without parsing the
 * line: the first key of the top-level object is certainly the top-level field. For a string, the range
 * excludes the quotes. Undefined when the line does not start so, or the value is not a plain (escape-free,
 * ASCII, short) string or a plain number.
 */
function leadingValue(
  buf: Buffer,
  start: number,
  end: number,
  key: Buffer,
): { start: number; end: number } | undefined {
  let i = start;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  if (buf[i] !== 0x7b) return undefined;
  i++;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  for (let k = 0; k < key.length; k++) if (buf[i + k] !== key[k]) return undefined;
  i += key.length;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  if (buf[i] !== 0x3a) return undefined;
  i++;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  if (buf[i] === 0x22) {
    const from = i + 1;
    let j = from;
    while (j < end && j - from <= 64 && buf[j] !== 0x22) {
      if (buf[j] === 0x5c || buf[j] >= 0x80) return undefined;
      j++;
    }
    return buf[j] === 0x22 ? { start: from, end: j } : undefined;
  }
  let j = i;
  while (j < end && j - i < 32 && ((buf[j] >= 0x30 && buf[j] <= 0x39) || buf[j] === 0x2d || buf[j] === 0x2e))
    j++;
  if (j === i || !(buf[j] === 0x2c || buf[j] === 0x7d || buf[j] === 0x20)) return undefined;
  return { start: i, end: j };
}

/**
 * Epoch milliseconds of `YYYY-MM-DDTHH:MM:SS.sssZ` in buf[start, end), or undefined for any other shape.
 * Days from the civil date by integer arithmetic (H. Hinnant's algorithm), with the same roll-over as
 * Date.UTC for out-of-range days and leap seconds, and the same limits as the general parser.
 */
function canonicalIsoMillis(buf: Buffer, start: number, end: number): number | undefined {
  if (
    end - start !== 24 ||
    buf[start + 4] !== 0x2d ||
    buf[start + 7] !== 0x2d ||
    buf[start + 10] !== 0x54 ||
    buf[start + 13] !== 0x3a ||
    buf[start + 16] !== 0x3a ||
    buf[start + 19] !== 0x2e ||
    buf[start + 23] !== 0x5a
  )
    return undefined;
  const digits = (at: number, count: number): number => {
    let value = 0;
    for (let k = at; k < at + count; k++) {
      const d = buf[k] - 48;
      if (d < 0 || d > 9) return -1;
      value = value * 10 + d;
    }
    return value;
  };
  const year = digits(start, 4);
  const month = digits(start + 5, 2);
  const day = digits(start + 8, 2);
  const hour = digits(start + 11, 2);
  const minute = digits(start + 14, 2);
  const second = digits(start + 17, 2);
  const millis = digits(start + 20, 3);
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60 || millis < 0)
    return undefined;
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146097 + doe - 719468;
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis;
}

/** What a parallel reader needs to rebuild an event read elsewhere (a worker) with its true line number. */
export interface EventOrigin {
  readonly raw: string;
  /** `_index` when it came from the export, else undefined (the file). */
  readonly exportIndex: string | undefined;
  readonly exportId: string | undefined;
  readonly line: number;
  readonly elementIndex: number | undefined;
  /** Where the line lies in its file (ReadEvent.fileOffset), when it can be read back from there. */
  readonly fileOffset?: number;
  readonly fileBytes?: number;
}

export function eventOrigin(event: EventRecord): EventOrigin {
  if (event instanceof ReadEvent) {
    return {
      raw: event.raw,
      exportIndex: event.index === event.provenance.file ? undefined : event.index,
      exportId: event.exportId,
      line: event.lineNo,
      elementIndex: event.elementIndex,
      ...(event.fileOffset >= 0 ? { fileOffset: event.fileOffset, fileBytes: event.fileBytes } : {}),
    };
  }
  // Records built elsewhere (tests, other readers) keep their id as it is: it is not renumbered.
  return {
    raw: event.raw,
    exportIndex: event.index === event.provenance.file ? undefined : event.index,
    exportId: event.id,
    line: event.provenance.line ?? 0,
    elementIndex: event.provenance.index,
  };
}

/** Rebuild an event from its origin (parsing `raw` again), at `lineOffset` lines further into `file`. */
export function eventFromOrigin(
  origin: EventOrigin,
  file: string,
  lineOffset: number,
  seq: number,
): EventRecord {
  const source = parseJsonLossless(origin.raw) as JsonObject;
  return new ReadEvent(
    source,
    origin.raw,
    origin.exportIndex,
    origin.exportId,
    file,
    origin.line + lineOffset,
    origin.elementIndex,
    seq,
    origin.fileOffset ?? -1,
    origin.fileBytes ?? 0,
  );
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
