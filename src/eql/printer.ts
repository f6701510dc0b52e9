/**
 * AST -> EQL text. The output parses back to the same tree (spans aside): parentheses are added exactly
 * where precedence needs them, strings are re-escaped (raw strings stay raw), numbers keep their
 * spelling, names that are not plain identifiers are backtick-quoted.
 *
 * @example printQuery(parseEql('process where a==1 and (b or c)'))
 *   // 'process where a == 1 and (b or c)'
 */
import {
  assertNever,
  type EqlQuery,
  type EventQuery,
  type Expression,
  type FieldRef,
  type Literal,
  type Stage,
} from "./ast.js";
import { isKeyword } from "./lexer.js";

/** Binding strength of each expression kind (higher binds tighter); see the table in parser.ts. */
function level(e: Expression): number {
  switch (e.kind) {
    case "or":
      return 1;
    case "and":
      return 2;
    case "not":
      return 3;
    case "comparison":
      return 4;
    case "arithmetic":
      return e.operator === "+" || e.operator === "-" ? 5 : 6;
    case "negate":
      return 7;
    case "match":
    case "in":
      return 8;
    case "string":
    case "number":
    case "boolean":
    case "null":
    case "field":
    case "call":
      return 9;
    default:
      return assertNever(e);
  }
}

/** Print `e`, parenthesized unless it binds at least as tightly as `min`. */
function at(e: Expression, min: number): string {
  const text = printExpression(e);
  return level(e) >= min ? text : `(${text})`;
}

export function printExpression(e: Expression): string {
  switch (e.kind) {
    case "string":
    case "number":
    case "boolean":
    case "null":
      return printLiteral(e);
    case "field":
      return printField(e);
    case "or":
    case "and": {
      // Walk left-deep chains iteratively: long `a or b or c ...` chains stay off the call stack.
      const parts: string[] = [];
      let node: Expression = e;
      const kind = e.kind;
      const min = kind === "or" ? 1 : 2;
      while (node.kind === kind) {
        parts.push(at(node.right, min + 1));
        node = node.left;
      }
      parts.push(at(node, min));
      return parts.reverse().join(` ${kind} `);
    }
    case "not":
      return `not ${at(e.operand, 3)}`;
    case "comparison":
      return `${at(e.left, 5)} ${e.operator} ${at(e.right, 5)}`;
    case "arithmetic": {
      const min = e.operator === "+" || e.operator === "-" ? 5 : 6;
      return `${at(e.left, min)} ${e.operator} ${at(e.right, min + 1)}`;
    }
    case "negate": {
      const operand = at(e.operand, 7);
      // `- -1` keeps a space so the signs stay separate tokens for a human reader.
      return operand.startsWith("-") ? `- ${operand}` : `-${operand}`;
    }
    case "match": {
      const patterns = e.patterns.map(printLiteral);
      const rhs = e.list ? `(${patterns.join(", ")})` : patterns[0];
      return `${at(e.subject, 9)} ${e.operator} ${rhs}`;
    }
    case "in": {
      const op = `${e.negated ? "not " : ""}${e.caseInsensitive ? "in~" : "in"}`;
      return `${at(e.subject, 9)} ${op} (${e.values.map(printExpression).join(", ")})`;
    }
    case "call":
      return `${e.name}${e.caseInsensitive ? "~" : ""}(${e.args.map(printExpression).join(", ")})`;
    default:
      return assertNever(e);
  }
}

function printLiteral(e: Literal): string {
  switch (e.kind) {
    case "string":
      return e.raw ? `"""${e.value}"""` : quoteString(e.value);
    case "number":
      return e.text;
    case "boolean":
      return e.value ? "true" : "false";
    case "null":
      return "null";
    default:
      return assertNever(e);
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** A double-quoted EQL string for `value`. */
export function quoteString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const escaped = ESCAPES[ch];
    if (escaped !== undefined) out += escaped;
    else {
      const code = ch.codePointAt(0) ?? 0;
      out += code < 0x20 || code === 0x7f ? `\\u{${code.toString(16).padStart(2, "0")}}` : ch;
    }
  }
  return `${out}"`;
}

const PLAIN_NAME = /^[A-Za-z_@][A-Za-z0-9_]*$/;

function printName(segment: string, forceQuote: boolean): string {
  if (!forceQuote && PLAIN_NAME.test(segment) && !isKeyword(segment)) return segment;
  return `\`${segment.replaceAll("`", "``")}\``;
}

function printField(e: FieldRef): string {
  const needsQuote = e.segments.map((s) => !PLAIN_NAME.test(s) || isKeyword(s));
  // Keep the "was quoted" bit: quote the first segment when nothing else needs it.
  const forceFirst = e.quoted && !needsQuote.some(Boolean);
  const path = e.segments.map((s, i) => printName(s, i === 0 && forceFirst)).join(".");
  return `${e.optional ? "?" : ""}${path}`;
}

function printCategory(category: string | null): string {
  if (category === null) return "any";
  return PLAIN_NAME.test(category) && !isKeyword(category) && !category.startsWith("@")
    ? category
    : quoteString(category);
}

function printEventQuery(q: EventQuery): string {
  return `${printCategory(q.category)} where ${printExpression(q.condition)}`;
}

function printStage(stage: Stage): string {
  let text = `${stage.missing ? "![" : "["}${printEventQuery(stage.query)}]`;
  if (stage.by.length > 0) text += ` by ${stage.by.map(printExpression).join(", ")}`;
  if (stage.runs !== 1) text += ` with runs=${stage.runs}`;
  return text;
}

/** Print a whole query; sequences and samples put one stage per line. */
export function printQuery(query: EqlQuery): string {
  const body = query.body;
  let text: string;
  switch (body.kind) {
    case "event":
      text = printEventQuery(body);
      break;
    case "sequence": {
      text = "sequence";
      if (body.by.length > 0) text += ` by ${body.by.map(printExpression).join(", ")}`;
      if (body.maxspan) text += ` with maxspan=${body.maxspan.value}${body.maxspan.unit}`;
      for (const stage of body.stages) text += `\n  ${printStage(stage)}`;
      if (body.until) text += `\nuntil ${printStage(body.until)}`;
      break;
    }
    case "sample": {
      text = "sample";
      if (body.by.length > 0) text += ` by ${body.by.map(printExpression).join(", ")}`;
      for (const stage of body.stages) text += `\n  ${printStage(stage)}`;
      break;
    }
    default:
      return assertNever(body);
  }
  for (const pipe of query.pipes) text += `\n| ${pipe.kind} ${pipe.count}`;
  return text;
}
