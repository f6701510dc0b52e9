/**
 * The EQL verifier: rejects, after parsing, what Elasticsearch's analyzer and verifier reject, with
 * Elasticsearch's wording. It checks:
 *
 * - function calls: known name (did-you-mean otherwise, and a note for python-eql-only functions),
 *   `~` only where a case-insensitive variant exists, argument count, argument types, constant-only
 *   arguments (signatures.ts);
 * - operand types of arithmetic, unary minus, `and`/`or`/`not`, `like`/`regex`, `in` lists, and that
 *   an event query's condition is boolean;
 * - comparisons between two fields (Elasticsearch cannot run them: "Comparisons against fields are not
 *   (currently) supported") and non-constant values in `in` lists;
 * - with a schema: field types (a function that needs a string given a long field), text fields
 *   without an exact sub-field, nested and other unsupported types, join keys of incompatible types,
 *   and (with `strictFields`) unknown fields, as Elasticsearch does against an index mapping.
 *
 * Types are only checked when they are known: literals always, fields only when the schema knows them.
 * A field Quarry will type dynamically at run time is never rejected here.
 */
import { type Diagnostic, type DiagnosticLabel, QuarryError, type Span } from "../diagnostics/index.js";
import type { FieldInfo, Schema } from "../schema/index.js";
import {
  assertNever,
  type EqlQuery,
  type EventQuery,
  type Expression,
  type FieldRef,
  type Stage,
} from "./ast.js";
import { findSimilar } from "./parser.js";
import { printExpression } from "./printer.js";
import {
  type ArgumentType,
  FUNCTION_SIGNATURES,
  lookupFunction,
  PYTHON_EQL_ALTERNATIVES,
  PYTHON_EQL_ONLY_FUNCTIONS,
  parameterAt,
} from "./signatures.js";

export interface VerifyOptions {
  /** Field types (a user mapping, ECS, ...). Without it only literal types are checked. */
  readonly schema?: Schema;
  /**
   * Reject fields the schema does not know ("Unknown column"), as Elasticsearch does against an index
   * mapping. Use it when the schema is the data's real mapping; leave it off for ECS + dynamic typing.
   */
  readonly strictFields?: boolean;
  /** The query text, so messages quote expressions as written (otherwise they are re-printed). */
  readonly source?: string;
}

/** Verifier error codes (see docs/errors/eql.md). */
export const VerifyCode = {
  unknownFunction: "EQL150",
  arity: "EQL151",
  argumentType: "EQL152",
  caseInsensitive: "EQL153",
  constant: "EQL154",
  fieldComparison: "EQL155",
  inListType: "EQL156",
  condition: "EQL157",
  unknownField: "EQL158",
  joinKeyType: "EQL159",
  unsupportedField: "EQL160",
} as const;

/**
 * Verify a parsed query. Throws a QuarryError carrying the first problem in source order (a note says
 * how many more there are).
 *
 * @example verifyEql(parseEql('process where startsWith(1, "a")'), {})
 *   // throws EQL152: first argument of [startsWith(1, "a")] must be [string], found value [1] type [integer]
 */
export function verifyEql(query: EqlQuery, options: VerifyOptions = {}): void {
  const verifier = new Verifier(options);
  verifier.query(query);
  verifier.finish();
}

/** Verify a lone expression (as in the function fold suites). */
export function verifyEqlExpression(expression: Expression, options: VerifyOptions = {}): void {
  const verifier = new Verifier(options);
  verifier.expression(expression);
  verifier.finish();
}

const STRING_TYPES = new Set(["keyword", "text", "wildcard", "constant_keyword", "match_only_text"]);
const INTEGER_TYPES = new Set(["byte", "short", "integer", "long", "unsigned_long"]);
const NUMERIC_TYPES = new Set([...INTEGER_TYPES, "double", "float", "half_float", "scaled_float"]);
const UNSUPPORTED_TYPES = new Set([
  "geo_point",
  "geo_shape",
  "point",
  "shape",
  "integer_range",
  "float_range",
  "long_range",
  "double_range",
  "date_range",
  "ip_range",
  "histogram",
  "aggregate_metric_double",
  "dense_vector",
  "sparse_vector",
  "rank_feature",
  "rank_features",
]);
const ORDINALS = [
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
];

/** Elasticsearch's type name for a mapping type. */
function esTypeName(mappingType: string): string {
  if (mappingType === "date") return "datetime";
  if (mappingType === "match_only_text") return "text";
  return mappingType;
}

function isString(t: string): boolean {
  return STRING_TYPES.has(t);
}

function accepts(required: ArgumentType, t: string): boolean {
  if (t === "null") return true;
  switch (required) {
    case "string":
      return isString(t);
    case "integer":
      return INTEGER_TYPES.has(t);
    case "numeric":
      return NUMERIC_TYPES.has(t);
    case "boolean":
      return t === "boolean";
    case "ip":
      return t === "ip";
    case "exact":
      return true;
    default:
      return assertNever(required);
  }
}

function compatible(a: string, b: string): boolean {
  return (
    a === b ||
    a === "null" ||
    b === "null" ||
    (isString(a) && isString(b)) ||
    (NUMERIC_TYPES.has(a) && NUMERIC_TYPES.has(b)) ||
    (a === "datetime" && b === "date_nanos") ||
    (a === "date_nanos" && b === "datetime")
  );
}

/** "1st", "2nd", "3rd", "4th", ... as Elasticsearch's `in` messages number list values. */
function shortOrdinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  switch (n % 10) {
    case 1:
      return `${n}st`;
    case 2:
      return `${n}nd`;
    case 3:
      return `${n}rd`;
    default:
      return `${n}th`;
  }
}

interface Problem {
  readonly diagnostic: Diagnostic;
}

class Verifier {
  private readonly problems: Problem[] = [];

  constructor(private readonly options: VerifyOptions) {}

  finish(): void {
    if (this.problems.length === 0) return;
    const sorted = [...this.problems].sort(
      (a, b) => (primarySpan(a.diagnostic)?.start ?? 0) - (primarySpan(b.diagnostic)?.start ?? 0),
    );
    const first = sorted[0].diagnostic;
    const more = sorted.length - 1;
    const diagnostic: Diagnostic =
      more === 0
        ? first
        : {
            ...first,
            notes: [...(first.notes ?? []), `${more} more problem${more === 1 ? "" : "s"} after this one`],
          };
    throw new QuarryError(diagnostic, this.options.source);
  }

  private report(
    code: string,
    title: string,
    span: Span,
    label: string,
    extra: { labels?: DiagnosticLabel[]; notes?: string[]; help?: string } = {},
  ): void {
    this.problems.push({
      diagnostic: {
        code,
        severity: "error",
        title,
        labels: [{ span, text: label, primary: true }, ...(extra.labels ?? [])],
        ...(extra.notes && extra.notes.length > 0 ? { notes: extra.notes } : {}),
        ...(extra.help ? { help: extra.help } : {}),
      },
    });
  }

  /** The expression's text as written (or re-printed when the source is not available). */
  private text(expression: Expression): string {
    const source = this.options.source;
    if (source !== undefined && expression.span.end <= source.length) {
      return source.slice(expression.span.start, expression.span.end);
    }
    return printExpression(expression);
  }

  /** Elasticsearch's `Expressions.name`: a field's name, otherwise the text. */
  private name(expression: Expression): string {
    return expression.kind === "field" ? expression.path : this.text(expression);
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  query(query: EqlQuery): void {
    const body = query.body;
    switch (body.kind) {
      case "event":
        this.eventQuery(body);
        break;
      case "sequence":
        for (const key of body.by) this.expression(key);
        for (const stage of body.stages) this.stage(stage);
        if (body.until) this.stage(body.until);
        this.joinKeyTypes("Sequence", body.by, body.until ? [...body.stages, body.until] : body.stages);
        break;
      case "sample":
        for (const key of body.by) this.expression(key);
        for (const stage of body.stages) this.stage(stage);
        this.joinKeyTypes("Sample", body.by, body.stages);
        break;
      default:
        assertNever(body);
    }
  }

  private stage(stage: Stage): void {
    this.eventQuery(stage.query);
    for (const key of stage.by) this.expression(key);
  }

  private eventQuery(query: EventQuery): void {
    this.expression(query.condition);
    const t = this.typeOf(query.condition);
    if (t === undefined || t === "boolean" || t === "null") return;
    if (query.category === null) {
      this.report(
        VerifyCode.condition,
        `Condition expression needs to be boolean, found [${t.toUpperCase()}]`,
        query.condition.span,
        `this is ${article(t)} ${t}`,
        { help: "write a comparison, e.g. `field == value`, or `true`" },
      );
    } else {
      const filterText =
        this.options.source !== undefined
          ? this.options.source.slice(query.span.start, query.span.end)
          : `${query.category} where ${this.text(query.condition)}`;
      this.report(
        VerifyCode.condition,
        `second argument of [${filterText}] must be [boolean], found value [${this.name(query.condition)}] type [${t}]`,
        query.condition.span,
        `the condition is ${article(t)} ${t}`,
        { help: "write a comparison, e.g. `field == value`, or `true`" },
      );
    }
  }

  private joinKeyTypes(nodeName: string, shared: readonly Expression[], stages: readonly Stage[]): void {
    if (stages.length < 2) return;
    const keysOf = (stage: Stage) => [...shared, ...stage.by];
    const first = keysOf(stages[0]);
    for (let k = 0; k < first.length; k++) {
      const expected = first[k];
      const expectedType = this.typeOf(expected);
      if (expectedType === undefined) continue;
      for (const stage of stages.slice(1)) {
        const key = keysOf(stage)[k];
        if (!key || key === expected) continue;
        const t = this.typeOf(key);
        if (t === undefined || compatible(expectedType, t)) continue;
        this.report(
          VerifyCode.joinKeyType,
          `${nodeName} key [${this.name(key)}] type [${t}] is incompatible with key [${this.name(expected)}] type [${expectedType}]`,
          key.span,
          `type ${t}`,
          { labels: [{ span: expected.span, text: `type ${expectedType}`, primary: false }] },
        );
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions

  expression(e: Expression): void {
    switch (e.kind) {
      case "string":
      case "number":
      case "boolean":
      case "null":
        return;
      case "field":
        this.field(e);
        return;
      case "comparison": {
        this.expression(e.left);
        this.expression(e.right);
        this.exactOperand(e.left, this.text(e), 0);
        this.exactOperand(e.right, this.text(e), 1);
        const leftConstant = this.foldable(e.left);
        const rightConstant = this.foldable(e.right);
        if (!leftConstant && !rightConstant) {
          this.report(
            VerifyCode.fieldComparison,
            `Comparisons against fields are not (currently) supported; offender [${this.name(e.right)}] in [${e.operator}]`,
            e.right.span,
            "compared with another field",
            {
              labels: [{ span: e.left.span, text: "a field", primary: false }],
              notes: [
                "Elasticsearch EQL compares a field only with a constant; Quarry follows Elasticsearch",
              ],
            },
          );
        }
        return;
      }
      case "match": {
        this.expression(e.subject);
        for (const p of e.patterns) this.expression(p);
        const source = this.text(e);
        this.exactOperand(e.subject, source, 0);
        if (e.operator !== ":") {
          const subjectType = this.typeOf(e.subject);
          if (subjectType !== undefined && !accepts("string", subjectType)) {
            this.argumentTypeError(source, "first ", e.subject, "string", subjectType);
          }
          for (const p of e.patterns) {
            const t = this.typeOf(p);
            if (t !== undefined && !accepts("string", t))
              this.argumentTypeError(source, "second ", p, "string", t);
          }
        }
        return;
      }
      case "in": {
        this.expression(e.subject);
        for (const v of e.values) this.expression(v);
        const source = this.text(e);
        this.exactOperand(e.subject, source, 0);
        let allConstant = true;
        for (const v of e.values) {
          if (!this.foldable(v)) {
            allConstant = false;
            this.report(
              VerifyCode.fieldComparison,
              `Comparisons against fields are not (currently) supported; offender [${this.name(v)}] in [${source}]`,
              v.span,
              "not a constant",
              {
                notes: [
                  "the values of `in` must be constants in Elasticsearch EQL; Quarry follows Elasticsearch",
                ],
              },
            );
          }
        }
        const subjectType = this.typeOf(e.subject);
        if (allConstant && subjectType !== undefined && subjectType !== "null") {
          e.values.forEach((v, i) => {
            const t = this.typeOf(v);
            if (t !== undefined && !compatible(subjectType, t)) {
              this.report(
                VerifyCode.inListType,
                `${shortOrdinal(i + 1)} argument of [${source}] must be [${subjectType}], found value [${this.name(v)}] type [${t}]`,
                v.span,
                `type ${t}`,
                { labels: [{ span: e.subject.span, text: `type ${subjectType}`, primary: false }] },
              );
            }
          });
        }
        return;
      }
      case "and":
      case "or":
        this.expression(e.left);
        this.expression(e.right);
        this.requireType(e.left, "boolean", this.text(e), "first ");
        this.requireType(e.right, "boolean", this.text(e), "second ");
        return;
      case "not":
        this.expression(e.operand);
        this.requireType(e.operand, "boolean", this.text(e), "");
        return;
      case "arithmetic":
        this.expression(e.left);
        this.expression(e.right);
        this.requireType(e.left, "numeric", this.text(e), "first ");
        this.requireType(e.right, "numeric", this.text(e), "second ");
        return;
      case "negate":
        this.expression(e.operand);
        this.requireType(e.operand, "numeric", this.text(e), "");
        return;
      case "call":
        for (const a of e.args) this.expression(a);
        this.call(e);
        return;
      default:
        assertNever(e);
    }
  }

  private requireType(e: Expression, required: ArgumentType, source: string, ordinal: string): void {
    const t = this.typeOf(e);
    if (t !== undefined && !accepts(required, t)) this.argumentTypeError(source, ordinal, e, required, t);
  }

  private argumentTypeError(
    source: string,
    ordinal: string,
    e: Expression,
    required: string,
    t: string,
  ): void {
    this.report(
      VerifyCode.argumentType,
      `${ordinal}argument of [${source}] must be [${required}], found value [${this.name(e)}] type [${t}]`,
      e.span,
      `expected ${required}, found ${t}`,
    );
  }

  private call(e: Extract<Expression, { kind: "call" }>): void {
    const signature = lookupFunction(e.canonicalName);
    const source = this.text(e);
    if (!signature) {
      const similar = findSimilar(e.canonicalName, FUNCTION_SIGNATURES.keys());
      const suggestion =
        similar.length === 0
          ? ""
          : `, did you mean ${similar.length === 1 ? `[${similar[0]}]` : `any of [${similar.join(", ")}]`}?`;
      const pythonName = PYTHON_EQL_ONLY_FUNCTIONS.get(e.canonicalName);
      const notes = pythonName
        ? [
            `\`${pythonName}\` is a python-eql (Endgame EQL) function; Elasticsearch EQL does not have it, and Quarry follows Elasticsearch`,
          ]
        : [];
      const help = PYTHON_EQL_ALTERNATIVES.get(e.canonicalName);
      this.report(
        VerifyCode.unknownFunction,
        `Unknown function [${e.name}]${suggestion}`,
        e.nameSpan,
        "unknown function",
        {
          notes,
          ...(help ? { help } : {}),
        },
      );
      return;
    }
    if (e.caseInsensitive && !signature.caseInsensitiveVariant) {
      const variants = [...FUNCTION_SIGNATURES.values()]
        .filter((s) => s.caseInsensitiveVariant)
        .map((s) => `${s.displayName}~`);
      this.report(
        VerifyCode.caseInsensitive,
        `Function [${signature.name}] has no case-insensitive variant; remove the [~]`,
        e.nameSpan,
        "no `~` variant",
        { notes: [`functions with a \`~\` variant: ${variants.join(", ")}`] },
      );
    }
    const n = e.args.length;
    if (n < signature.minArgs || (signature.maxArgs !== null && n > signature.maxArgs)) {
      this.report(
        VerifyCode.arity,
        `error building [${signature.name}]: ${signature.arityMessage}`,
        e.span,
        `${n} argument${n === 1 ? "" : "s"} given`,
        { notes: [signature.synopsis] },
      );
      return;
    }
    const variadic = signature.maxArgs === null;
    e.args.forEach((arg, i) => {
      const parameter = parameterAt(signature, i);
      if (!parameter) return;
      // Elasticsearch numbers the arguments of fixed-arity functions; variadic ones get no ordinal.
      const ordinal =
        variadic && i >= signature.parameters.length - 1 ? "" : `${ORDINALS[i] ?? `${i + 1}th`} `;
      const t = this.typeOf(arg);
      if (t !== undefined && !accepts(parameter.type, t)) {
        this.argumentTypeError(source, ordinal, arg, parameter.type, t);
        return;
      }
      if (parameter.type === "string" || parameter.type === "exact" || parameter.type === "ip") {
        this.exactOperand(arg, source, i);
      }
      if (parameter.constant && !this.foldable(arg)) {
        this.report(
          VerifyCode.constant,
          `${ORDINALS[i] ?? `${i + 1}th`} argument of [${source}] must be a constant, received [${this.name(arg)}]`,
          arg.span,
          "not a constant",
        );
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Fields and types

  private lookup(field: FieldRef): FieldInfo | undefined {
    return this.options.schema?.lookup(field.path);
  }

  private field(field: FieldRef): void {
    const schema = this.options.schema;
    if (!schema) return;
    const info = this.lookup(field);
    if (!info) {
      if (this.options.strictFields && !field.optional) {
        const similar = findSimilar(field.path, schema.fieldNames()).slice(0, 5);
        const suggestion =
          similar.length === 0
            ? ""
            : `, did you mean ${similar.length === 1 ? `[${similar[0]}]` : `any of [${similar.join(", ")}]`}?`;
        this.report(
          VerifyCode.unknownField,
          `Unknown column [${field.path}]${suggestion}`,
          field.span,
          "not in the mapping",
          {
            help: "mark the field optional with `?` if it may be missing: a missing optional field is null",
          },
        );
      }
      return;
    }
    const type = info.type;
    if (type === "nested") {
      this.report(
        VerifyCode.unsupportedField,
        `Cannot use field [${field.path}] type [nested] due to nested fields not being supported yet`,
        field.span,
        "nested field",
      );
      return;
    }
    if (UNSUPPORTED_TYPES.has(type)) {
      this.report(
        VerifyCode.unsupportedField,
        `Cannot use field [${field.path}] with unsupported type [${type}]`,
        field.span,
        `type ${type}`,
      );
      return;
    }
    // A field under a nested object cannot be used either.
    const segments = field.path.split(".");
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join(".");
      if (this.options.schema?.lookup(parent)?.type === "nested") {
        this.report(
          VerifyCode.unsupportedField,
          `Cannot use field [${field.path}] type [${esTypeName(type)}] with unsupported nested type in hierarchy (field [${parent}])`,
          field.span,
          "inside a nested field",
        );
        return;
      }
    }
  }

  /** A text field without a keyword sub-field cannot be matched exactly. */
  private exactOperand(e: Expression, source: string, index: number): void {
    if (e.kind !== "field") return;
    const info = this.lookup(e);
    if (!info || (info.type !== "text" && info.type !== "match_only_text")) return;
    const hasExact = Object.values(info.subFields ?? {}).some(
      (t) => t === "keyword" || t === "wildcard" || t === "constant_keyword",
    );
    if (hasExact) return;
    const last = e.path.split(".").pop() ?? e.path;
    this.report(
      VerifyCode.unsupportedField,
      `[${source}] cannot operate on ${ORDINALS[index] ?? `${index + 1}th`} argument field of data type [text]: No keyword/multi-field defined exact matches for [${last}]; define one or use MATCH/QUERY instead`,
      e.span,
      "text field without a keyword sub-field",
    );
  }

  /** Elasticsearch's type of an expression, or undefined when it depends on data Quarry has not seen. */
  private typeOf(e: Expression): string | undefined {
    switch (e.kind) {
      case "string":
        return "keyword";
      case "number":
        return e.numericType;
      case "boolean":
        return "boolean";
      case "null":
        return "null";
      case "field": {
        if (!this.options.schema) return undefined;
        const info = this.lookup(e);
        if (info) return esTypeName(info.type);
        // A missing optional field is null; a missing plain field is typed at run time.
        return e.optional && this.options.strictFields ? "null" : undefined;
      }
      case "comparison":
      case "match":
      case "in":
      case "and":
      case "or":
      case "not":
        return "boolean";
      case "negate":
        return this.typeOf(e.operand);
      case "arithmetic":
        return widen(this.typeOf(e.left), this.typeOf(e.right));
      case "call": {
        const signature = lookupFunction(e.canonicalName);
        // A call that fails verification has no type: do not pile a second error onto it.
        if (!signature) return undefined;
        if (
          e.args.length < signature.minArgs ||
          (signature.maxArgs !== null && e.args.length > signature.maxArgs)
        ) {
          return undefined;
        }
        switch (signature.result) {
          case "keyword":
          case "integer":
          case "boolean":
            return signature.result;
          case "numeric":
            if (signature.name === "number") return undefined;
            return widen(
              e.args[0] ? this.typeOf(e.args[0]) : undefined,
              e.args[1] ? this.typeOf(e.args[1]) : undefined,
            );
          default:
            return assertNever(signature.result);
        }
      }
      default:
        return assertNever(e);
    }
  }

  /** Whether Elasticsearch can fold the expression to a constant before running the query. */
  private foldable(e: Expression): boolean {
    switch (e.kind) {
      case "string":
      case "number":
      case "boolean":
      case "null":
        return true;
      case "field":
        // An optional field absent from the mapping becomes null; without a mapping, give it the benefit
        // of the doubt rather than reject a query Elasticsearch might run.
        if (!e.optional) return false;
        if (!this.options.schema) return true;
        return this.lookup(e) === undefined;
      case "comparison":
      case "and":
      case "or":
      case "arithmetic":
        return this.foldable(e.left) && this.foldable(e.right);
      case "match":
        return this.foldable(e.subject);
      case "in":
        return this.foldable(e.subject) && e.values.every((v) => this.foldable(v));
      case "not":
      case "negate":
        return this.foldable(e.operand);
      case "call":
        return e.args.every((a) => this.foldable(a));
      default:
        return assertNever(e);
    }
  }
}

function widen(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (!NUMERIC_TYPES.has(a) || !NUMERIC_TYPES.has(b)) return undefined;
  if (INTEGER_TYPES.has(a) && INTEGER_TYPES.has(b)) return a === "long" || b === "long" ? "long" : "integer";
  return "double";
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

function primarySpan(diagnostic: Diagnostic): Span | undefined {
  return (diagnostic.labels.find((l) => l.primary) ?? diagnostic.labels[0])?.span;
}
