/**
 * Hand-written recursive-descent parser for EQL, Elasticsearch dialect (EqlBase.g4). It builds the
 * readonly AST of ast.ts and throws a QuarryError whose Diagnostic names the offending token, its span
 * and everything the grammar would have accepted there.
 *
 * Precedence, loosest first (the same as Elasticsearch's grammar):
 *
 * | level | construct                                   | associativity            |
 * |-------|---------------------------------------------|--------------------------|
 * | 1     | `or`                                        | left                     |
 * | 2     | `and`                                       | left                     |
 * | 3     | `not` (prefix)                              | -                        |
 * | 4     | `== != < <= > >=`                           | none (no chaining)       |
 * | 5     | `+ -`                                       | left                     |
 * | 6     | `* / %`                                     | left                     |
 * | 7     | unary `-` / `+`                             | -                        |
 * | 8     | predicates on a primary: `: like like~ regex regex~ in in~ not in` | - |
 * | 9     | literals, fields, function calls, `( ... )` | -                        |
 *
 * Predicates bind to the primary expression just before them (`a + b : "x"` is `a + (b : "x")`), as in
 * Elasticsearch. Parsing constructs that Elasticsearch parses and then refuses (`join`, `descendant of`,
 * `[0]` indexes, unsupported pipes, malformed `with maxspan`/`with runs`) fails here with ES's message.
 *
 * Budgets: nesting (parentheses, `not`, unary minus, calls) is limited to MAX_NESTING levels and the
 * tree's height to MAX_TREE_HEIGHT, so hostile input yields a Diagnostic, never a stack overflow, and
 * every later tree walk is bounded too.
 */
import {
  type Diagnostic,
  type DiagnosticLabel,
  joinAlternatives,
  QuarryError,
  type Span,
} from "../diagnostics/index.js";
import type {
  ArithmeticOperator,
  ComparisonOperator,
  Duration,
  EqlQuery,
  EventQuery,
  Expression,
  FieldRef,
  Literal,
  MatchOperator,
  MatchPredicate,
  NumericType,
  Pipe,
  SampleQuery,
  SequenceQuery,
  Stage,
} from "./ast.js";
import { isKeyword, type Token, type TokenKind, tokenize } from "./lexer.js";

/** Deepest nesting of parentheses, `not`, unary signs and calls. */
export const MAX_NESTING = 200;
/** Highest tree (long `and`/`or`/arithmetic chains count one level per operator). */
export const MAX_TREE_HEIGHT = 1000;

/** Parse error codes (see docs/errors/eql.md). */
export const ParseCode = {
  syntax: "EQL105",
  unbalanced: "EQL106",
  listWithoutParentheses: "EQL107",
  tooDeep: "EQL108",
  numberTooLarge: "EQL110",
  assignment: "EQL112",
  chainedComparison: "EQL113",
  arrayIndex: "EQL114",
  processRelationship: "EQL115",
  join: "EQL116",
  pipe: "EQL117",
  pipeArgument: "EQL118",
  maxspan: "EQL119",
  sequence: "EQL120",
  runs: "EQL121",
  joinKeys: "EQL122",
  sample: "EQL124",
} as const;

/** Pipes Elasticsearch recognises by name (it supports only head and tail). */
const KNOWN_PIPES = ["count", "filter", "head", "sort", "tail", "unique", "unique_count"] as const;
const MAX_RUNS = 100;

const TIME_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const COMPARISON_OPERATORS: readonly ComparisonOperator[] = ["==", "!=", "<", "<=", ">", ">="];
const MATCH_OPERATORS: readonly MatchOperator[] = [":", "like", "like~", "regex", "regex~"];

/**
 * Parse an EQL query.
 *
 * @example parseEql('process where process.name : "cmd.exe"').body.kind  // "event"
 * @throws QuarryError with an EQL1xx Diagnostic when the text is not valid Elasticsearch EQL.
 */
export function parseEql(text: string): EqlQuery {
  const tokens = tokenize(text);
  return new Parser(text, tokens).parseStatement();
}

/** Parse a lone expression (no `category where`), e.g. for function fold tests: `startsWith("a", "b")`. */
export function parseEqlExpression(text: string): Expression {
  const tokens = tokenize(text);
  return new Parser(text, tokens).parseStandaloneExpression();
}

class Parser {
  private pos = 0;
  private furthest = 0;
  /** What would have been accepted at `furthest` (one set, emptied as `furthest` moves on). */
  private readonly expected = new Set<string>();
  /**
   * Height of each node built, for the height budget: a map of this parse's own, dropped with the parser
   * (no later pass reads heights, so nothing needs them once the tree is built).
   */
  private readonly heights = new Map<object, number>();
  private nesting = 0;
  /** A `subject : literal` without parentheses ending just before token `nextIndex`. */
  private bareMatch: { node: MatchPredicate; nextIndex: number } | undefined;
  /** The `[` or `![` of the stage being parsed. */
  private openStage: Token | undefined;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Token helpers

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }

  /** Record that `kind` would be accepted here (for the "expected" list), and test for it. */
  private at(kind: TokenKind, description?: string): boolean {
    if (this.pos > this.furthest) {
      this.furthest = this.pos;
      this.expected.clear();
    }
    if (this.pos === this.furthest) this.expected.add(description ?? describeKind(kind));
    return this.peek().kind === kind;
  }

  private accept(kind: TokenKind, description?: string): Token | undefined {
    if (!this.at(kind, description)) return undefined;
    return this.tokens[this.pos++];
  }

  private expect(kind: TokenKind, description?: string): Token {
    const token = this.accept(kind, description);
    if (!token) this.syntaxError();
    return token;
  }

  private previous(): Token {
    return this.tokens[Math.max(0, this.pos - 1)];
  }

  private fail(diagnostic: Diagnostic): never {
    // Labels may have been given whole tokens as spans: keep only the offsets.
    const labels = diagnostic.labels.map((l) => ({ ...l, span: { start: l.span.start, end: l.span.end } }));
    throw new QuarryError({ ...diagnostic, labels }, this.text);
  }

  private error(
    code: string,
    title: string,
    span: Span,
    label: string,
    extra: Partial<Diagnostic> = {},
  ): never {
    const labels: DiagnosticLabel[] = [{ span, text: label, primary: true }, ...(extra.labels ?? [])];
    this.fail({ code, severity: "error", title, ...extra, labels });
  }

  private enter(): void {
    if (++this.nesting > MAX_NESTING) {
      const token = this.peek();
      this.error(
        ParseCode.tooDeep,
        `query nests too deeply (more than ${MAX_NESTING} levels)`,
        token,
        "nesting limit reached here",
        { help: "simplify the query: remove redundant parentheses, `not`s or signs" },
      );
    }
  }

  private leave(): void {
    this.nesting--;
  }

  /** Give a node its height; fail when the tree would grow past the budget. */
  private node<T extends object>(value: T, ...children: readonly object[]): T {
    let h = 0;
    for (const child of children) h = Math.max(h, this.heightOf(child));
    h++;
    if (h > MAX_TREE_HEIGHT) {
      const span = (value as { span?: Span }).span ?? this.peek();
      this.error(
        ParseCode.tooDeep,
        `query nests too deeply (its tree is more than ${MAX_TREE_HEIGHT} levels high)`,
        { start: span.start, end: Math.min(span.end, span.start + 1) },
        "the expression starting here is too deep",
        { help: "split very long `and`/`or` chains, or use `in (...)` / `: (...)` lists for many values" },
      );
    }
    this.heights.set(value, h);
    return value;
  }

  private heightOf(node: object): number {
    return this.heights.get(node) ?? 1;
  }

  // ---------------------------------------------------------------------------------------------
  // Errors

  /** A syntax error at the furthest point the parser reached, listing everything it tried there. */
  private syntaxError(): never {
    const index = Math.max(this.furthest, this.pos);
    const token = this.tokens[Math.min(index, this.tokens.length - 1)];
    const expected = [...(index === this.furthest ? this.expected : new Set<string>())].sort();

    const paren = this.parenthesisProblem(token);
    if (paren) this.fail(paren);
    if ((token.kind === "[" || token.kind === "![") && this.openStage && expected.includes("`]`")) {
      const open = this.openStage;
      this.fail({
        code: ParseCode.unbalanced,
        severity: "error",
        title: `unclosed \`${open.text}\`: expected \`]\` before the next stage`,
        labels: [
          { span: open, text: `this \`${open.text}\` is never closed`, primary: true },
          { span: token, text: "the next stage starts here", primary: false },
        ],
        expected,
        help: "close each stage with `]`",
      });
    }

    if (token.kind === "," && this.bareMatch && this.bareMatch.nextIndex === index)
      this.listWithoutParentheses(index);

    const found = describeToken(token);
    const labelText = expected.length > 0 ? `expected ${joinAlternatives(expected)}` : "not expected here";
    const extra: { notes?: string[]; help?: string } = {};
    const help = this.syntaxHelp(token, index, expected);
    if (help) extra.help = help;
    this.fail({
      code: ParseCode.syntax,
      severity: "error",
      title: token.kind === "eof" ? "unexpected end of query" : `unexpected ${found}`,
      labels: [{ span: token, text: labelText, primary: true }],
      expected,
      ...extra,
    });
  }

  private syntaxHelp(token: Token, index: number, expected: readonly string[]): string | undefined {
    const prev = index > 0 ? this.tokens[index - 1] : undefined;
    if (
      index === 1 &&
      prev &&
      (prev.kind === "identifier" || prev.kind === "string") &&
      expected.includes("`where`")
    ) {
      return 'an event query is `<category> where <condition>`, e.g. `process where process.name : "cmd.exe"` or `any where ...`';
    }
    if (index === 0 && token.kind === "quotedIdentifier") {
      return 'quote an event category with double quotes, e.g. "my-category" where ...';
    }
    if (isKeyword(token.kind) && expected.some((e) => e.startsWith("a field"))) {
      return `\`${token.text}\` is a keyword; to use it as a field name, quote it with backticks`;
    }
    if (token.kind === "|" && prev?.kind === "|") return "use `or` for a logical or";
    if (token.kind === "with" && expected.includes("`[`") && expected.includes("`with`") === false) {
      return "`with maxspan=...` goes right after `sequence` (and after its `by` keys)";
    }
    if (token.kind === "maxspan")
      return "`with maxspan=...` goes right after `sequence` (and after its `by` keys)";
    if (
      token.kind === "identifier" &&
      /^0[xX]/.test(this.text.slice(prev?.start ?? 0, token.end)) &&
      prev?.kind === "integer"
    ) {
      return "EQL has no hexadecimal literals; write the number in decimal";
    }
    if (
      token.kind === "identifier" &&
      (token.text === "AND" || token.text === "OR" || token.text === "NOT")
    ) {
      return `keywords are lower-case: write \`${token.text.toLowerCase()}\``;
    }
    return undefined;
  }

  private listWithoutParentheses(commaIndex: number): never {
    const bare = this.bareMatch;
    if (!bare) this.syntaxError();
    const values = [bare.node.patterns[0]];
    const texts = [this.text.slice(values[0].span.start, values[0].span.end)];
    let i = commaIndex;
    while (this.tokens[i]?.kind === ",") {
      const t = this.tokens[i + 1];
      if (!t || !["string", "integer", "decimal", "true", "false", "null"].includes(t.kind)) break;
      texts.push(t.text);
      i += 2;
    }
    const last = this.tokens[i - 1];
    const subjectText = this.text.slice(bare.node.subject.span.start, bare.node.subject.span.end);
    const span = { start: bare.node.span.start, end: Math.max(last.end, bare.node.span.end) };
    this.error(
      ParseCode.listWithoutParentheses,
      "a list of values needs parentheses",
      span,
      `\`${bare.node.operator}\` takes one value, or a list in parentheses`,
      {
        labels: [{ span: this.tokens[commaIndex], text: "the list continues here", primary: false }],
        help: `write ${subjectText} ${bare.node.operator} (${texts.join(", ")})`,
      },
    );
  }

  /**
   * When the failing token is where an unbalanced bracket shows (an unmatched closer, or the end of the
   * query with openers left), explain the brackets rather than the grammar.
   */
  private parenthesisProblem(failing: Token): Diagnostic | undefined {
    const stack: Token[] = [];
    for (const token of this.tokens) {
      if (token.kind === "(" || token.kind === "[" || token.kind === "![") {
        stack.push(token);
        continue;
      }
      if (token.kind !== ")" && token.kind !== "]") continue;
      const open = stack.pop();
      const wanted = token.kind === ")" ? "(" : "[";
      if (!open) {
        if (token !== failing) return undefined;
        return {
          code: ParseCode.unbalanced,
          severity: "error",
          title: `unmatched \`${token.kind}\``,
          labels: [{ span: token, text: `no \`${wanted}\` is open here`, primary: true }],
          help: `remove this \`${token.kind}\` or add the \`${wanted}\` it closes`,
        };
      }
      const openKind = open.kind === "(" ? "(" : "[";
      if (openKind !== wanted) {
        if (token !== failing) return undefined;
        const close = openKind === "(" ? ")" : "]";
        return {
          code: ParseCode.unbalanced,
          severity: "error",
          title: `mismatched \`${token.kind}\`: expected \`${close}\``,
          labels: [
            { span: token, text: `expected \`${close}\` first`, primary: true },
            { span: open, text: `this \`${open.text}\` is still open`, primary: false },
          ],
          help: `close the \`${open.text}\` with \`${close}\` before this \`${token.kind}\``,
        };
      }
    }
    if (stack.length === 0 || failing.kind !== "eof") return undefined;
    const unclosed = stack[stack.length - 1];
    const close = unclosed.kind === "(" ? ")" : "]";
    // The last `)` of the query may close an extra `(` that was meant to be absent: show that one.
    const lastIndex = this.tokens.length - 2;
    const last = lastIndex >= 0 ? this.tokens[lastIndex] : undefined;
    let closedByLast: Token | undefined;
    if (last && last.kind === close) {
      const inner: Token[] = [];
      for (let i = 0; i <= lastIndex; i++) {
        const t = this.tokens[i];
        if (t.kind === "(" || t.kind === "[" || t.kind === "![") inner.push(t);
        else if (t.kind === ")" || t.kind === "]") {
          const o = inner.pop();
          if (i === lastIndex) closedByLast = o;
        }
      }
    }
    const where = (t: Token) => {
      const before = this.text.slice(0, t.start);
      const line = before.split("\n").length;
      const column = t.start - before.lastIndexOf("\n");
      return `${line}:${column}`;
    };
    if (closedByLast && closedByLast.start > unclosed.start) {
      return {
        code: ParseCode.unbalanced,
        severity: "error",
        title: `unbalanced parentheses: the \`${unclosed.text}\` at ${where(unclosed)} is never closed`,
        labels: [
          {
            span: closedByLast,
            text: `extra \`${closedByLast.text}\`? the final \`${close}\` closes this one`,
            primary: true,
          },
          { span: unclosed, text: `so this \`${unclosed.text}\` is never closed`, primary: false },
        ],
        expected: [`\`${close}\``],
        help: `remove the \`${closedByLast.text}\` at ${where(closedByLast)}, or add a \`${close}\` at the end`,
      };
    }
    return {
      code: ParseCode.unbalanced,
      severity: "error",
      title: `unbalanced parentheses: the \`${unclosed.text}\` at ${where(unclosed)} is never closed`,
      labels: [{ span: unclosed, text: `this \`${unclosed.text}\` is never closed`, primary: true }],
      expected: [`\`${close}\``],
      help: `add a \`${close}\` where the group ends, or remove this \`${unclosed.text}\``,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Statement

  /** statement := query pipe* EOF */
  parseStatement(): EqlQuery {
    const first = this.peek();
    const body = this.parseQuery();
    const pipes: Pipe[] = [];
    while (this.at("|")) pipes.push(this.parsePipe());
    this.expect("eof", "end of query");
    const last = this.previous();
    return this.node({ kind: "query", body, pipes, span: { start: first.start, end: last.end } }, body);
  }

  /** A bare expression followed by EOF. */
  parseStandaloneExpression(): Expression {
    const expression = this.parseExpression();
    this.expect("eof", "end of expression");
    return expression;
  }

  /** query := sequence | sample | eventQuery  (python-eql's `join` is refused) */
  private parseQuery(): EventQuery | SequenceQuery | SampleQuery {
    if (this.at("sequence")) return this.parseSequence();
    if (this.at("sample")) return this.parseSample();
    if (this.peek().kind === "join") {
      const token = this.peek();
      this.error(
        ParseCode.join,
        "JOIN command is not supported",
        token,
        "`join` is python-eql (Endgame EQL) syntax",
        {
          notes: ["Elasticsearch EQL has no `join`; Quarry follows Elasticsearch"],
          help: "use `sample by ...` for unordered events that share join keys, or `sequence by ...` for ordered ones",
        },
      );
    }
    return this.parseEventFilter();
  }

  /** eventFilter := (`any` | IDENTIFIER | STRING) `where` expression */
  private parseEventFilter(): EventQuery {
    const categoryToken = this.peek();
    let category: string | null;
    if (this.accept("any")) category = null;
    else if (this.accept("identifier", "an event category")) category = categoryToken.text;
    else if (this.accept("string", "an event category")) category = categoryToken.value;
    else this.syntaxError();
    this.expect("where");
    const condition = this.parseExpression();
    return this.node(
      {
        kind: "event",
        category,
        categorySpan: { start: categoryToken.start, end: categoryToken.end },
        condition,
        span: { start: categoryToken.start, end: condition.span.end },
      },
      condition,
    );
  }

  /**
   * sequence := `sequence` (joinKeys sequenceParams? | sequenceParams joinKeys?)?
   *             sequenceTerm+ (`until` sequenceTerm)?
   */
  private parseSequence(): SequenceQuery {
    const keyword = this.expect("sequence");
    let by: Expression[] = [];
    let maxspan: Duration | null = null;
    if (this.at("by")) {
      by = this.parseJoinKeys();
      if (this.at("with")) maxspan = this.parseSequenceParams();
    } else if (this.at("with")) {
      maxspan = this.parseSequenceParams();
      if (this.at("by")) {
        const byToken = this.peek();
        const keys = this.parseJoinKeys();
        this.error(
          ParseCode.sequence,
          "Please specify sequence [by] before [with] not after",
          { start: byToken.start, end: keys[keys.length - 1].span.end },
          "`by` must come before `with maxspan`",
          { help: "write `sequence by <keys> with maxspan=<time>`" },
        );
      }
    }
    const stages: Stage[] = [];
    while (this.at("[") || this.at("![")) stages.push(this.parseStage("sequence"));
    if (stages.length === 0) this.syntaxError();
    let until: Stage | null = null;
    const untilToken = this.accept("until");
    if (untilToken) {
      if (!this.at("[") && !this.at("![")) this.syntaxError();
      until = this.parseStage("until");
    }
    const span = { start: keyword.start, end: this.previous().end };
    const sequence: SequenceQuery = { kind: "sequence", by, maxspan, stages, until, span };
    this.checkJoinKeyCounts(by.length, until ? [...stages, until] : stages);

    const total = stages.reduce((n, s) => n + s.runs, 0);
    if (total < 2) {
      this.error(
        ParseCode.sequence,
        `A sequence requires a minimum of 2 queries, found [${total}]`,
        span,
        "only one event query",
        { help: "add another `[ ... ]` stage, or repeat one with `with runs=N`" },
      );
    }
    const missing = stages.filter((s) => s.missing);
    if (missing.length > 0 && maxspan === null) {
      this.error(
        ParseCode.sequence,
        "A sequence with missing events requires [with maxspan]",
        missing[0].span,
        "missing-event stage",
        {
          labels: [{ span: keyword, text: "add `with maxspan=<time>` here", primary: false }],
          help: "missing events are only defined inside a time window: write `sequence with maxspan=<time>`",
        },
      );
    }
    if (missing.length === stages.length) {
      this.error(
        ParseCode.sequence,
        "A sequence requires at least one positive event query; found none",
        span,
        "every stage is a missing event",
      );
    }
    if (until?.missing) {
      this.error(
        ParseCode.sequence,
        "[until] cannot be a missing event query",
        until.span,
        "`until` takes `[ ... ]`",
      );
    }
    if (until && until.runs !== 1) {
      this.error(
        ParseCode.runs,
        "[with runs] is not allowed on the [until] query",
        until.span,
        "`until` matches once",
      );
    }
    return this.node(sequence, ...by, ...stages, ...(until ? [until] : []));
  }

  /** sample := `sample` joinKeys? joinTerm+ */
  private parseSample(): SampleQuery {
    const keyword = this.expect("sample");
    const by = this.at("by") ? this.parseJoinKeys() : [];
    if (this.at("with")) {
      this.error(
        ParseCode.sample,
        "Sample queries do not support [with]",
        this.peek(),
        "`with maxspan` is for sequences",
        {
          notes: ["samples ignore time order, so `with maxspan` and `with runs` have no meaning there"],
        },
      );
    }
    const stages: Stage[] = [];
    while (this.at("[") || this.at("![")) stages.push(this.parseStage("sample"));
    if (stages.length === 0) this.syntaxError();
    if (this.at("until")) {
      this.error(
        ParseCode.sample,
        "Sample queries do not support [until]",
        this.peek(),
        "`until` is for sequences",
      );
    }
    const span = { start: keyword.start, end: this.previous().end };
    if (stages.length < 2) {
      this.error(
        ParseCode.sample,
        `A sample requires a minimum of 2 queries, found [${stages.length}]`,
        span,
        "only one event query",
      );
    }
    this.checkJoinKeyCounts(by.length, stages);
    return this.node({ kind: "sample", by, stages, span }, ...by, ...stages);
  }

  /** Every stage (and `until`) must end up with the same number of join keys. */
  private checkJoinKeyCounts(shared: number, stages: readonly Stage[]): void {
    const expected = stages[0]?.by.length ?? 0;
    for (const stage of stages.slice(1)) {
      if (stage.by.length !== expected) {
        const span =
          stage.by.length > 0
            ? { start: stage.by[0].span.start, end: stage.by[stage.by.length - 1].span.end }
            : stage.span;
        this.error(
          ParseCode.joinKeys,
          `Inconsistent number of join keys specified; expected [${expected}] but found [${stage.by.length}]`,
          span,
          `${stage.by.length} key${stage.by.length === 1 ? "" : "s"} here`,
          {
            labels: [{ span: stages[0].span, text: `the first stage has ${expected}`, primary: false }],
            notes:
              shared > 0
                ? [`the ${shared} key${shared === 1 ? "" : "s"} after \`by\` at the top apply to every stage`]
                : [],
          },
        );
      }
    }
  }

  /**
   * sequenceTerm := subquery joinKeys? (`with` IDENTIFIER `=` number)?
   * joinTerm     := subquery joinKeys?
   * subquery     := (`[` | `![`) eventFilter `]`
   */
  private parseStage(context: "sequence" | "sample" | "until"): Stage {
    const open = this.peek();
    const missing = open.kind === "![";
    this.pos++;
    if (missing && context === "sample") {
      this.error(
        ParseCode.sample,
        "Sample queries do not support missing events",
        open,
        "`![` is for sequences",
        {
          help: "use `[ ... ]`",
        },
      );
    }
    this.enter();
    this.openStage = open;
    const query = this.parseEventFilter();
    this.leave();
    this.expect("]");
    this.openStage = undefined;
    const by = this.at("by") ? this.parseJoinKeys() : [];
    let runs = 1;
    if (context !== "sample" && this.at("with")) {
      const withToken = this.expect("with");
      const key = this.peek();
      if (key.kind === "maxspan") {
        this.error(
          ParseCode.runs,
          "[with maxspan] belongs to the sequence, not to a stage",
          key,
          "stage option",
          {
            help: "write `sequence with maxspan=<time>` before the first stage",
          },
        );
      }
      this.expect("identifier", "`runs`");
      if (key.text !== "runs") {
        this.error(
          ParseCode.runs,
          `Unrecognized option [${key.text}], expecting [runs]`,
          key,
          "unknown stage option",
        );
      }
      this.expect("=");
      const value = this.peek();
      if (!this.accept("integer", "a number") && !this.accept("decimal", "a number")) this.syntaxError();
      const n = value.kind === "integer" ? Number(value.text) : Number.NaN;
      if (!Number.isInteger(n) || n < 1 || n > MAX_RUNS) {
        this.error(
          ParseCode.runs,
          `The runs value must be an integer between 1 and ${MAX_RUNS}; found [${value.text}]`,
          value,
          `between 1 and ${MAX_RUNS}`,
        );
      }
      runs = n;
      void withToken;
    }
    const stage: Stage = {
      kind: "stage",
      query,
      by,
      runs,
      missing,
      span: { start: open.start, end: this.previous().end },
    };
    return this.node(stage, query, ...by);
  }

  /** joinKeys := `by` expression (`,` expression)* */
  private parseJoinKeys(): Expression[] {
    this.expect("by");
    const keys = [this.parseExpression()];
    while (this.accept(",")) keys.push(this.parseExpression());
    return keys;
  }

  /** sequenceParams := `with` `maxspan` `=` number IDENTIFIER? */
  private parseSequenceParams(): Duration {
    const withToken = this.expect("with");
    const keyToken = this.peek();
    if (keyToken.kind === "identifier" && keyToken.text === "runs") {
      this.error(
        ParseCode.runs,
        "[with runs] belongs to a stage, not to the sequence",
        keyToken,
        "stage option",
        {
          help: "write `[ ... ] with runs=N` after the stage to repeat",
        },
      );
    }
    this.expect("maxspan");
    this.expect("=");
    const numberToken = this.peek();
    if (!this.accept("integer", "a number") && !this.accept("decimal", "a number")) this.syntaxError();
    const unitToken = this.accept("identifier", "a time unit");
    const end = (unitToken ?? numberToken).end;
    const spanText = this.text.slice(numberToken.start, end);
    if (numberToken.kind === "decimal") {
      this.error(
        ParseCode.maxspan,
        `Decimal time interval [${numberToken.text}] not supported; please use a positive integer`,
        numberToken,
        "a whole number is required",
        { help: "use a smaller unit, e.g. 1500ms instead of 1.5s" },
      );
    }
    const value = Number(numberToken.text);
    if (value <= 0) {
      this.error(
        ParseCode.maxspan,
        `A positive maxspan value is required; found [${value}]`,
        numberToken,
        "must be > 0",
      );
    }
    if (!unitToken) {
      this.error(
        ParseCode.maxspan,
        `No time unit specified, did you mean [s] as in [${numberToken.text}s]?`,
        numberToken,
        "a unit must follow: ms, s, m, h or d",
      );
    }
    const factor = TIME_UNITS[unitToken.text];
    if (factor === undefined) {
      this.error(
        ParseCode.maxspan,
        `Unrecognized time unit [${unitToken.text}] in [${spanText}], please specify one of [ms, s, m, h, d]`,
        unitToken,
        "unknown unit",
      );
    }
    const ms = value * factor;
    if (!Number.isSafeInteger(ms)) {
      this.error(
        ParseCode.maxspan,
        `maxspan [${spanText}] is too large`,
        { start: numberToken.start, end },
        "too large",
      );
    }
    void withToken;
    return { kind: "duration", ms, value, unit: unitToken.text, span: { start: numberToken.start, end } };
  }

  /** pipe := `|` IDENTIFIER (booleanExpression (`,` booleanExpression)*)?  — only `head N` and `tail N` run */
  private parsePipe(): Pipe {
    const bar = this.expect("|");
    const nameToken = this.expect("identifier", "a pipe name");
    const name = nameToken.text;
    if (name !== "head" && name !== "tail") {
      if ((KNOWN_PIPES as readonly string[]).includes(name)) {
        this.error(
          ParseCode.pipe,
          `Pipe [${name}] is not supported`,
          nameToken,
          "python-eql (Endgame EQL) pipe",
          {
            notes: [
              `\`| ${name}\` exists in python-eql; Elasticsearch EQL supports only \`| head N\` and \`| tail N\`, and Quarry follows Elasticsearch`,
            ],
          },
        );
      }
      const similar = findSimilar(name, KNOWN_PIPES);
      const suggestion =
        similar.length === 0
          ? ""
          : `, did you mean ${similar.length === 1 ? `[${similar[0]}]` : `any of [${similar.join(", ")}]`}?`;
      this.error(ParseCode.pipe, `Unrecognized pipe [${name}]${suggestion}`, nameToken, "unknown pipe", {
        notes: ["Elasticsearch EQL supports `| head N` and `| tail N`"],
      });
    }
    const args: Expression[] = [];
    if (!this.at("|") && !this.at("eof", "end of query")) {
      args.push(this.parseExpression());
      while (this.accept(",")) args.push(this.parseExpression());
    }
    const span = { start: bar.start, end: this.previous().end };
    if (args.length !== 1) {
      this.error(
        ParseCode.pipeArgument,
        `Pipe [${name}] expects exactly one argument but found [${args.length}]`,
        span,
        `\`| ${name} N\` takes one count`,
      );
    }
    const arg = args[0];
    const count = foldInteger(arg);
    if (count === undefined || count < 0 || count > 2_147_483_647) {
      this.error(
        ParseCode.pipeArgument,
        `Pipe [${name}] expects a positive integer but found [${this.text.slice(arg.span.start, arg.span.end)}]`,
        arg.span,
        "a non-negative integer constant is required",
      );
    }
    return { kind: name, count, span };
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions

  /** expression := booleanExpression */
  private parseExpression(): Expression {
    this.enter();
    const expression = this.parseOr();
    this.leave();
    return expression;
  }

  /** or := and (`or` and)* */
  private parseOr(): Expression {
    let left = this.parseAnd();
    while (this.accept("or")) {
      const right = this.parseAnd();
      left = this.node(
        { kind: "or", left, right, span: { start: left.span.start, end: right.span.end } },
        left,
        right,
      );
    }
    return left;
  }

  /** and := not (`and` not)* */
  private parseAnd(): Expression {
    let left = this.parseNot();
    while (this.accept("and")) {
      const right = this.parseNot();
      left = this.node(
        { kind: "and", left, right, span: { start: left.span.start, end: right.span.end } },
        left,
        right,
      );
    }
    return left;
  }

  /** not := `not` not | IDENTIFIER `of` subquery (refused) | comparison */
  private parseNot(): Expression {
    const notToken = this.accept("not");
    if (notToken) {
      this.enter();
      const operand = this.parseNot();
      this.leave();
      return this.node(
        { kind: "not", operand, span: { start: notToken.start, end: operand.span.end } },
        operand,
      );
    }
    const token = this.peek();
    if (token.kind === "identifier" && this.peek(1).kind === "of") {
      this.error(
        ParseCode.processRelationship,
        "Process relationships are not supported",
        { start: token.start, end: this.peek(1).end },
        `\`${token.text} of\` is python-eql (Endgame EQL) syntax`,
        {
          notes: [
            "`descendant of`, `child of` and `event of` exist in python-eql; Elasticsearch EQL has no lineage keywords, and Quarry follows Elasticsearch",
          ],
          help: "express the relationship with a sequence joined by process identifiers, e.g. `sequence [process where ...] by process.entity_id [... ] by process.parent.entity_id`",
        },
      );
    }
    return this.parseComparison();
  }

  /** comparison := additive (comparisonOperator additive)?   (comparisons do not chain) */
  private parseComparison(): Expression {
    const left = this.parseAdditive();
    let operator: ComparisonOperator | undefined;
    for (const op of COMPARISON_OPERATORS) {
      if (this.at(op)) {
        operator = op;
        break;
      }
    }
    if (!operator) {
      if (this.peek().kind === "=") {
        const token = this.peek();
        this.error(
          ParseCode.assignment,
          "`=` is not an operator in Elasticsearch EQL",
          token,
          "use `==` or `:`",
          {
            notes: [
              "python-eql accepts `=` for equality; Elasticsearch does not, and Quarry follows Elasticsearch",
            ],
            help: "write `==` for case-sensitive equality or `:` for case-insensitive equality with wildcards",
          },
        );
      }
      return left;
    }
    const operatorToken = this.tokens[this.pos++];
    const right = this.parseAdditive();
    const comparison = this.node(
      {
        kind: "comparison" as const,
        operator,
        left,
        right,
        operatorSpan: { start: operatorToken.start, end: operatorToken.end },
        span: { start: left.span.start, end: right.span.end },
      },
      left,
      right,
    );
    const next = this.peek();
    if ((COMPARISON_OPERATORS as readonly string[]).includes(next.kind)) {
      this.error(
        ParseCode.chainedComparison,
        "comparisons cannot be chained",
        next,
        "a second comparison operator",
        {
          labels: [{ span: operatorToken, text: "after this one", primary: false }],
          help: "combine comparisons with `and`, e.g. `a < b and b < c`",
        },
      );
    }
    return comparison;
  }

  /** additive := multiplicative ((`+` | `-`) multiplicative)* */
  private parseAdditive(): Expression {
    let left = this.parseMultiplicative();
    for (;;) {
      const operator: ArithmeticOperator | undefined = this.at("+") ? "+" : this.at("-") ? "-" : undefined;
      if (!operator) return left;
      const operatorToken = this.tokens[this.pos++];
      const right = this.parseMultiplicative();
      left = this.arithmetic(operator, operatorToken, left, right);
    }
  }

  /** multiplicative := unary ((`*` | `/` | `%`) unary)* */
  private parseMultiplicative(): Expression {
    let left = this.parseUnary();
    for (;;) {
      const operator: ArithmeticOperator | undefined = this.at("*")
        ? "*"
        : this.at("/")
          ? "/"
          : this.at("%")
            ? "%"
            : undefined;
      if (!operator) return left;
      const operatorToken = this.tokens[this.pos++];
      const right = this.parseUnary();
      left = this.arithmetic(operator, operatorToken, left, right);
    }
  }

  private arithmetic(
    operator: ArithmeticOperator,
    token: Token,
    left: Expression,
    right: Expression,
  ): Expression {
    return this.node(
      {
        kind: "arithmetic",
        operator,
        left,
        right,
        operatorSpan: { start: token.start, end: token.end },
        span: { start: left.span.start, end: right.span.end },
      },
      left,
      right,
    );
  }

  /** unary := (`-` | `+`) unary | primary predicate? */
  private parseUnary(): Expression {
    const sign = this.accept("-") ?? this.accept("+");
    if (sign) {
      this.enter();
      const operand = this.parseUnary();
      this.leave();
      if (sign.kind === "+") return operand;
      return this.node(
        { kind: "negate", operand, span: { start: sign.start, end: operand.span.end } },
        operand,
      );
    }
    const primary = this.parsePrimary();
    return this.parsePredicate(primary);
  }

  /**
   * predicate := `not`? (`in` | `in~`) `(` expression (`,` expression)* `)`
   *            | (`:` | `like` | `like~` | `regex` | `regex~`) constant
   *            | (`:` | `like` | `like~` | `regex` | `regex~`) `(` constant (`,` constant)* `)`
   */
  private parsePredicate(subject: Expression): Expression {
    const notToken = this.accept("not");
    if (notToken || this.at("in") || this.at("in~")) {
      const inToken = this.accept("in") ?? this.accept("in~");
      if (!inToken) {
        const next = this.peek();
        if (MATCH_OPERATORS.includes(next.kind as MatchOperator)) {
          this.error(
            ParseCode.syntax,
            `unexpected \`${next.text}\` after \`not\``,
            next,
            "expected `in` or `in~`",
            {
              expected: ["`in`", "`in~`"],
              help: `negate the whole predicate instead: \`not ${this.text.slice(subject.span.start, subject.span.end)} ${next.text} ...\``,
            },
          );
        }
        this.syntaxError();
      }
      if (!this.at("(")) {
        const next = this.peek();
        if (next.kind === "string" || next.kind === "integer" || next.kind === "decimal") {
          const values = [next.text];
          let i = this.pos + 1;
          while (
            this.tokens[i]?.kind === "," &&
            ["string", "integer", "decimal"].includes(this.tokens[i + 1]?.kind ?? "")
          ) {
            values.push(this.tokens[i + 1].text);
            i += 2;
          }
          const subjectText = this.text.slice(subject.span.start, subject.span.end);
          this.error(
            ParseCode.listWithoutParentheses,
            `the values of \`${inToken.text}\` need parentheses`,
            { start: next.start, end: this.tokens[i - 1].end },
            "expected `(`",
            {
              expected: ["`(`"],
              help: `write ${subjectText} ${notToken ? "not " : ""}${inToken.text} (${values.join(", ")})`,
            },
          );
        }
        this.syntaxError();
      }
      this.pos++;
      const values = [this.parseExpression()];
      while (this.accept(",")) values.push(this.parseExpression());
      this.expect(")");
      const start = subject.span.start;
      return this.node(
        {
          kind: "in",
          subject,
          values,
          negated: notToken !== undefined,
          caseInsensitive: inToken.kind === "in~",
          operatorSpan: { start: (notToken ?? inToken).start, end: inToken.end },
          span: { start, end: this.previous().end },
        },
        subject,
        ...values,
      );
    }
    let operator: MatchOperator | undefined;
    for (const op of MATCH_OPERATORS) {
      if (this.at(op)) {
        operator = op;
        break;
      }
    }
    if (!operator) return subject;
    const operatorToken = this.tokens[this.pos++];
    const list = this.accept("(") !== undefined;
    const patterns: Literal[] = [];
    if (list) {
      patterns.push(this.parseConstant());
      while (this.accept(",")) patterns.push(this.parseConstant());
      this.expect(")");
    } else {
      patterns.push(this.parseConstant());
    }
    const match: MatchPredicate = this.node(
      {
        kind: "match",
        operator,
        caseInsensitive: operator === ":" || operator.endsWith("~"),
        subject,
        patterns,
        list,
        operatorSpan: { start: operatorToken.start, end: operatorToken.end },
        span: { start: subject.span.start, end: this.previous().end },
      },
      subject,
      ...patterns,
    );
    if (!list) this.bareMatch = { node: match, nextIndex: this.pos };
    return match;
  }

  /** constant := `null` | number | `true` | `false` | string */
  private parseConstant(): Literal {
    const literal = this.parseLiteral();
    if (literal) return literal;
    const token = this.peek();
    if (token.kind === "-" && (this.peek(1).kind === "integer" || this.peek(1).kind === "decimal")) {
      this.error(ParseCode.syntax, "unexpected `-`", token, "expected a literal", {
        expected: [...this.expected].sort(),
        help: "the values of `:`, `like` and `regex` are literals; a negative number needs `==` or `in (...)`",
      });
    }
    if (token.kind === "identifier" || token.kind === "quotedIdentifier" || token.kind === "?") {
      this.error(ParseCode.syntax, `unexpected ${describeToken(token)}`, token, "expected a literal", {
        expected: [...this.expected].sort(),
        help: "the right side of `:`, `like` and `regex` must be a literal; Elasticsearch does not compare a field with another field",
      });
    }
    this.syntaxError();
  }

  private parseLiteral(): Literal | undefined {
    const token = this.peek();
    if (this.accept("string", "a string")) {
      return this.node({ kind: "string" as const, value: token.value, raw: token.raw, span: spanOf(token) });
    }
    if (this.accept("integer", "a number") || this.accept("decimal", "a number")) {
      return this.node(this.numberLiteral(token));
    }
    if (this.accept("true") || this.accept("false")) {
      return this.node({ kind: "boolean" as const, value: token.kind === "true", span: spanOf(token) });
    }
    if (this.accept("null")) return this.node({ kind: "null" as const, span: spanOf(token) });
    return undefined;
  }

  private numberLiteral(token: Token): Literal {
    const span = spanOf(token);
    if (token.kind === "decimal") {
      const value = Number(token.text);
      if (!Number.isFinite(value)) {
        this.error(
          ParseCode.numberTooLarge,
          `Number [${token.text}] is too large`,
          token,
          "beyond the double range",
        );
      }
      return { kind: "number", value, integer: false, numericType: "double", text: token.text, span };
    }
    const big = BigInt(token.text);
    let numericType: NumericType;
    if (big <= 2_147_483_647n) numericType = "integer";
    else if (big <= 9_223_372_036_854_775_807n) numericType = "long";
    else if (big <= 18_446_744_073_709_551_615n) numericType = "unsigned_long";
    else {
      // Elasticsearch reads an integer beyond unsigned long as a double.
      const value = Number(token.text);
      if (!Number.isFinite(value)) {
        this.error(
          ParseCode.numberTooLarge,
          `Number [${token.text}] is too large`,
          token,
          "beyond the double range",
        );
      }
      return { kind: "number", value, integer: false, numericType: "double", text: token.text, span };
    }
    const value = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    return { kind: "number", value, integer: true, numericType, text: token.text, span };
  }

  /**
   * primary := constant | functionName `(` (expression (`,` expression)*)? `)` | qualifiedName
   *          | `(` expression `)`
   */
  private parsePrimary(): Expression {
    const token = this.peek();
    const open = this.accept("(");
    if (open) {
      const inner = this.parseExpression();
      const close = this.expect(")");
      // Keep the parentheses in the span so messages quote the text as written.
      const widened = { ...inner, span: { start: open.start, end: close.end } };
      this.heights.set(widened, this.heightOf(inner));
      return widened;
    }
    const literal = this.parseLiteral();
    if (literal) return literal;
    if (this.at("tildeIdentifier", "a field or function name")) {
      this.pos++;
      if (!this.at("(")) this.syntaxError();
      return this.parseCall(token, true);
    }
    if (this.at("identifier", "a field or function name")) {
      if (this.peek(1).kind === "(") {
        this.pos++;
        return this.parseCall(token, false);
      }
      return this.parseField(undefined);
    }
    if (this.at("quotedIdentifier", "a field or function name")) return this.parseField(undefined);
    const optional = this.accept("?");
    if (optional) return this.parseField(optional);
    this.at("-");
    this.at("+");
    this.at("not");
    this.syntaxError();
  }

  /** functionExpression := (IDENTIFIER | TILDE_IDENTIFIER) `(` (expression (`,` expression)*)? `)` */
  private parseCall(nameToken: Token, caseInsensitive: boolean): Expression {
    this.expect("(");
    this.enter();
    const args: Expression[] = [];
    if (!this.at(")")) {
      args.push(this.parseExpression());
      while (this.accept(",")) args.push(this.parseExpression());
    }
    this.leave();
    const close = this.expect(")");
    return this.node(
      {
        kind: "call",
        name: nameToken.value,
        canonicalName: nameToken.value.toLowerCase(),
        caseInsensitive,
        args,
        nameSpan: spanOf(nameToken),
        span: { start: nameToken.start, end: close.end },
      },
      ...args,
    );
  }

  /** qualifiedName := `?`? identifier (`.` identifier | `[` INTEGER+ `]`)*   (indexes are refused) */
  private parseField(optional: Token | undefined): FieldRef {
    const first = this.peek();
    const segments: string[] = [];
    let quoted = false;
    const segment = () => {
      const t = this.peek();
      if (this.accept("identifier", "a field name")) segments.push(t.text);
      else if (this.accept("quotedIdentifier", "a field name")) {
        segments.push(t.value);
        quoted = true;
      } else this.syntaxError();
    };
    segment();
    for (;;) {
      if (this.accept(".")) {
        segment();
        continue;
      }
      if (this.at("[") && this.peek(1).kind === "integer") {
        const index = this.peek(1);
        this.error(
          ParseCode.arrayIndex,
          "Array indexes are not supported",
          index,
          "Elasticsearch EQL has no `[N]` indexes",
          {
            help: "compare the field directly: a multi-valued field matches when any of its values does",
          },
        );
      }
      break;
    }
    const start = (optional ?? first).start;
    return this.node({
      kind: "field",
      path: segments.join("."),
      optional: optional !== undefined,
      segments,
      quoted,
      span: { start, end: this.previous().end },
    });
  }
}

// -----------------------------------------------------------------------------------------------
// Helpers

function spanOf(token: Token): Span {
  return { start: token.start, end: token.end };
}

function describeKind(kind: TokenKind): string {
  switch (kind) {
    case "identifier":
      return "an identifier";
    case "quotedIdentifier":
      return "a backtick-quoted name";
    case "tildeIdentifier":
      return "a function name";
    case "string":
      return "a string";
    case "integer":
    case "decimal":
      return "a number";
    case "eof":
      return "end of query";
    default:
      return `\`${kind}\``;
  }
}

function describeToken(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "end of query";
    case "string":
      return `string ${truncate(token.text)}`;
    case "integer":
    case "decimal":
      return `number \`${truncate(token.text)}\``;
    case "identifier":
    case "quotedIdentifier":
    case "tildeIdentifier":
      return `\`${truncate(token.text)}\``;
    default:
      return isKeyword(token.kind) ? `keyword \`${token.text}\`` : `\`${token.text}\``;
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Fold an integer constant expression (literals, signs, + - * / %), as ES does for pipe counts. */
function foldInteger(expression: Expression): number | undefined {
  switch (expression.kind) {
    case "number":
      return expression.integer && typeof expression.value === "number" ? expression.value : undefined;
    case "negate": {
      const v = foldInteger(expression.operand);
      return v === undefined ? undefined : -v;
    }
    case "arithmetic": {
      const l = foldInteger(expression.left);
      const r = foldInteger(expression.right);
      if (l === undefined || r === undefined) return undefined;
      switch (expression.operator) {
        case "+":
          return l + r;
        case "-":
          return l - r;
        case "*":
          return l * r;
        case "/":
          return r === 0 ? undefined : Math.trunc(l / r);
        case "%":
          return r === 0 ? undefined : l % r;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Elasticsearch's did-you-mean: candidates whose Levenshtein similarity (1 - distance / longer length,
 * as Lucene's LevenshteinDistance) is at least 0.5, best first.
 */
export function findSimilar(match: string, candidates: Iterable<string>): string[] {
  const scored: { score: number; name: string; order: number }[] = [];
  let order = 0;
  for (const candidate of candidates) {
    const score = similarity(match, candidate);
    if (score >= 0.5) scored.push({ score, name: candidate, order: order++ });
  }
  scored.sort((a, b) => b.score - a.score || a.order - b.order);
  return scored.map((s) => s.name);
}

function similarity(a: string, b: string): number {
  if (a.length === 0 && b.length === 0) return 1;
  // Bounded: names are short, but guard against hostile lengths.
  if (a.length > 256 || b.length > 256) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return 1 - previous[b.length] / Math.max(a.length, b.length);
}
