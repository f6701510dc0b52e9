/**
 * From nodes back to text: Kibana's `toKqlExpression`, its escaping helpers, the wildcard node helpers
 * its translator uses, and the free-text / field-name inspections. All of these are contracts Kibana's
 * tests state (see the `to_kql`, `escape_*`, `wildcard_*` and `is_free_text` conformance vectors).
 */

import { QuarryError } from "../diagnostics/index.js";
import {
  KQL_WILDCARD_SYMBOL,
  type KqlNode,
  type RangeOperator,
  type ValueNode,
  type WildcardNode,
} from "./ast.js";

const RANGE_SYMBOLS: Record<RangeOperator, string> = { gt: ">", gte: ">=", lt: "<", lte: "<=" };

/**
 * Escape text so that it reads back as one unquoted KQL value: special characters get a backslash,
 * `and`/`or` between whitespace and `not` before whitespace are escaped, tabs and newlines are written
 * as `\t`, `\r`, `\n`.
 *
 * @example escapeKuery("a (b) or c") // "a \\(b\\) \\or c"
 */
export function escapeKuery(text: string): string {
  return text
    .replace(/[\\():<>"*]/g, "\\$&")
    .replace(/(\s+)(and|or)(\s+)/gi, "$1\\$2$3")
    .replace(/not(\s+)/gi, "\\$&")
    .replace(/\t/g, "\\t")
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n");
}

/**
 * Escape backslashes and double quotes, for text placed inside a quoted KQL value.
 *
 * @example escapeQuotes('say "hi"') // 'say \\"hi\\"'
 */
export function escapeQuotes(text: string): string {
  return text.replace(/[\\"]/g, "\\$&");
}

/** Lucene `query_string` reserved characters (the ones Kibana escapes; `*` from a wildcard is kept). */
const QUERY_STRING_RESERVED = /[+\-=&|><!(){}[\]^"~*?:\\/]/g;

/** A wildcard's value with each wildcard restored to `*` (what the `wildcard` query and ranges receive). */
export function wildcardToElasticsearchQuery(node: WildcardNode): string {
  return node.value.split(KQL_WILDCARD_SYMBOL).join("*");
}

/**
 * A wildcard's value for `query_string` (and Kibana's keyword `wildcard` query): every reserved character
 * that is not a wildcard gets a backslash.
 *
 * @example wildcardToQueryStringQuery(wildcard("+a@kuery-wildcard@")) // "\\+a*"
 */
export function wildcardToQueryStringQuery(node: WildcardNode): string {
  return node.value
    .split(KQL_WILDCARD_SYMBOL)
    .map((part) => part.replace(QUERY_STRING_RESERVED, "\\$&"))
    .join("*");
}

/** `*` alone (exists, or match-all as a field). */
export function wildcardIsLone(node: WildcardNode): boolean {
  return node.value.includes(KQL_WILDCARD_SYMBOL) && node.value.replace(KQL_WILDCARD_SYMBOL, "").length === 0;
}

/** Starts with a wildcard and is not a lone `*`. */
export function wildcardHasLeading(node: WildcardNode): boolean {
  return !wildcardIsLone(node) && node.value.startsWith(KQL_WILDCARD_SYMBOL);
}

/**
 * Whether `text` matches the wildcard as a whole (anchored, case-sensitive, `*` matching any characters
 * including none and including newlines). Kibana uses this to match field names. Linear: the literal
 * pieces between wildcards are found left to right, never backtracking.
 */
export function wildcardTest(node: WildcardNode, text: string): boolean {
  return matchPieces(node.value.split(KQL_WILDCARD_SYMBOL), text);
}

/** Anchored glob match of literal `pieces` separated by `*` (pieces.length - 1 wildcards). */
export function matchPieces(pieces: readonly string[], text: string): boolean {
  const n = pieces.length;
  if (n === 1) return text === pieces[0];
  const first = pieces[0];
  const last = pieces[n - 1];
  if (text.length < first.length + last.length) return false;
  if (!text.startsWith(first)) return false;
  const end = text.length - last.length;
  if (!text.endsWith(last)) return false;
  let at = first.length;
  for (let i = 1; i < n - 1; i++) {
    const piece = pieces[i];
    if (piece.length === 0) continue;
    const found = text.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/**
 * Kibana's `toKqlExpression`: KQL text for a node. `and`/`or` are always parenthesised, keywords upper
 * case, `field: value` with one space.
 *
 * @example toKqlExpression(parseKql("a:1 and b:2")) // "(a: 1 AND b: 2)"
 */
export function toKqlExpression(node: KqlNode): string {
  const raw = node as { readonly type?: unknown };
  switch (raw.type) {
    case "literal": {
      const lit = node as Extract<KqlNode, { type: "literal" }>;
      return lit.isQuoted ? `"${escapeQuotes(`${lit.value}`)}"` : escapeKuery(`${lit.value}`);
    }
    case "wildcard":
      return wildcardToQueryStringQuery(node as WildcardNode);
    case "function":
      return functionToKql(node as Extract<KqlNode, { type: "function" }>);
    default:
      throw new QuarryError({
        code: "KQL012",
        severity: "error",
        title: `Unknown KQL node type: "${String(raw.type)}"`,
        labels: [],
      });
  }
}

function functionToKql(node: Extract<KqlNode, { type: "function" }>): string {
  switch (node.function) {
    case "is": {
      const [field, value] = node.arguments;
      if (field.type === "literal" && field.value === null) return toKqlExpression(value);
      return `${toKqlExpression(field)}: ${toKqlExpression(value)}`;
    }
    case "range": {
      const [field, operator, value] = node.arguments;
      return `${toKqlExpression(field)} ${RANGE_SYMBOLS[operator]} ${toKqlExpression(value)}`;
    }
    case "exists":
      return `${toKqlExpression(node.arguments[0])}: *`;
    case "nested":
      return `${toKqlExpression(node.arguments[0])}: { ${toKqlExpression(node.arguments[1])} }`;
    case "and":
      return `(${node.arguments.map(toKqlExpression).join(" AND ")})`;
    case "or":
      return `(${node.arguments.map(toKqlExpression).join(" OR ")})`;
    case "not":
      return `NOT ${toKqlExpression(node.arguments[0])}`;
  }
}

/**
 * Kibana's `getIsKqlFreeText`: whether any clause is free text (an `is` without a field). Only the first
 * argument of each function is inspected, so a `nested` group never counts (its path is a field).
 */
export function isKqlFreeText(node: KqlNode): boolean {
  switch (node.type) {
    case "literal":
      return node.value === null;
    case "wildcard":
      return false;
    case "function":
      if (node.function === "and" || node.function === "or") return node.arguments.some(isKqlFreeText);
      return isKqlFreeText(node.arguments[0]);
  }
}

/** A field or path node as the text Elasticsearch receives (`*` restored in wildcards). */
export function fieldText(node: ValueNode): string {
  return node.type === "wildcard" ? wildcardToElasticsearchQuery(node) : `${node.value}`;
}

/**
 * Kibana's `getKqlFieldNames`: the field names a query mentions, in order, with repeats, as written
 * (relative inside nested groups, free text omitted).
 */
export function getKqlFieldNames(node: KqlNode): string[] {
  switch (node.type) {
    case "literal":
      return node.value === null ? [] : [`${node.value}`];
    case "wildcard":
      return [wildcardToElasticsearchQuery(node)];
    case "function":
      if (node.function === "and" || node.function === "or") return node.arguments.flatMap(getKqlFieldNames);
      return getKqlFieldNames(node.arguments[0]);
  }
}

/**
 * Every absolute field path a query reads, sorted and unique: nested paths themselves and the fields
 * inside them with the path prefixed (`a:{ b:1 }` gives `a`, `a.b`). Free text adds nothing.
 */
export function kqlFieldPaths(node: KqlNode): string[] {
  const out = new Set<string>();
  const walk = (n: KqlNode, prefix: string): void => {
    if (n.type !== "function") return;
    switch (n.function) {
      case "and":
      case "or":
        for (const child of n.arguments) walk(child, prefix);
        return;
      case "not":
        walk(n.arguments[0], prefix);
        return;
      case "nested": {
        const path = prefix + fieldText(n.arguments[0]);
        out.add(path);
        walk(n.arguments[1], `${path}.`);
        return;
      }
      case "is":
      case "range":
      case "exists": {
        const field = n.arguments[0];
        if (field.type === "literal" && field.value === null) return;
        if (field.type === "wildcard" && wildcardIsLone(field)) return;
        out.add(prefix + fieldText(field));
        return;
      }
    }
  };
  walk(node, "");
  return [...out].sort();
}
