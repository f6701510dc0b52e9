/**
 * KQL syntax tree in Kibana's own node JSON shape, so a parsed query compares equal to the trees Kibana's
 * tests state and can be handed to any tool that reads Kibana's `KueryNode`s:
 *
 * - `{type: "function", function: "is" | "range" | "exists" | "nested" | "and" | "or" | "not", arguments}`
 * - `{type: "literal", value, isQuoted}`
 * - `{type: "wildcard", value}` where every unescaped `*` is stored as `@kuery-wildcard@`
 *
 * `type` and then `function` are the discriminants (Kibana's field names; the shape is part of the
 * contract, so there is no separate `kind`). Source spans live in a side table (`spanOf`) so the nodes
 * stay exactly Kibana's JSON.
 */
import type { Span } from "../diagnostics/index.js";

/** What Kibana puts in a wildcard node's value for each unescaped `*`. */
export const KQL_WILDCARD_SYMBOL = "@kuery-wildcard@";

export type LiteralValue = string | number | boolean | null;

export interface LiteralNode {
  readonly type: "literal";
  readonly value: LiteralValue;
  readonly isQuoted: boolean;
}

export interface WildcardNode {
  readonly type: "wildcard";
  readonly value: string;
}

/** A field name or a value: literal or wildcard. */
export type ValueNode = LiteralNode | WildcardNode;

export type RangeOperator = "gt" | "gte" | "lt" | "lte";

export interface IsNode {
  readonly type: "function";
  readonly function: "is";
  /** Field (a `null` literal for free text), value. */
  readonly arguments: readonly [ValueNode, ValueNode];
}

export interface RangeNode {
  readonly type: "function";
  readonly function: "range";
  readonly arguments: readonly [ValueNode, RangeOperator, ValueNode];
}

/** Only built in code (Kibana's grammar never produces it): `field: *` parses as `is(field, *)`. */
export interface ExistsNode {
  readonly type: "function";
  readonly function: "exists";
  readonly arguments: readonly [ValueNode];
}

export interface NestedNode {
  readonly type: "function";
  readonly function: "nested";
  /** Path relative to any enclosing nested group, then the query inside. */
  readonly arguments: readonly [ValueNode, KqlQuery];
}

export interface AndNode {
  readonly type: "function";
  readonly function: "and";
  readonly arguments: readonly KqlQuery[];
}

export interface OrNode {
  readonly type: "function";
  readonly function: "or";
  readonly arguments: readonly KqlQuery[];
}

export interface NotNode {
  readonly type: "function";
  readonly function: "not";
  readonly arguments: readonly [KqlQuery];
}

export type FunctionNode = IsNode | RangeNode | ExistsNode | NestedNode | AndNode | OrNode | NotNode;
export type KqlQuery = FunctionNode;
export type KqlNode = FunctionNode | LiteralNode | WildcardNode;

const spans = new WeakMap<object, Span>();

/** The source span a node was parsed from (absent for nodes built in code or shared field nodes). */
export function spanOf(node: object): Span | undefined {
  return spans.get(node);
}

function withSpan<T extends object>(node: T, span: Span | undefined): T {
  if (span) spans.set(node, span);
  return node;
}

export function literal(value: LiteralValue, isQuoted = false, span?: Span): LiteralNode {
  return withSpan({ type: "literal", value, isQuoted }, span);
}

/** `value` already carries `KQL_WILDCARD_SYMBOL` for each wildcard. */
export function wildcard(value: string, span?: Span): WildcardNode {
  return withSpan({ type: "wildcard", value }, span);
}

/** Build a wildcard node from plain text where `*` means "any characters" (Kibana's `buildNode` in code). */
export function wildcardFromPattern(pattern: string): ValueNode {
  if (!pattern.includes("*")) return literal(pattern);
  return wildcard(pattern.split("*").join(KQL_WILDCARD_SYMBOL));
}

export function isNode(field: ValueNode, value: ValueNode, span?: Span): IsNode {
  return withSpan({ type: "function", function: "is", arguments: [field, value] }, span);
}

export function rangeNode(
  field: ValueNode,
  operator: RangeOperator,
  value: ValueNode,
  span?: Span,
): RangeNode {
  return withSpan({ type: "function", function: "range", arguments: [field, operator, value] }, span);
}

export function existsNode(field: ValueNode, span?: Span): ExistsNode {
  return withSpan({ type: "function", function: "exists", arguments: [field] }, span);
}

export function nestedNode(path: ValueNode, query: KqlQuery, span?: Span): NestedNode {
  return withSpan({ type: "function", function: "nested", arguments: [path, query] }, span);
}

export function andNode(queries: readonly KqlQuery[], span?: Span): AndNode {
  return withSpan({ type: "function", function: "and", arguments: queries }, span);
}

export function orNode(queries: readonly KqlQuery[], span?: Span): OrNode {
  return withSpan({ type: "function", function: "or", arguments: queries }, span);
}

export function notNode(query: KqlQuery, span?: Span): NotNode {
  return withSpan({ type: "function", function: "not", arguments: [query] }, span);
}

/** `is(*, *)`: what an empty query parses to (`match_all`). */
export function matchAllNode(span?: Span): IsNode {
  return isNode(wildcard(KQL_WILDCARD_SYMBOL), wildcard(KQL_WILDCARD_SYMBOL), span);
}

export function isLoneWildcard(node: ValueNode): boolean {
  return node.type === "wildcard" && node.value === KQL_WILDCARD_SYMBOL;
}

export function assertNever(value: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
