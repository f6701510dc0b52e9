/**
 * The EQL abstract syntax tree (Elasticsearch dialect). Nodes are immutable discriminated unions on
 * `kind`; every node carries the `span` of the source text it was parsed from (UTF-16 offsets into the
 * query). Parentheses leave no node: grouping is visible in the tree's shape.
 *
 * Shapes follow Elasticsearch's grammar (EqlBase.g4) rather than python-eql's: predicates (`:`, `like`,
 * `regex`, `in`) attach to a primary expression, their right-hand sides are constants (except `in`,
 * whose values may be any expression), and comparisons do not chain.
 */
import type { Span } from "../diagnostics/index.js";

// ---------------------------------------------------------------------------------------------------
// Literals

/** A string literal: `"a\tb"` (escapes decoded) or a raw `"""a\b"""` (nothing decoded). */
export interface StringLiteral {
  readonly kind: "string";
  /** The decoded value. */
  readonly value: string;
  /** True for a triple-quoted raw string. */
  readonly raw: boolean;
  readonly span: Span;
}

/**
 * Elasticsearch's type for a numeric literal: integers that fit 32 bits are `integer`, 64 bits `long`,
 * larger ones up to 2^64-1 `unsigned_long`; anything with a dot or exponent is `double`.
 */
export type NumericType = "integer" | "long" | "unsigned_long" | "double";

/** A number literal: `42`, `1.5`, `.5`, `1e3`. A minus sign is a separate `negate` node. */
export interface NumberLiteral {
  readonly kind: "number";
  /** A JS number, or a bigint for an integer outside the safe-integer range. */
  readonly value: number | bigint;
  /** True for an integer literal (no dot, no exponent). */
  readonly integer: boolean;
  readonly numericType: NumericType;
  /** The literal exactly as written (for printing and messages). */
  readonly text: string;
  readonly span: Span;
}

/** `true` or `false`. */
export interface BooleanLiteral {
  readonly kind: "boolean";
  readonly value: boolean;
  readonly span: Span;
}

/** `null`. */
export interface NullLiteral {
  readonly kind: "null";
  readonly span: Span;
}

/** The right-hand side of `:`, `like` and `regex` must be one of these. */
export type Literal = StringLiteral | NumberLiteral | BooleanLiteral | NullLiteral;

// ---------------------------------------------------------------------------------------------------
// Expressions

/**
 * A field reference: `process.name`, `` `my field`.x ``, `?process.parent.name`. `path` is the dotted
 * name with backticks removed (a doubled backtick inside backticks is one backtick).
 */
export interface FieldRef {
  readonly kind: "field";
  readonly path: string;
  /** `?field`: a missing field is null instead of an error when the schema does not know it. */
  readonly optional: boolean;
  /** The path segments as written, after unquoting (`path` is them joined with "."). */
  readonly segments: readonly string[];
  /** True when some segment was backtick-quoted. */
  readonly quoted: boolean;
  readonly span: Span;
}

export type ComparisonOperator = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** `left op right` with op in `== != < <= > >=` (case-sensitive; no chaining: `a < b < c` is an error). */
export interface Comparison {
  readonly kind: "comparison";
  readonly operator: ComparisonOperator;
  readonly left: Expression;
  readonly right: Expression;
  /** The operator token's span. */
  readonly operatorSpan: Span;
  readonly span: Span;
}

export type MatchOperator = ":" | "like" | "like~" | "regex" | "regex~";

/**
 * `subject : "a*"`, `subject : ("a", "b*")`, `subject like~ "A*"`, `subject regex "a.*"`.
 * `:` is case-insensitive equality with `*` wildcards; `like` has `*` and `?` wildcards; `regex` uses
 * Lucene regular-expression syntax. Matches when any pattern matches.
 */
export interface MatchPredicate {
  readonly kind: "match";
  readonly operator: MatchOperator;
  /** True for `:`, `like~`, `regex~`. */
  readonly caseInsensitive: boolean;
  readonly subject: Expression;
  readonly patterns: readonly Literal[];
  /** True when the patterns were written as a parenthesized list (even of one). */
  readonly list: boolean;
  readonly operatorSpan: Span;
  readonly span: Span;
}

/** `subject in (v1, v2)`, `subject in~ (...)`, `subject not in (...)`, `subject not in~ (...)`. */
export interface InPredicate {
  readonly kind: "in";
  readonly subject: Expression;
  readonly values: readonly Expression[];
  readonly negated: boolean;
  readonly caseInsensitive: boolean;
  readonly operatorSpan: Span;
  readonly span: Span;
}

/** `left and right`. */
export interface And {
  readonly kind: "and";
  readonly left: Expression;
  readonly right: Expression;
  readonly span: Span;
}

/** `left or right`. */
export interface Or {
  readonly kind: "or";
  readonly left: Expression;
  readonly right: Expression;
  readonly span: Span;
}

/** `not operand`. */
export interface Not {
  readonly kind: "not";
  readonly operand: Expression;
  readonly span: Span;
}

export type ArithmeticOperator = "+" | "-" | "*" | "/" | "%";

/** `left op right` with op in `+ - * / %` (left-associative; `* / %` bind tighter than `+ -`). */
export interface Arithmetic {
  readonly kind: "arithmetic";
  readonly operator: ArithmeticOperator;
  readonly left: Expression;
  readonly right: Expression;
  readonly operatorSpan: Span;
  readonly span: Span;
}

/** Unary minus: `-operand` (a unary `+` leaves no node). */
export interface Negate {
  readonly kind: "negate";
  readonly operand: Expression;
  readonly span: Span;
}

/** A function call: `startsWith~(process.name, "cmd")`. */
export interface FunctionCall {
  readonly kind: "call";
  /** The name as written, without the `~`. */
  readonly name: string;
  /** Lower-cased name: functions resolve case-insensitively (`endswith` and `endsWith` are one function). */
  readonly canonicalName: string;
  /** True for the `name~(...)` case-insensitive variant. */
  readonly caseInsensitive: boolean;
  readonly args: readonly Expression[];
  /** Span of the name (with the `~`). */
  readonly nameSpan: Span;
  readonly span: Span;
}

export type Expression =
  | Literal
  | FieldRef
  | Comparison
  | MatchPredicate
  | InPredicate
  | And
  | Or
  | Not
  | Arithmetic
  | Negate
  | FunctionCall;

// ---------------------------------------------------------------------------------------------------
// Queries

/**
 * `category where condition` or `any where condition`. The category is an identifier or a string
 * (`"process" where ...`); `any` matches every category.
 */
export interface EventQuery {
  readonly kind: "event";
  /** The event category, or null for `any`. */
  readonly category: string | null;
  readonly categorySpan: Span;
  readonly condition: Expression;
  readonly span: Span;
}

/** A duration from `with maxspan=10s`. */
export interface Duration {
  readonly kind: "duration";
  /** The value in milliseconds. */
  readonly ms: number;
  /** The number as written. */
  readonly value: number;
  /** The unit as written: `ms`, `s`, `m`, `h` or `d` (Elasticsearch requires one). */
  readonly unit: string;
  readonly span: Span;
}

/**
 * One stage of a sequence or sample: `[process where ...] by user.name with runs=3`, or a missing-event
 * stage `![file where ...]` (the sequence matches only when no such event occurs in that position).
 */
export interface Stage {
  readonly kind: "stage";
  readonly query: EventQuery;
  /** Per-stage join keys (`by` after the brackets); combined with the sequence's shared keys. */
  readonly by: readonly Expression[];
  /** `with runs=N`: the stage repeats N times (1 when absent). */
  readonly runs: number;
  /** True for `![...]`. */
  readonly missing: boolean;
  readonly span: Span;
}

/**
 * `sequence [by k1, k2] [with maxspan=T] [stage]+ [until [stage]]`. `by` holds the shared keys;
 * `stages` keep the order written (with `runs` not expanded).
 */
export interface SequenceQuery {
  readonly kind: "sequence";
  readonly by: readonly Expression[];
  readonly maxspan: Duration | null;
  readonly stages: readonly Stage[];
  readonly until: Stage | null;
  readonly span: Span;
}

/** `sample [by k1, k2] [stage]+`: unordered matches of every stage sharing the join keys. */
export interface SampleQuery {
  readonly kind: "sample";
  readonly by: readonly Expression[];
  readonly stages: readonly Stage[];
  readonly span: Span;
}

/** `| head N`: the first N results. */
export interface HeadPipe {
  readonly kind: "head";
  readonly count: number;
  readonly span: Span;
}

/** `| tail N`: the last N results. */
export interface TailPipe {
  readonly kind: "tail";
  readonly count: number;
  readonly span: Span;
}

export type Pipe = HeadPipe | TailPipe;

/** A whole EQL query: an event query, a sequence or a sample, then pipes in order. */
export interface EqlQuery {
  readonly kind: "query";
  readonly body: EventQuery | SequenceQuery | SampleQuery;
  readonly pipes: readonly Pipe[];
  readonly span: Span;
}

export type EqlNode =
  | Expression
  | EventQuery
  | Duration
  | Stage
  | SequenceQuery
  | SampleQuery
  | Pipe
  | EqlQuery;

/** For the `default:` branch of a switch over `kind`: fails compilation when a kind is not handled. */
export function assertNever(value: never): never {
  throw new Error(`unhandled EQL node: ${JSON.stringify(value)}`);
}
