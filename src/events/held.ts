/**
 * The forms an event takes while something holds it for long (a sequence's partial match waiting for
 * its next stage, often for the rest of the input): a parsed document takes several times the memory of
 * its line, and V8 copies whatever outlives a young-generation collection, then promotes it. So a held
 * event keeps its line's text, or, for a line of a file read as it is, only where the line lies: it is
 * read back (and parsed) only if it is ever asked for, as when its sequence is reported.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { QuarryError } from "../diagnostics/index.js";
import { parseJsonLossless } from "./json.js";
import { plainEventRecord, ReadEvent } from "./reader.js";
import type { EventRecord, JsonObject, Provenance } from "./types.js";

export const HeldEventCode = { changed: "IN001" } as const;

/** The form to hold an event in: its place in its file, else its text, else itself. */
export function retainEvent(event: EventRecord): EventRecord {
  if (event instanceof HeldEvent) return event;
  if (event instanceof ReadEvent && event.fileOffset >= 0) return new HeldInFile(event);
  if (event.raw.length === 0) return event;
  return new HeldText(event);
}

/** What every held form keeps of an event, and its document parsed again from `raw` when asked for. */
abstract class HeldEvent implements EventRecord {
  readonly index: string;
  readonly id: string;
  readonly seq: number;
  abstract readonly raw: string;
  abstract readonly provenance: Provenance;
  private parsed: JsonObject | undefined;
  constructor(event: EventRecord) {
    this.index = event.index;
    this.id = event.id;
    this.seq = event.seq;
  }
  get source(): JsonObject {
    if (this.parsed === undefined) this.parsed = parseJsonLossless(this.raw) as JsonObject;
    return this.parsed;
  }
  toJSON(): EventRecord {
    return plainEventRecord(this);
  }
}

/** An event held as its text. */
class HeldText extends HeldEvent {
  readonly raw: string;
  readonly provenance: Provenance;
  constructor(event: EventRecord) {
    super(event);
    this.raw = event.raw;
    this.provenance = event.provenance;
  }
}

/**
 * An event held as the place of its line in its file. Reading it back checks the text against a
 * fingerprint taken when it was read (its length and a sample of its characters): a file changed or
 * truncated in the meantime is an error (IN001), never a wrong event.
 */
class HeldInFile extends HeldEvent {
  private readonly file: string;
  private readonly lineNo: number;
  private readonly offset: number;
  private readonly bytes: number;
  private readonly textLength: number;
  private readonly fingerprint: number;
  private text: string | undefined;
  constructor(event: ReadEvent) {
    super(event);
    this.file = event.file;
    this.lineNo = event.lineNo;
    this.offset = event.fileOffset;
    this.bytes = event.fileBytes;
    this.textLength = event.raw.length;
    this.fingerprint = fingerprintOf(event.raw);
  }
  get provenance(): Provenance {
    return { file: this.file, line: this.lineNo };
  }
  get raw(): string {
    if (this.text === undefined) this.text = this.readBack();
    return this.text;
  }

  private readBack(): string {
    const buf = Buffer.allocUnsafe(this.bytes);
    let got = 0;
    let reason = "";
    try {
      const fd = openSync(this.file, "r");
      try {
        while (got < this.bytes) {
          const n = readSync(fd, buf, got, this.bytes - got, this.offset + got);
          if (n === 0) break;
          got += n;
        }
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      reason = (error as Error).message;
    }
    const text = buf.toString("utf8", 0, got);
    if (reason === "" && (text.length !== this.textLength || fingerprintOf(text) !== this.fingerprint))
      reason = got < this.bytes ? "the file is shorter" : "the line's text differs";
    if (reason !== "")
      throw new QuarryError({
        code: HeldEventCode.changed,
        severity: "error",
        title: `${this.file}:${this.lineNo}: the event read there could not be read again (${reason}); the file changed while it was being hunted`,
        labels: [],
        help: "run on a copy of the input that does not change (logs being written or rotated), or on the gzipped file",
      });
    return text;
  }
}

/** A hash of the length and up to 64 characters spread over the text (cheap: taken for every held line). */
function fingerprintOf(text: string): number {
  const step = Math.max(1, Math.floor(text.length / 64));
  let h = 0x811c9dc5 ^ text.length;
  for (let i = 0; i < text.length; i += step) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
