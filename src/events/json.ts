import { randomBytes } from "node:crypto";
import type { JsonValue } from "./types.js";

/**
 * Lossless JSON for telemetry. `JSON.parse` rounds integers beyond 2^53 (18-digit FILETIMEs, nanosecond
 * epochs, 64-bit ids). Lines that hold a run of 16+ digits take a slower path: integer tokens outside
 * strings that are not safe integers are wrapped in a marked string, parsed, and revived as `bigint`.
 * The marker carries a per-process random nonce so a hostile document cannot forge one.
 */
const NONCE = randomBytes(6).toString("hex");
/** The marker as a decoded string value, and as it is written inside JSON text (a raw NUL is not valid JSON). */
const MARK = `\u0000big-${NONCE}:`;
const MARK_IN_JSON = `\\u0000big-${NONCE}:`;
export function parseJsonLossless(
  text: string,
  mayHoldLongIntegers = hasLongDigitRunInText(text),
): JsonValue {
  if (!mayHoldLongIntegers) return JSON.parse(text) as JsonValue;
  const rewritten = wrapUnsafeIntegers(text);
  if (rewritten === text) return JSON.parse(text) as JsonValue;
  return JSON.parse(rewritten, revive) as JsonValue;
}

/**
 * Whether buf[start, end) holds a run of 16 or more ASCII digits (a candidate unsafe integer), the byte-level
 * twin of `LONG_DIGITS.test`. Any such run covers one of the positions start+15, start+31, ... so only
 * those are sampled, and a digit found there is extended both ways: about one byte in 16 is read. A run
 * glued to a letter or a quote (a hex hash, an id inside a string) cannot be a JSON integer token, nor can
 * one followed by `.`/`e` (a fraction, which stays a double): those lines keep the fast path.
 */
export function hasLongDigitRun(buf: Uint8Array, start: number, end: number): boolean {
  let p = start + 15;
  while (p < end) {
    const c = buf[p];
    if (c >= 48 && c <= 57) {
      let left = p;
      while (left > start && buf[left - 1] >= 48 && buf[left - 1] <= 57) left--;
      let right = p + 1;
      while (right < end && buf[right] >= 48 && buf[right] <= 57) right++;
      if (
        right - left >= 16 &&
        (left === start || startsValue(buf[left - 1])) &&
        (right === end || endsInteger(buf[right]))
      )
        return true;
      // The next sample at or after right + 15 can start a new run; none between can reach 16.
      p += 16 * Math.max(1, Math.ceil((right - p) / 16));
    } else p += 16;
  }
  return false;
}

/**
 * `hasLongDigitRun` over a string's UTF-16 units (text re-parsed from elsewhere, e.g. events sent back by
 * workers): digits and the bytes around them are ASCII, so the sampling and its answers are the same.
 * About one unit in 16 is read, where a regular expression for 16 digits reads every one.
 */
export function hasLongDigitRunInText(text: string): boolean {
  const end = text.length;
  let p = 15;
  while (p < end) {
    const c = text.charCodeAt(p);
    if (c >= 48 && c <= 57) {
      let left = p;
      while (left > 0 && isDigit(text.charCodeAt(left - 1))) left--;
      let right = p + 1;
      while (right < end && isDigit(text.charCodeAt(right))) right++;
      if (
        right - left >= 16 &&
        (left === 0 || startsValue(text.charCodeAt(left - 1))) &&
        (right === end || endsInteger(text.charCodeAt(right)))
      )
        return true;
      p += 16 * Math.max(1, Math.ceil((right - p) / 16));
    } else p += 16;
  }
  return false;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Bytes a JSON number token can follow: `:` `[` `,` a minus sign, or whitespace. */
function startsValue(c: number): boolean {
  return c === 58 || c === 91 || c === 44 || c === 45 || c === 32 || c === 9 || c === 10 || c === 13;
}

/** Bytes that can end an integer token: `,` `}` `]` or whitespace. */
function endsInteger(c: number): boolean {
  return c === 44 || c === 125 || c === 93 || c === 32 || c === 9 || c === 10 || c === 13;
}

function revive(_key: string, value: unknown): unknown {
  if (typeof value === "string" && value.startsWith(MARK)) return BigInt(value.slice(MARK.length));
  return value;
}

/** Quote integer tokens that lose digits as doubles; everything else is copied as is. Linear time. */
function wrapUnsafeIntegers(text: string): string {
  let out = "";
  let copiedUpTo = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      const next = text.charCodeAt(j);
      const isInteger = !(next === 46 || next === 101 || next === 69); // . e E
      const token = text.slice(i, j);
      if (isInteger && token.length >= 16 && /^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(copiedUpTo, i)}"${MARK_IN_JSON}${token}"`;
        copiedUpTo = j;
      }
      // Skip the rest of a number token (fraction, exponent) so its digits are not re-read.
      while (j < text.length && /[0-9.eE+-]/.test(text[j])) j++;
      i = j - 1;
    }
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/** JSON text for values that may hold `bigint`s (written as plain integer digits). */
export function stringifyJson(value: JsonValue, indent?: number): string {
  if (!containsBigint(value)) return JSON.stringify(value, null, indent);
  const marks: string[] = [];
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === "bigint") {
        marks.push(v.toString());
        return `${MARK}${marks.length - 1}`;
      }
      return v;
    },
    indent,
  );
  const escapedMark = JSON.stringify(MARK).slice(1, -1);
  return text.replace(
    new RegExp(`"${escapeRegExp(escapedMark)}(\\d+)"`, "g"),
    (_m, n: string) => marks[Number(n)],
  );
}

function containsBigint(value: JsonValue): boolean {
  if (typeof value === "bigint") return true;
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some(containsBigint);
  for (const key in value) if (containsBigint(value[key] as JsonValue)) return true;
  return false;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
