/**
 * Keyword normalizers: Elasticsearch applies a keyword field's `normalizer` to every value it indexes
 * (and so to its doc values) and to the terms of the queries it runs on the field (term, terms, prefix,
 * wildcard, regexp, range, match). The built-in `lowercase` normalizer is Lucene's `LowerCaseFilter`: each
 * code point is replaced by its simple (one code point) lower-case mapping, with no context rules.
 *
 * Both query languages use this module (KQL through src/eql/index.ts), so a value folds the same way
 * whichever language reads it.
 */

/** The normalizers Quarry can apply. Others (custom ones defined in index settings) are not known. */
export type KeywordNormalizer = "lowercase";

/** The normalizer a mapping's `normalizer` name stands for, or undefined when Quarry does not know it. */
export function keywordNormalizer(name: string | undefined): KeywordNormalizer | undefined {
  return name === "lowercase" ? "lowercase" : undefined;
}

/**
 * Characters whose JavaScript lower case differs from Lucene's per-code-point one: `İ` (U+0130) lowers to
 * `i` plus a combining dot in full case mapping but to plain `i` in the simple mapping, and `Σ` (U+03A3)
 * becomes final `ς` at the end of a word in full mapping but always `σ` in the simple one.
 */
const CONTEXTUAL = /[\u0130\u03a3]/g;

/**
 * Lucene's `LowerCaseFilter` (`Character.toLowerCase` per code point). Returns `value` itself, without
 * allocating, when it is already lower-case ASCII (the common case). Keeps the UTF-16 length.
 */
export function lowercase(value: string): string {
  const n = value.length;
  let i = 0;
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || (c >= 65 && c <= 90)) break;
  }
  if (i === n) return value;
  for (let j = i; j < n; j++) {
    const c = value.charCodeAt(j);
    if (c === 0x130 || c === 0x3a3) {
      return value.replace(CONTEXTUAL, (m) => (m === "\u0130" ? "i" : "\u03c3")).toLowerCase();
    }
  }
  return value.toLowerCase();
}

/**
 * `lowercase(value) === lowered` for an already lowered `lowered`, without allocating when `value` is
 * ASCII up to its first difference (lower-casing keeps the length, so unequal lengths reject at once).
 */
export function lowercaseEquals(value: string, lowered: string): boolean {
  const n = value.length;
  if (n !== lowered.length) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    const f = lowered.charCodeAt(i);
    if (c === f) continue;
    if (c >= 65 && c <= 90) {
      if (c + 32 === f) continue;
      return false;
    }
    // Another ASCII character lowers to itself; beyond ASCII (`K` KELVIN SIGN lowers to `k`), the general rule.
    if (c < 128) return false;
    return lowercase(value) === lowered;
  }
  return true;
}
