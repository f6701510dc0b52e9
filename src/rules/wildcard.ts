/**
 * Wildcard patterns (`*` any run, `?` one character, `\` escapes) for filters and exceptions, matched
 * without backtracking: the pattern is split at `*` into segments, each segment is found leftmost after
 * the previous one (the greedy leftmost choice is always safe between stars), so the work is bounded by
 * text length times pattern length on any input.
 */
import type { JsonValue } from "../events/types.js";

interface Segment {
  /** Characters of the segment; `undefined` stands for `?`. */
  readonly chars: readonly (string | undefined)[];
}

export type StringMatcher = (text: string) => boolean;

export function compileWildcard(pattern: string, caseInsensitive = false): StringMatcher {
  const norm = (s: string) => (caseInsensitive ? s.toLowerCase() : s);
  const segments: Segment[] = [];
  let current: (string | undefined)[] = [];
  let anyStar = false;
  const cps = [...pattern];
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (c === "\\" && i + 1 < cps.length) {
      current.push(norm(cps[++i]));
    } else if (c === "*") {
      segments.push({ chars: current });
      current = [];
      anyStar = true;
    } else if (c === "?") current.push(undefined);
    else current.push(norm(c));
  }
  segments.push({ chars: current });
  if (!anyStar && !current.includes(undefined)) {
    const literal = current.join("");
    return (text) => norm(text) === literal;
  }
  const matchAt = (text: readonly string[], at: number, seg: Segment): boolean => {
    if (at + seg.chars.length > text.length) return false;
    for (let j = 0; j < seg.chars.length; j++) {
      const c = seg.chars[j];
      if (c !== undefined && text[at + j] !== c) return false;
    }
    return true;
  };
  return (input) => {
    const text = [...norm(input)];
    if (!anyStar) return text.length === segments[0].chars.length && matchAt(text, 0, segments[0]);
    const first = segments[0];
    const last = segments[segments.length - 1];
    if (!matchAt(text, 0, first)) return false;
    let pos = first.chars.length;
    const end = text.length - last.chars.length;
    if (end < pos) return false;
    for (let s = 1; s < segments.length - 1; s++) {
      const seg = segments[s];
      let found = -1;
      for (let at = pos; at + seg.chars.length <= end; at++) {
        if (matchAt(text, at, seg)) {
          found = at;
          break;
        }
      }
      if (found < 0) return false;
      pos = found + seg.chars.length;
    }
    return matchAt(text, end, last);
  };
}

/** A field value as the text Elasticsearch would compare for keyword-like matching. */
export function valueText(value: JsonValue): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean")
    return String(value);
  return undefined;
}
