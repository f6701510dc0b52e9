/**
 * The declared signature of every EQL function Elasticsearch has: arity, argument types, whether a
 * case-insensitive `name~(...)` variant exists, and the result type. The verifier checks calls against
 * this table; the evaluator takes its function list from it.
 *
 * Sources: Elasticsearch's EqlFunctionRegistry (names resolve case-insensitively; `startsWith`,
 * `startswith` and `STARTSWITH` are one function) and each function's type resolution. Arity messages
 * are the ones Elasticsearch's function builders raise ("error building [name]: expects ...").
 */

/**
 * What an argument must be, in Elasticsearch's type vocabulary:
 * - `string`: keyword, constant_keyword, wildcard or text (with an exact sub-field);
 * - `integer`: byte, short, integer or long;
 * - `numeric`: any numeric type;
 * - `boolean`, `ip`;
 * - `exact`: any type that can be compared exactly (everything but a text field without keyword).
 * `null` is accepted wherever a type is required, as in Elasticsearch.
 */
export type ArgumentType = "string" | "integer" | "numeric" | "boolean" | "ip" | "exact";

export interface ParameterSignature {
  readonly name: string;
  readonly type: ArgumentType;
  /** The argument must be a constant (Elasticsearch: "must be a constant"). */
  readonly constant: boolean;
}

/** The result type: a concrete ES type, or `numeric` when it follows the arguments (integer or double). */
export type ResultType = "keyword" | "integer" | "boolean" | "numeric";

export interface FunctionSignature {
  /** Lower-case canonical name (the registry key). */
  readonly name: string;
  /** The name as the Elasticsearch reference spells it. */
  readonly displayName: string;
  readonly minArgs: number;
  /** null: variadic (the last parameter repeats). */
  readonly maxArgs: number | null;
  readonly parameters: readonly ParameterSignature[];
  /** True when `name~(...)` exists. */
  readonly caseInsensitiveVariant: boolean;
  readonly result: ResultType;
  /** Elasticsearch's wording for a wrong argument count, e.g. "expects exactly two arguments". */
  readonly arityMessage: string;
  /** One line for docs and did-you-mean help. */
  readonly synopsis: string;
}

const p = (name: string, type: ArgumentType, constant = false): ParameterSignature => ({
  name,
  type,
  constant,
});

const binaryNumeric = (name: string, synopsis: string): FunctionSignature => ({
  name,
  displayName: name,
  minArgs: 2,
  maxArgs: 2,
  parameters: [p("left", "numeric"), p("right", "numeric")],
  caseInsensitiveVariant: false,
  result: "numeric",
  arityMessage: "expects exactly two arguments",
  synopsis,
});

const SIGNATURE_LIST: readonly FunctionSignature[] = [
  binaryNumeric("add", "add(a, b): a + b"),
  {
    name: "between",
    displayName: "between",
    minArgs: 3,
    maxArgs: 4,
    parameters: [p("source", "string"), p("left", "string"), p("right", "string"), p("greedy", "boolean")],
    caseInsensitiveVariant: true,
    result: "keyword",
    arityMessage: "expects three or four arguments",
    synopsis: "between(source, left, right[, greedy]): the substring of source between left and right",
  },
  {
    name: "cidrmatch",
    displayName: "cidrMatch",
    minArgs: 2,
    maxArgs: null,
    parameters: [p("ip", "ip"), p("cidr", "string", true)],
    caseInsensitiveVariant: false,
    result: "boolean",
    arityMessage: "expects at least two arguments",
    synopsis: "cidrMatch(ip, cidr, ...): true when ip is in one of the CIDR blocks",
  },
  {
    name: "concat",
    displayName: "concat",
    minArgs: 0,
    maxArgs: null,
    parameters: [p("value", "exact")],
    caseInsensitiveVariant: false,
    result: "keyword",
    arityMessage: "",
    synopsis: "concat(value, ...): the values' string forms joined",
  },
  binaryNumeric("divide", "divide(a, b): a / b (integer division when both are integers)"),
  {
    name: "endswith",
    displayName: "endsWith",
    minArgs: 2,
    maxArgs: 2,
    parameters: [p("source", "string"), p("substring", "string")],
    caseInsensitiveVariant: true,
    result: "boolean",
    arityMessage: "expects exactly two arguments",
    synopsis: "endsWith(source, substring): true when source ends with substring",
  },
  {
    name: "indexof",
    displayName: "indexOf",
    minArgs: 2,
    maxArgs: 3,
    parameters: [p("source", "string"), p("substring", "string"), p("start", "integer")],
    caseInsensitiveVariant: true,
    result: "integer",
    arityMessage: "expects two or three arguments",
    synopsis: "indexOf(source, substring[, start]): first position of substring at or after start, or null",
  },
  {
    name: "length",
    displayName: "length",
    minArgs: 1,
    maxArgs: 1,
    parameters: [p("source", "string")],
    caseInsensitiveVariant: false,
    result: "integer",
    arityMessage: "expects exactly one argument",
    synopsis: "length(source): the number of characters",
  },
  binaryNumeric("modulo", "modulo(a, b): the remainder of a / b"),
  binaryNumeric("multiply", "multiply(a, b): a * b"),
  {
    name: "number",
    displayName: "number",
    minArgs: 1,
    maxArgs: 2,
    parameters: [p("string", "string"), p("base", "integer")],
    caseInsensitiveVariant: false,
    result: "numeric",
    arityMessage: "expects one or two arguments",
    synopsis: "number(string[, base]): the string parsed as a number",
  },
  {
    name: "startswith",
    displayName: "startsWith",
    minArgs: 2,
    maxArgs: 2,
    parameters: [p("source", "string"), p("prefix", "string")],
    caseInsensitiveVariant: true,
    result: "boolean",
    arityMessage: "expects exactly two arguments",
    synopsis: "startsWith(source, prefix): true when source starts with prefix",
  },
  {
    name: "string",
    displayName: "string",
    minArgs: 1,
    maxArgs: 1,
    parameters: [p("value", "exact")],
    caseInsensitiveVariant: false,
    result: "keyword",
    arityMessage: "expects exactly one argument",
    synopsis: "string(value): the value as a string",
  },
  {
    name: "stringcontains",
    displayName: "stringContains",
    minArgs: 2,
    maxArgs: 2,
    parameters: [p("source", "string"), p("substring", "string")],
    caseInsensitiveVariant: true,
    result: "boolean",
    arityMessage: "expects exactly two arguments",
    synopsis: "stringContains(source, substring): true when source contains substring",
  },
  {
    name: "substring",
    displayName: "substring",
    minArgs: 2,
    maxArgs: 3,
    parameters: [p("source", "string"), p("start", "integer"), p("end", "integer")],
    caseInsensitiveVariant: false,
    result: "keyword",
    arityMessage: "expects two or three arguments",
    synopsis:
      "substring(source, start[, end]): characters start (inclusive) to end (exclusive); negatives count from the end",
  },
  binaryNumeric("subtract", "subtract(a, b): a - b"),
];

/** Every Elasticsearch EQL function, keyed by lower-case name. */
export const FUNCTION_SIGNATURES: ReadonlyMap<string, FunctionSignature> = new Map(
  SIGNATURE_LIST.map((s) => [s.name, s]),
);

/** Look a function up the way Elasticsearch does: case-insensitively. */
export function lookupFunction(name: string): FunctionSignature | undefined {
  return FUNCTION_SIGNATURES.get(name.toLowerCase());
}

/** The parameter that argument `index` (0-based) binds to, or undefined past the end of a fixed list. */
export function parameterAt(signature: FunctionSignature, index: number): ParameterSignature | undefined {
  if (index < signature.parameters.length) return signature.parameters[index];
  if (signature.maxArgs === null) return signature.parameters[signature.parameters.length - 1];
  return undefined;
}

/**
 * Functions of python-eql (Endgame EQL) that Elasticsearch does not have, keyed by lower-case name, with
 * what to write instead. Used to explain the "Unknown function" error.
 */
export const PYTHON_EQL_ONLY_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ["arraycontains", "arrayContains"],
  ["arraycount", "arrayCount"],
  ["arraysearch", "arraySearch"],
  ["match", "match"],
  ["matchlite", "matchLite"],
  ["wildcard", "wildcard"],
]);

export const PYTHON_EQL_ALTERNATIVES: ReadonlyMap<string, string> = new Map([
  [
    "arraycontains",
    'compare the field directly: an array field matches when any value does (`field : "value"`)',
  ],
  ["arraycount", "no equivalent; Elasticsearch EQL has no array functions"],
  ["arraysearch", "compare the field directly: an array field matches when any value does"],
  ["match", 'use `field regex "..."` (Lucene regular-expression syntax)'],
  ["matchlite", 'use `field regex "..."` (Lucene regular-expression syntax)'],
  ["wildcard", 'use `field : "pattern*"` or `field like "pattern*"`'],
]);
