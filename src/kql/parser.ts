/**
 * KQL parser: a hand-written recursive-descent parser for Kibana's grammar, producing Kibana's node JSON
 * (see ast.ts) with source spans, and Kibana's exact `KQLSyntaxError` text on bad input.
 *
 * Precedence, loosest first (each level is n-ary: `a or b or c` is one `or` node):
 *
 * | level | form                                   | node            |
 * | ----- | -------------------------------------- | --------------- |
 * | 1     | `q or q`                               | or              |
 * | 2     | `q and q`                              | and             |
 * | 3     | `not q`                                | not             |
 * | 4     | `( q )`, `field:{ q }`, an expression  | nested, is, ... |
 *
 * Keywords are case-insensitive; `or`/`and` need whitespace on both sides, `not` after it.
 *
 * Error messages must match Kibana's byte for byte, and Kibana's parser is a generated packrat (memoising)
 * PEG parser: its "expected" list is every terminal or named rule that failed, not silently, at the
 * furthest position reached. Two consequences shape this file:
 *   - failures inside named rules (field name, value, literal, whitespace, AND, OR, NOT) are silent; the
 *     rule's name is recorded at its start instead;
 *   - a rule is evaluated once per position; a later attempt at the same position reuses the result and
 *     records nothing. That matters for exactly one rule, whitespace, which the keyword look-ahead inside
 *     unquoted literals tries silently: `spaceTried` remembers those positions, so that `foo:ba:r` reports
 *     `AND, OR, end of input` without `whitespace`, as Kibana does.
 * Everything else is plain recursive descent: each rule runs once per position here too, so parsing is
 * linear in the query length.
 */
import { type Diagnostic, QuarryError, type Span } from "../diagnostics/index.js";
import {
  andNode,
  isNode,
  KQL_WILDCARD_SYMBOL,
  type KqlQuery,
  literal,
  matchAllNode,
  nestedNode,
  notNode,
  orNode,
  type RangeOperator,
  rangeNode,
  type ValueNode,
  wildcard,
} from "./ast.js";

export interface ParseOptions {
  /** Kibana's `query:allowLeadingWildcards` (default true): when false, `field:*bar` is an error. */
  readonly allowLeadingWildcards?: boolean;
}

/** Deepest nesting of `( )`, `{ }` and value lists accepted; deeper input is a clean KQL003 error. */
export const MAX_DEPTH = 256;

/**
 * A KQL syntax error. `kibanaMessage` is Kibana's full `KQLSyntaxError` message: the first line, the query,
 * and a line of dashes ending in a caret under the failure offset.
 */
export class KqlSyntaxError extends QuarryError {
  constructor(
    diagnostic: Diagnostic,
    sourceText: string,
    readonly kibanaMessage: string,
  ) {
    super(diagnostic, sourceText);
    this.name = "KqlSyntaxError";
  }
}

/**
 * Parse a KQL query. An empty or blank query parses to `is(*, *)` (match everything).
 *
 * @example parseKql("a:1 or b:2") // {type:"function", function:"or", arguments:[is(a,"1"), is(b,"2")]}
 * @throws KqlSyntaxError (a QuarryError) with Kibana's message text
 */
export function parseKql(text: string, options: ParseOptions = {}): KqlQuery {
  return new Parser(text, options.allowLeadingWildcards ?? true).parseStart();
}

/**
 * Parse one literal with Kibana's `Literal` start rule (the rule Kibana uses for field names and values
 * typed on their own): a quoted string, or an unquoted value that may become `true`/`false`/`null` or a
 * wildcard node.
 */
export function parseKqlLiteral(text: string): ValueNode {
  return new Parser(text, true).parseLiteralStart();
}

const FAIL = Symbol("fail");
type Fail = typeof FAIL;

/** The result of a value list (`field:(a or not b)`) before the field is distributed over its values. */
type ValueTree =
  | { readonly kind: "value"; readonly node: ValueNode; readonly span: Span }
  | { readonly kind: "or" | "and"; readonly items: readonly ValueTree[]; readonly span: Span }
  | { readonly kind: "not"; readonly item: ValueTree; readonly span: Span };

enum Char {
  Tab = 9,
  LineFeed = 10,
  CarriageReturn = 13,
  Space = 32,
  NoBreakSpace = 0xa0,
}

function isSpaceCode(code: number): boolean {
  return (
    code === Char.Space ||
    code === Char.Tab ||
    code === Char.LineFeed ||
    code === Char.CarriageReturn ||
    code === Char.NoBreakSpace
  );
}

/**
 * Characters inside an unquoted literal that need no look at: not special, not whitespace (which may start
 * ` or `/` and `), not `n` (which may start `not `).
 */
const PLAIN_RUN = /[^\\():<>"*{} \t\n\r\u00a0nN]+/y;

/** Characters an unquoted literal must escape: `\ ( ) : < > " * { }`. */
function isSpecial(ch: string): boolean {
  return (
    ch === "\\" ||
    ch === "(" ||
    ch === ")" ||
    ch === ":" ||
    ch === "<" ||
    ch === ">" ||
    ch === '"' ||
    ch === "*" ||
    ch === "{" ||
    ch === "}"
  );
}

function isHex(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9a-fA-F]$/.test(ch);
}

/** Display names of the grammar's named rules, as Kibana's KQLSyntaxError translates them. */
const RULE_NAMES = {
  fieldName: "field name",
  value: "value",
  literal: "literal",
  whitespace: "whitespace",
  or: "OR",
  and: "AND",
  not: "NOT",
} as const;

class Parser {
  private pos = 0;
  /** > 0 while inside a named rule or a look-ahead: failures there are not recorded. */
  private silent = 0;
  private maxFailPos = 0;
  private expected: string[] = [];
  /** Positions where the whitespace rule has already run (see the module comment). */
  private readonly spaceTried: Uint8Array;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly allowLeadingWildcards: boolean,
  ) {
    this.spaceTried = new Uint8Array(text.length + 2);
  }

  /** start := Space* OrQuery? Space* end-of-input */
  parseStart(): KqlQuery {
    this.spaces();
    const query = this.orQuery();
    this.spaces();
    if (this.pos < this.text.length) {
      this.failAt(this.pos, "end of input");
      throw this.syntaxError();
    }
    if (query === FAIL) return matchAllNode({ start: 0, end: this.text.length });
    return query;
  }

  /** Literal as a start rule: Literal end-of-input */
  parseLiteralStart(): ValueNode {
    const node = this.namedLiteral(RULE_NAMES.literal);
    if (node !== FAIL && this.pos === this.text.length) return node;
    if (node !== FAIL) this.failAt(this.pos, "end of input");
    throw this.syntaxError();
  }

  // ---- recording failures -------------------------------------------------------------------------

  private failAt(pos: number, description: string): void {
    if (this.silent > 0 || pos < this.maxFailPos) return;
    if (pos > this.maxFailPos) {
      this.maxFailPos = pos;
      this.expected = [];
    }
    this.expected.push(description);
  }

  private syntaxError(): KqlSyntaxError {
    const at = this.maxFailPos;
    const found = at < this.text.length ? this.text.charAt(at) : null;
    const expected = [...new Set(this.expected)].sort();
    const title = `Expected ${expected.join(", ")} but ${found !== null ? `"${found}"` : "end of input"} found.`;
    const diagnostic: Diagnostic = {
      code: "KQL001",
      severity: "error",
      title,
      labels: [
        {
          span: { start: at, end: found === null ? at : at + 1 },
          text: found === null ? "the query ends here" : "",
          primary: true,
        },
      ],
      expected,
    };
    return new KqlSyntaxError(diagnostic, this.text, kibanaMessage(title, this.text, at));
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) {
      const at = this.pos;
      const title = `the query nests deeper than ${MAX_DEPTH} levels of parentheses or braces`;
      throw new KqlSyntaxError(
        {
          code: "KQL003",
          severity: "error",
          title,
          labels: [{ span: { start: at, end: at + 1 }, text: "too deep here", primary: true }],
          help: "flatten the query: a chain of `or`/`and` needs no parentheses",
        },
        this.text,
        kibanaMessage(title, this.text, at),
      );
    }
  }

  // ---- terminals ----------------------------------------------------------------------------------

  /** Space "whitespace" := [ \t\r\n\u00A0] */
  private space(): boolean {
    const at = this.pos;
    const ok = isSpaceCode(this.text.charCodeAt(at));
    if (this.spaceTried[at] === 0) {
      this.spaceTried[at] = 1;
      if (!ok) this.failAt(at, RULE_NAMES.whitespace);
    }
    if (ok) this.pos++;
    return ok;
  }

  /** Space* */
  private spaces(): void {
    while (this.space()) {
      // consume
    }
  }

  /** The whitespace rule run inside a look-ahead: never records, but counts as tried. */
  private spaceAtSilently(at: number): boolean {
    if (at <= this.text.length) this.spaceTried[at] = 1;
    return isSpaceCode(this.text.charCodeAt(at));
  }

  private token(literalText: string): boolean {
    if (this.text.startsWith(literalText, this.pos)) {
      this.pos += literalText.length;
      return true;
    }
    this.failAt(this.pos, `"${literalText}"`);
    return false;
  }

  /** Case-insensitive match of an ASCII keyword at `at`; returns the text as typed or undefined. */
  private keywordAt(at: number, word: string): string | undefined {
    // Runs at every character of an unquoted value: compare codes, slice only on a match. `word` is
    // lower-case ASCII letters, and no other character lower-cases to one of them.
    const text = this.text;
    if (at + word.length > text.length) return undefined;
    for (let k = 0; k < word.length; k++) {
      if ((text.charCodeAt(at + k) | 0x20) !== word.charCodeAt(k)) return undefined;
    }
    return text.slice(at, at + word.length);
  }

  /**
   * Or "OR" := Space+ 'or'i Space+ ; And "AND" := Space+ 'and'i Space+ ; Not "NOT" := 'not'i Space+
   */
  private keyword(name: string, word: string, leadingSpace: boolean): boolean {
    const start = this.pos;
    this.silent++;
    let ok = true;
    if (leadingSpace) {
      ok = this.space();
      if (ok) this.spaces();
    }
    if (ok && this.keywordAt(this.pos, word) !== undefined) this.pos += word.length;
    else ok = false;
    if (ok) {
      ok = this.space();
      if (ok) this.spaces();
    }
    this.silent--;
    if (!ok) {
      this.pos = start;
      this.failAt(start, name);
    }
    return ok;
  }

  private or(): boolean {
    return this.keyword(RULE_NAMES.or, "or", true);
  }

  private and(): boolean {
    return this.keyword(RULE_NAMES.and, "and", true);
  }

  private not(): boolean {
    return this.keyword(RULE_NAMES.not, "not", false);
  }

  // ---- queries ------------------------------------------------------------------------------------

  /** OrQuery := AndQuery (Or AndQuery)* */
  private orQuery(): KqlQuery | Fail {
    this.enter();
    const start = this.pos;
    const head = this.andQuery();
    if (head === FAIL) {
      this.depth--;
      return FAIL;
    }
    const items: KqlQuery[] = [head];
    for (;;) {
      const save = this.pos;
      if (!this.or()) break;
      const next = this.andQuery();
      if (next === FAIL) {
        this.pos = save;
        break;
      }
      items.push(next);
    }
    this.depth--;
    return items.length === 1 ? head : orNode(items, { start, end: this.pos });
  }

  /** AndQuery := NotQuery (And NotQuery)* */
  private andQuery(): KqlQuery | Fail {
    const start = this.pos;
    const head = this.notQuery();
    if (head === FAIL) return FAIL;
    const items: KqlQuery[] = [head];
    for (;;) {
      const save = this.pos;
      if (!this.and()) break;
      const next = this.notQuery();
      if (next === FAIL) {
        this.pos = save;
        break;
      }
      items.push(next);
    }
    return items.length === 1 ? head : andNode(items, { start, end: this.pos });
  }

  /** NotQuery := Not SubQuery | SubQuery */
  private notQuery(): KqlQuery | Fail {
    const start = this.pos;
    if (this.not()) {
      const query = this.subQuery();
      if (query !== FAIL) return notNode(query, { start, end: this.pos });
      this.pos = start;
    }
    return this.subQuery();
  }

  /** SubQuery := '(' Space* OrQuery Space* ')' | NestedQuery */
  private subQuery(): KqlQuery | Fail {
    const start = this.pos;
    if (this.token("(")) {
      this.spaces();
      const query = this.orQuery();
      if (query !== FAIL) {
        this.spaces();
        if (this.token(")")) return query;
      }
      this.pos = start;
    }
    return this.nestedOrExpression();
  }

  /**
   * NestedQuery := Field Space* ':' Space* '{' Space* OrQuery Space* '}' | Expression
   * Expression := FieldRange | FieldValue | ValueExpression
   * FieldRange := Field Space* RangeOperator Space* Literal
   * FieldValue := Field Space* ':' Space* ListOfValues
   * ValueExpression := Value            (free text: the field is a null literal)
   *
   * The field is parsed once and shared by the three alternatives that start with it.
   */
  private nestedOrExpression(): KqlQuery | Fail {
    const start = this.pos;
    const field = this.namedLiteral(RULE_NAMES.fieldName);
    if (field !== FAIL) {
      const afterField = this.pos;
      // NestedQuery
      this.spaces();
      if (this.token(":")) {
        this.spaces();
        if (this.token("{")) {
          this.spaces();
          this.enter();
          const query = this.orQuery();
          this.depth--;
          if (query !== FAIL) {
            this.spaces();
            if (this.token("}")) return nestedNode(field, query, { start, end: this.pos });
          }
        }
      }
      // FieldRange
      this.pos = afterField;
      this.spaces();
      const operator = this.rangeOperator();
      if (operator !== undefined) {
        this.spaces();
        const value = this.namedLiteral(RULE_NAMES.literal);
        if (value !== FAIL) return rangeNode(field, operator, value, { start, end: this.pos });
      }
      // FieldValue
      this.pos = afterField;
      this.spaces();
      if (this.token(":")) {
        this.spaces();
        const values = this.listOfValues();
        if (values !== FAIL) return distribute(values, field, start);
      }
      this.pos = start;
    }
    const value = this.value();
    if (value === FAIL) return FAIL;
    return isNode(literal(null), value, { start, end: this.pos });
  }

  /** RangeOperator := '<=' | '>=' | '<' | '>' */
  private rangeOperator(): RangeOperator | undefined {
    if (this.token("<=")) return "lte";
    if (this.token(">=")) return "gte";
    if (this.token("<")) return "lt";
    if (this.token(">")) return "gt";
    return undefined;
  }

  // ---- value lists --------------------------------------------------------------------------------

  /** ListOfValues := '(' Space* OrListOfValues Space* ')' | Value */
  private listOfValues(): ValueTree | Fail {
    const start = this.pos;
    if (this.token("(")) {
      this.spaces();
      const tree = this.orList();
      if (tree !== FAIL) {
        this.spaces();
        if (this.token(")")) return tree;
      }
      this.pos = start;
    }
    const node = this.value();
    if (node === FAIL) return FAIL;
    return { kind: "value", node, span: { start, end: this.pos } };
  }

  /** OrListOfValues := AndListOfValues (Or AndListOfValues)* */
  private orList(): ValueTree | Fail {
    this.enter();
    const start = this.pos;
    const head = this.andList();
    if (head === FAIL) {
      this.depth--;
      return FAIL;
    }
    const items: ValueTree[] = [head];
    for (;;) {
      const save = this.pos;
      if (!this.or()) break;
      const next = this.andList();
      if (next === FAIL) {
        this.pos = save;
        break;
      }
      items.push(next);
    }
    this.depth--;
    return items.length === 1 ? head : { kind: "or", items, span: { start, end: this.pos } };
  }

  /** AndListOfValues := NotListOfValues (And NotListOfValues)* */
  private andList(): ValueTree | Fail {
    const start = this.pos;
    const head = this.notList();
    if (head === FAIL) return FAIL;
    const items: ValueTree[] = [head];
    for (;;) {
      const save = this.pos;
      if (!this.and()) break;
      const next = this.notList();
      if (next === FAIL) {
        this.pos = save;
        break;
      }
      items.push(next);
    }
    return items.length === 1 ? head : { kind: "and", items, span: { start, end: this.pos } };
  }

  /** NotListOfValues := Not ListOfValues | ListOfValues */
  private notList(): ValueTree | Fail {
    const start = this.pos;
    if (this.not()) {
      const item = this.listOfValues();
      if (item !== FAIL) return { kind: "not", item, span: { start, end: this.pos } };
      this.pos = start;
    }
    return this.listOfValues();
  }

  // ---- literals -----------------------------------------------------------------------------------

  /**
   * Value "value" := QuotedString | UnquotedLiteral
   * With leading wildcards disabled, an unquoted value starting with `*` (other than a lone `*`) is
   * an error right away, as in Kibana.
   */
  private value(): ValueNode | Fail {
    const start = this.pos;
    this.silent++;
    let node: ValueNode | Fail = this.quotedString();
    if (node === FAIL) {
      node = this.unquotedLiteral();
      if (node !== FAIL && !this.allowLeadingWildcards && hasLeadingWildcard(node)) {
        this.silent--;
        throw this.leadingWildcardError({ start, end: this.pos });
      }
    }
    this.silent--;
    if (node === FAIL) {
      this.pos = start;
      this.failAt(start, RULE_NAMES.value);
    }
    return node;
  }

  /** Field "fieldName" := Literal ; Literal "literal" := QuotedString | UnquotedLiteral */
  private namedLiteral(name: string): ValueNode | Fail {
    const start = this.pos;
    this.silent++;
    let node: ValueNode | Fail = this.quotedString();
    if (node === FAIL) node = this.unquotedLiteral();
    this.silent--;
    if (node === FAIL) {
      this.pos = start;
      this.failAt(start, name);
    }
    return node;
  }

  /**
   * QuotedString := '"' QuotedCharacter* '"'
   * QuotedCharacter := '\t' | '\r' | '\n' | '\u' HEX{4} | '\' [\\"] | [^"]
   * (any other backslash is kept as a backslash)
   */
  private quotedString(): ValueNode | Fail {
    const start = this.pos;
    const text = this.text;
    if (text.charAt(this.pos) !== '"') return FAIL;
    let i = this.pos + 1;
    // Runs of plain characters are copied with one slice (IOC lists are hundreds of kilobytes).
    let value = "";
    let run = i;
    for (;;) {
      if (i >= text.length) return FAIL;
      const ch = text.charAt(i);
      if (ch === '"') break;
      if (ch === "\\") {
        value += text.slice(run, i);
        run = i;
        const next = text.charAt(i + 1);
        const escaped = escapedWhitespace(next);
        if (escaped !== undefined) {
          value += escaped;
          i += 2;
          run = i;
          continue;
        }
        if (next === "u" && isUnicodeEscape(text, i + 2)) {
          value += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          run = i;
          continue;
        }
        if (next === "\\" || next === '"') {
          value += next;
          i += 2;
          run = i;
          continue;
        }
      }
      i++;
    }
    value += text.slice(run, i);
    this.pos = i + 1;
    return literal(value, true, { start, end: this.pos });
  }

  /**
   * UnquotedLiteral := UnquotedCharacter+ (trimmed; `true`, `false`, `null` become typed literals, and any
   * unescaped `*` makes a wildcard node)
   * UnquotedCharacter := '\t' | '\r' | '\n' | '\' Special | '\u' HEX{4} | '\' ('or' | 'and' | 'not')
   *                    | '*' | !Special !Keyword any-character
   * Keyword := Space 'or' Space | Space 'and' Space | 'not' Space
   */
  private unquotedLiteral(): ValueNode | Fail {
    const start = this.pos;
    const text = this.text;
    let i = start;
    // Runs of plain characters are copied with one slice (IOC lists are hundreds of kilobytes).
    let value = "";
    let run = i;
    let hasWildcard = false;
    let count = 0;
    for (;;) {
      const ch = text.charAt(i);
      if (ch === "\\") {
        value += text.slice(run, i);
        const next = text.charAt(i + 1);
        const escaped = escapedWhitespace(next);
        if (escaped !== undefined) {
          value += escaped;
          i += 2;
        } else if (next !== "" && isSpecial(next)) {
          value += next;
          i += 2;
        } else if (next === "u" && isUnicodeEscape(text, i + 2)) {
          value += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          const word =
            this.keywordAt(i + 1, "or") ?? this.keywordAt(i + 1, "and") ?? this.keywordAt(i + 1, "not");
          if (word === undefined) {
            run = i;
            break;
          }
          value += word;
          i += 1 + word.length;
        }
        run = i;
        count++;
        continue;
      }
      if (ch === "*") {
        value += text.slice(run, i) + KQL_WILDCARD_SYMBOL;
        hasWildcard = true;
        i++;
        run = i;
        count++;
        continue;
      }
      if (ch === "" || isSpecial(ch) || this.isKeywordAt(i)) break;
      i++;
      count++;
      // Skip a run of characters that can neither end the literal nor start an escape, a wildcard or a
      // keyword (all of the hex of a hash), doing what the loop would: the keyword look-ahead's
      // whitespace check counts as tried at each of them.
      PLAIN_RUN.lastIndex = i;
      if (PLAIN_RUN.test(text)) {
        const end = PLAIN_RUN.lastIndex;
        this.spaceTried.fill(1, i, end);
        count += end - i;
        i = end;
      }
    }
    value += text.slice(run, i);
    if (count === 0) return FAIL;
    this.pos = i;
    const span = { start, end: i };
    const sequence = value.trim();
    if (sequence === "null") return literal(null, false, span);
    if (sequence === "true") return literal(true, false, span);
    if (sequence === "false") return literal(false, false, span);
    if (hasWildcard) return wildcard(sequence, span);
    return literal(sequence, false, span);
  }

  /** Keyword look-ahead: Space 'or'i Space | Space 'and'i Space | 'not'i Space (runs silently). */
  private isKeywordAt(at: number): boolean {
    if (this.spaceAtSilently(at)) {
      if (this.keywordAt(at + 1, "or") !== undefined && this.spaceAtSilently(at + 3)) return true;
      if (this.keywordAt(at + 1, "and") !== undefined && this.spaceAtSilently(at + 4)) return true;
    }
    return this.keywordAt(at, "not") !== undefined && this.spaceAtSilently(at + 3);
  }

  private leadingWildcardError(span: Span): KqlSyntaxError {
    const title = "Leading wildcards are disabled. See query:allowLeadingWildcards in Advanced Settings.";
    return new KqlSyntaxError(
      {
        code: "KQL002",
        severity: "error",
        title,
        labels: [{ span, text: "starts with a wildcard", primary: true }],
        help: "parse with allowLeadingWildcards (the default) or anchor the value's start",
      },
      this.text,
      kibanaMessage(title, this.text, span.start),
    );
  }
}

function escapedWhitespace(ch: string): string | undefined {
  if (ch === "t") return "\t";
  if (ch === "r") return "\r";
  if (ch === "n") return "\n";
  return undefined;
}

function isUnicodeEscape(text: string, at: number): boolean {
  return isHex(text[at]) && isHex(text[at + 1]) && isHex(text[at + 2]) && isHex(text[at + 3]);
}

/** A wildcard value that starts with `*` and is more than a lone `*` (which means "exists"). */
export function hasLeadingWildcard(node: ValueNode): boolean {
  return (
    node.type === "wildcard" &&
    node.value.startsWith(KQL_WILDCARD_SYMBOL) &&
    node.value.replace(KQL_WILDCARD_SYMBOL, "").length > 0
  );
}

function kibanaMessage(firstLine: string, query: string, offset: number): string {
  return [firstLine, query, `${"-".repeat(offset)}^`].join("\n");
}

/** Apply a value list to its field: `f:(a or not b)` becomes `or(is(f,a), not(is(f,b)))`. */
function distribute(tree: ValueTree, field: ValueNode, fieldStart: number): KqlQuery {
  switch (tree.kind) {
    case "value":
      return isNode(field, tree.node, { start: fieldStart, end: tree.span.end });
    case "or":
      return orNode(
        tree.items.map((item) => distribute(item, field, item.span.start)),
        tree.span,
      );
    case "and":
      return andNode(
        tree.items.map((item) => distribute(item, field, item.span.start)),
        tree.span,
      );
    case "not":
      return notNode(distribute(tree.item, field, tree.item.span.start), tree.span);
  }
}
