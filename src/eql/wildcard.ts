/**
 * Wildcard matching for EQL's `:` and `like`/`like~`: `*` matches any run of characters, `?` exactly one
 * character (one Unicode code point, as Lucene's wildcard automata count it). There is no escape
 * character: Elasticsearch turns every `*` and `?` of an EQL pattern into a wildcard.
 *
 * Linear time, no backtracking: the pattern is split at `*` into fixed-width segments. The first must
 * match at the start, the last at the end, and the ones between are found left to right, each at its
 * leftmost position after the previous one. Taking the leftmost position is always safe for fixed-width
 * segments separated by `*`, so no choice is ever revisited. The cost is O(text × segment length) at
 * worst, i.e. linear in the input for a given pattern.
 */

/** A compiled wildcard pattern: `test(value)` is true when the whole value matches. */
export interface WildcardMatcher {
  readonly pattern: string;
  readonly caseInsensitive: boolean;
  test(value: string): boolean;
  /**
   * `test` for a value already passed through `foldCase` (when case-insensitive): a list of patterns
   * folds each value once, not once per pattern.
   */
  testFolded(folded: string): boolean;
}

/**
 * Case folding for the case-insensitive variants: lower-case per UTF-16 unit (a character whose lower
 * case is longer than one unit keeps its own form), with upper-case-only equivalents (e.g. `ſ` and `s`)
 * left apart. Strings are folded once per value, never per comparison.
 */
export function foldCase(value: string): string {
  const lowered = value.toLowerCase();
  if (lowered.length === value.length) return lowered;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    const l = c.toLowerCase();
    out += l.length === 1 ? l : c;
  }
  return out;
}

/**
 * `foldCase(value) === folded` without allocating for ASCII text (the common case): `folded` must
 * already be folded. Folding keeps the length, so unequal lengths reject at once.
 */
export function foldedEquals(value: string, folded: string): boolean {
  const n = value.length;
  if (n !== folded.length) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    const f = folded.charCodeAt(i);
    if (c === f) continue;
    if (c >= 65 && c <= 90) {
      if (c + 32 === f) continue;
      return false;
    }
    // Another ASCII character folds to itself; beyond ASCII, take the general rule.
    if (c < 128) return false;
    return foldCase(value) === folded;
  }
  return true;
}

const QUESTION = 63;

/** True when the pattern holds a `*` or `?`. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

interface Segment {
  /** The literal text; each `?` in it matches one code point. */
  readonly text: string;
  /** True when the segment holds `?`. */
  readonly hasAny: boolean;
}

/** Compile a pattern once; call `test` per value. */
export function compileWildcard(pattern: string, caseInsensitive: boolean): WildcardMatcher {
  const source = caseInsensitive ? foldCase(pattern) : pattern;
  const parts = source.split("*");
  const segments: Segment[] = parts.map((text) => ({ text, hasAny: text.includes("?") }));
  const fold = caseInsensitive ? foldCase : (s: string) => s;
  if (segments.length === 1) {
    const only = segments[0];
    const testFolded = only.hasAny
      ? (value: string) => matchAt(only.text, value, 0) === value.length
      : (value: string) => value === only.text;
    const test = only.hasAny
      ? (raw: string) => testFolded(fold(raw))
      : caseInsensitive
        ? (raw: string) => foldedEquals(raw, only.text)
        : testFolded;
    return { pattern, caseInsensitive, test, testFolded };
  }
  const first = segments[0];
  const last = segments[segments.length - 1];
  const middle = segments.slice(1, -1).filter((s) => s.text.length > 0);
  // Fast path: `*foo*`, `foo*`, `*foo`, `foo*bar` without `?`.
  const plain = !first.hasAny && !last.hasAny && middle.every((s) => !s.hasAny);
  const minLength = segments.reduce((n, s) => n + s.text.length, 0);
  const testFolded = (value: string): boolean => {
    // Folding keeps the length, and `?` matches at least one unit: too short never matches.
    if (value.length < minLength) return false;
    let start: number;
    if (first.text.length === 0) start = 0;
    else if (!first.hasAny) {
      if (!value.startsWith(first.text)) return false;
      start = first.text.length;
    } else {
      start = matchAt(first.text, value, 0);
      if (start < 0) return false;
    }
    // The end region reserved for the last segment.
    let end: number;
    if (last.text.length === 0) end = value.length;
    else if (!last.hasAny) {
      if (!value.endsWith(last.text)) return false;
      end = value.length - last.text.length;
    } else {
      end = matchEndingAt(last.text, value, value.length);
      if (end < 0) return false;
    }
    if (end < start) return false;
    let at = start;
    for (const segment of middle) {
      if (plain || !segment.hasAny) {
        const found = value.indexOf(segment.text, at);
        if (found < 0 || found + segment.text.length > end) return false;
        at = found + segment.text.length;
      } else {
        at = findSegment(segment.text, value, at, end);
        if (at < 0) return false;
      }
    }
    return at <= end;
  };
  const test = caseInsensitive ? (raw: string) => testFolded(fold(raw)) : testFolded;
  return { pattern, caseInsensitive, test, testFolded };
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Match a `?`-bearing segment at `pos`; the end position, or -1. */
function matchAt(segment: string, value: string, pos: number): number {
  let j = pos;
  for (let i = 0; i < segment.length; i++) {
    if (j >= value.length) return -1;
    const p = segment.charCodeAt(i);
    if (p === QUESTION) {
      j += isHigh(value.charCodeAt(j)) && j + 1 < value.length && isLow(value.charCodeAt(j + 1)) ? 2 : 1;
    } else {
      if (value.charCodeAt(j) !== p) return -1;
      j++;
    }
  }
  return j;
}

/** Match a `?`-bearing segment so that it ends at `end`; its start position, or -1. */
function matchEndingAt(segment: string, value: string, end: number): number {
  let j = end;
  for (let i = segment.length - 1; i >= 0; i--) {
    if (j <= 0) return -1;
    const p = segment.charCodeAt(i);
    if (p === QUESTION) {
      j -= isLow(value.charCodeAt(j - 1)) && j >= 2 && isHigh(value.charCodeAt(j - 2)) ? 2 : 1;
    } else {
      if (value.charCodeAt(j - 1) !== p) return -1;
      j--;
    }
  }
  return j;
}

/** Leftmost match of a segment starting at or after `from` and ending at or before `end`; its end, or -1. */
function findSegment(segment: string, value: string, from: number, end: number): number {
  for (let s = from; s < end || (s === end && segment.length === 0); s++) {
    // Never start inside a surrogate pair.
    if (s > 0 && isLow(value.charCodeAt(s)) && isHigh(value.charCodeAt(s - 1))) continue;
    const e = matchAt(segment, value, s);
    if (e >= 0 && e <= end) return e;
  }
  return -1;
}
