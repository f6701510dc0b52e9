import type { JsonValue } from "./types.js";

/**
 * A point in time with nanosecond precision. `ms` is integer epoch milliseconds (safe in a double for any
 * real date); `nanos` is the 0..999_999 nanoseconds within that millisecond. Two numbers rather than one
 * because epoch nanoseconds exceed 2^53.
 */
export interface Timestamp {
  readonly ms: number;
  readonly nanos: number;
}

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.ms - b.ms || a.nanos - b.nanos;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * The two texts parsed last and their times: an event's `@timestamp` is parsed by the reader's time
 * filter, the time-order check, the hunt's pass and its sequences in turn, each from the same string, with
 * rules' `timestamp_override` (`event.ingested`) parsed in between. Callers share the returned object (a
 * Timestamp's fields are readonly).
 */
let lastText: string | undefined;
let lastTime: Timestamp | undefined;
let previousText: string | undefined;
let previousTime: Timestamp | undefined;

/**
 * Read a timestamp the way Elasticsearch's default `strict_date_optional_time||epoch_millis` does:
 * ISO-8601 with or without a fraction (up to nanoseconds), with `Z`, an offset or no zone (UTC), or epoch
 * milliseconds as a number or numeric string, with or without a fraction. Returns undefined when unreadable.
 */
export function parseTimestamp(value: JsonValue | undefined): Timestamp | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return fromEpochMillisText(String(value), value);
  if (typeof value === "bigint") return fromEpochMillisText(value.toString(), Number(value));
  if (typeof value !== "string") return undefined;
  if (value === lastText) return lastTime;
  if (value === previousText) return previousTime;
  const time = parseText(value);
  // Only short texts are kept: a hostile multi-megabyte value is neither held nor compared again.
  if (value.length <= 64) {
    previousText = lastText;
    previousTime = lastTime;
    lastText = value;
    lastTime = time;
  }
  return time;
}

function parseText(value: string): Timestamp | undefined {
  const fast = parseCanonicalIso(value);
  if (fast) return fast;
  const text = value.trim();
  if (/^-?\d+(?:\.\d+)?$/.test(text)) return fromEpochMillisText(text, Number(text));
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) {
    return undefined;
  }
  let ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return undefined;
  // Date.UTC maps years 0..99 to 1900..1999; undo that.
  if (Number(y) < 100) ms = new Date(ms).setUTCFullYear(Number(y));
  const padded = (frac + "000000000").slice(0, 9);
  ms += Number(padded.slice(0, 3));
  const nanos = Number(padded.slice(3));
  if (zone && zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0");
    ms -= sign * offsetMinutes * 60_000;
  }
  return { ms, nanos };
}

/**
 * The shape nearly all telemetry uses, `YYYY-MM-DDTHH:MM:SS.fffZ` (or without the fraction), read from
 * char codes: the reader checks every event's timestamp, and the regex path cost several percent of a
 * full read. Anything else (or a year below 100) returns undefined and takes the general path, which
 * gives the same answer for these shapes.
 */
function parseCanonicalIso(text: string): Timestamp | undefined {
  const length = text.length;
  if ((length !== 24 && length !== 20) || text.charCodeAt(length - 1) !== 90 /* Z */) return undefined;
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58 ||
    (length === 24 && text.charCodeAt(19) !== 46)
  )
    return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const millis = length === 24 ? digits(text, 20, 3) : 0;
  if (
    year < 100 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    millis < 0
  )
    return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return Number.isNaN(ms) ? undefined : { ms: ms + millis, nanos: 0 };
}

/** The decimal value of `count` ASCII digits at `at`, or -1 if any is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

function fromEpochMillisText(text: string, approx: number): Timestamp | undefined {
  if (!Number.isFinite(approx)) return undefined;
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) {
    // Exponent form from a double: no sub-millisecond digits to keep.
    const ms = Math.floor(approx);
    return { ms, nanos: Math.round((approx - ms) * 1e6) };
  }
  const [, sign, whole, frac = ""] = match;
  let ms = Number(whole);
  let nanos = Number((frac + "000000").slice(0, 6));
  if (sign === "-") {
    ms = -ms;
    if (nanos > 0) {
      ms -= 1;
      nanos = 1_000_000 - nanos;
    }
  }
  if (!Number.isSafeInteger(ms)) return undefined;
  return { ms, nanos };
}

/** ISO-8601 UTC text with as many fraction digits as needed (3 or 9). */
export function formatTimestamp(t: Timestamp): string {
  const iso = new Date(t.ms).toISOString();
  if (t.nanos === 0) return iso;
  return `${iso.slice(0, -1)}${String(t.nanos).padStart(6, "0")}Z`;
}
