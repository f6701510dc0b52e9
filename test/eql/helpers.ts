/** Shared helpers for the EQL front-end tests. */
import assert from "node:assert/strict";
import { isQuarryError, type QuarryError } from "../../src/diagnostics/index.js";
import type { EqlQuery, Expression } from "../../src/eql/ast.js";
import { parseEql, parseEqlExpression } from "../../src/eql/parser.js";

/** A deep copy without spans (and other offsets), for comparing trees. */
export function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "span" || k.endsWith("Span")) continue;
      out[k] = strip(v);
    }
    return out;
  }
  return value;
}

/** The condition of `any where <expression>`, without spans. */
export function expr(text: string): unknown {
  return strip(parseEqlExpression(text));
}

export function cond(query: string): Expression {
  const q = parseEql(query);
  assert.equal(q.body.kind, "event");
  return q.body.kind === "event" ? q.body.condition : (undefined as never);
}

export function query(text: string): EqlQuery {
  return parseEql(text);
}

/** Catch the QuarryError thrown by `fn`. */
export function catchError(fn: () => unknown): QuarryError {
  try {
    fn();
  } catch (error) {
    if (isQuarryError(error)) return error;
    throw error;
  }
  assert.fail("expected a QuarryError");
}

/**
 * Assert that parsing fails with `code` and that the primary label covers `spanText` (the first
 * occurrence at or after `from` in the query, unless `at` gives the offset).
 */
export function failsAt(
  text: string,
  code: string,
  spanText: string,
  options: { at?: number } = {},
): QuarryError {
  const error = catchError(() => parseEql(text));
  assertError(error, text, code, spanText, options);
  return error;
}

export function assertError(
  error: QuarryError,
  text: string,
  code: string,
  spanText: string,
  options: { at?: number } = {},
): void {
  assert.equal(error.diagnostic.code, code, `code for ${JSON.stringify(text)}: ${error.diagnostic.title}`);
  const primary = error.diagnostic.labels.find((l) => l.primary);
  assert.ok(primary, "a primary label");
  const start = options.at ?? text.indexOf(spanText);
  assert.ok(start >= 0, `span text ${JSON.stringify(spanText)} occurs in the query`);
  assert.deepEqual(
    {
      start: primary.span.start,
      end: primary.span.end,
      text: text.slice(primary.span.start, primary.span.end),
    },
    { start, end: start + spanText.length, text: spanText },
    `span for ${JSON.stringify(text)}: ${error.diagnostic.title}`,
  );
}
