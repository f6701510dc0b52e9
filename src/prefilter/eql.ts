/**
 * What an EQL query requires of a line, read from its AST with the evaluator's own field resolution
 * (src/eql/compile.ts): only comparisons the evaluator decides on a keyword (or dynamically typed) field's
 * string values yield needles. Everything that can hold without a literal in the line is `any`: `not`,
 * `!=`, `not in`, null checks, numbers, booleans, dates, ips, field-to-field comparisons, arithmetic,
 * functions other than the three string tests, `regex`, and fields whose mapping has a `null_value`
 * (an explicit null would be indexed as that value, which the line then does not hold).
 */
import type { EqlQuery, EventQuery, Expression, Literal, Stage } from "../eql/ast.js";
import { type CompileContext, type ResolvedField, resolveField } from "../eql/compile.js";
import type { Schema } from "../schema/index.js";
import {
  ANY,
  allOf,
  containsText,
  LOW_CARDINALITY_FIELDS,
  matchesWildcard,
  type Requirement,
  someOf,
} from "./requirement.js";

export interface EqlPrefilterOptions {
  readonly schema?: Schema;
  /** Default `event.category`. */
  readonly categoryField?: string;
}

export function eqlRequirement(query: EqlQuery, options: EqlPrefilterOptions = {}): Requirement {
  const context: CompileContext = { schema: options.schema, completeSchema: false, fields: new Set() };
  const categoryField = resolveField(options.categoryField ?? "event.category", context);
  const eventQuery = (q: EventQuery): Requirement => {
    const condition = expression(q.condition, context);
    if (q.category === null) return condition;
    // The evaluator compares the category's keyword values exactly (lower-cased under a normalizer).
    const category = textField(categoryField)
      ? containsText(q.category, {
          atStart: true,
          atEnd: true,
          caseInsensitive: categoryField.normalizer !== undefined,
          common: true,
        })
      : ANY;
    return allOf([category, condition]);
  };
  const body = query.body;
  switch (body.kind) {
    case "event":
      return eventQuery(body);
    case "sequence":
    case "sample": {
      // A line matters to any stage, to `until` and to a missing-event stage.
      const stages: Stage[] = [...body.stages];
      if (body.kind === "sequence" && body.until) stages.push(body.until);
      return someOf(stages.map((s) => eventQuery(s.query)));
    }
  }
}

/** True when the evaluator sees a field's values as their JSON strings (or the text of a number/bool). */
function textField(field: ResolvedField): boolean {
  return (
    (field.kind === "keyword" || field.kind === "dynamic") && field.nullValue === undefined && !field.absent
  );
}

function isCommon(field: ResolvedField): boolean {
  return LOW_CARDINALITY_FIELDS.has(field.path);
}

function stringOf(e: Expression): string | undefined {
  return e.kind === "string" ? e.value : undefined;
}

function expression(e: Expression, context: CompileContext): Requirement {
  switch (e.kind) {
    case "and":
      return allOf([expression(e.left, context), expression(e.right, context)]);
    case "or":
      return someOf([expression(e.left, context), expression(e.right, context)]);
    case "comparison": {
      if (e.operator !== "==") return ANY;
      const [field, value] =
        e.left.kind === "field" ? [e.left, e.right] : e.right.kind === "field" ? [e.right, e.left] : [];
      if (field?.kind !== "field" || value === undefined) return ANY;
      const text = stringOf(value);
      const resolved = resolveField(field, context);
      if (text === undefined || !textField(resolved)) return ANY;
      return containsText(text, {
        atStart: true,
        atEnd: true,
        // A normalized keyword (`.caseless`) compares lower-cased values.
        caseInsensitive: resolved.normalizer !== undefined,
        common: isCommon(resolved),
      });
    }
    case "in": {
      if (e.negated || e.subject.kind !== "field") return ANY;
      const resolved = resolveField(e.subject, context);
      if (!textField(resolved)) return ANY;
      const common = isCommon(resolved);
      const parts: Requirement[] = [];
      for (const v of e.values) {
        if (v.kind === "null") continue;
        const text = stringOf(v);
        if (text === undefined) return ANY;
        parts.push(
          containsText(text, {
            atStart: true,
            atEnd: true,
            caseInsensitive: e.caseInsensitive || resolved.normalizer !== undefined,
            common,
          }),
        );
      }
      return someOf(parts);
    }
    case "match": {
      if (e.subject.kind !== "field") return ANY;
      if (e.operator === "regex" || e.operator === "regex~") return ANY;
      const resolved = resolveField(e.subject, context);
      if (!textField(resolved)) return ANY;
      const parts: Requirement[] = [];
      for (const p of e.patterns) {
        const text = patternText(p);
        if (text === undefined) continue;
        parts.push(
          matchesWildcard(
            text,
            "*?",
            e.caseInsensitive || resolved.normalizer !== undefined,
            isCommon(resolved),
          ),
        );
      }
      return someOf(parts);
    }
    case "call": {
      const [subject, arg] = e.args;
      if (e.args.length !== 2 || subject.kind !== "field") return ANY;
      const text = stringOf(arg);
      const resolved = resolveField(subject, context);
      if (text === undefined || !textField(resolved)) return ANY;
      const caseInsensitive = e.caseInsensitive || resolved.normalizer !== undefined;
      const common = isCommon(resolved);
      switch (e.canonicalName) {
        case "startswith":
          return containsText(text, { atStart: true, atEnd: false, caseInsensitive, common });
        case "endswith":
          return containsText(text, { atStart: false, atEnd: true, caseInsensitive, common });
        case "stringcontains":
          return containsText(text, { atStart: false, atEnd: false, caseInsensitive, common });
        default:
          return ANY;
      }
    }
    case "not":
    case "field":
    case "string":
    case "number":
    case "boolean":
    case "null":
    case "arithmetic":
    case "negate":
      return ANY;
    default:
      return assertNeverExpression(e);
  }
}

/** The text a `:`/`like` pattern compares with; undefined for `null` (which never matches). */
function patternText(p: Literal): string | undefined {
  switch (p.kind) {
    case "string":
      return p.value;
    case "number":
      return p.text;
    case "boolean":
      return String(p.value);
    case "null":
      return undefined;
  }
}

function assertNeverExpression(e: never): never {
  throw new Error(`unhandled EQL expression: ${JSON.stringify(e)}`);
}
