/**
 * STIX 2.1 patterning language, parsed far enough to pull indicator values out of it. The AST keeps every
 * comparison (with its operator and whether it sits under an `AND`/`FOLLOWEDBY`), so the caller can
 * decide which comparisons stand alone as indicators and which were narrowed by a conjunction.
 *
 * Grammar (STIX 2.1 §9, qualifiers parsed and ignored: they narrow in time, never widen):
 *
 *     Pattern            ::= ObservationOr EOF
 *     ObservationOr      ::= ObservationAnd ("OR" ObservationAnd)*
 *     ObservationAnd     ::= ObservationSeq ("AND" ObservationSeq)*
 *     ObservationSeq     ::= ObservationUnit ("FOLLOWEDBY" ObservationUnit)*
 *     ObservationUnit    ::= ("[" ComparisonOr "]" | "(" ObservationOr ")") Qualifier*
 *     Qualifier          ::= "WITHIN" Number "SECONDS" | "REPEATS" Number "TIMES"
 *                          | "START" Timestamp "STOP" Timestamp
 *     ComparisonOr       ::= ComparisonAnd ("OR" ComparisonAnd)*
 *     ComparisonAnd      ::= ComparisonAtom ("AND" ComparisonAtom)*
 *     ComparisonAtom     ::= "(" ComparisonOr ")" | ObjectPath "NOT"? Operator Value
 *     Operator           ::= "=" | "!=" | "<" | "<=" | ">" | ">=" | "IN" | "LIKE" | "MATCHES"
 *                          | "ISSUBSET" | "ISSUPERSET"
 *     Value              ::= String | Number | Boolean | b'..' | h'..' | t'..' | "(" Value ("," Value)* ")"
 *     ObjectPath         ::= ObjectType ":" Property ("." Property | "[" (Number | "*") "]")*
 */

export interface StixComparison {
  readonly objectType: string;
  /** Property path after the colon, segments joined by "." with quotes removed (`hashes.SHA-256`). */
  readonly property: string;
  readonly operator: string;
  readonly negated: boolean;
  /** String values (a list for `IN`); non-string constants as their text. */
  readonly values: readonly string[];
  /** True when this comparison is combined with others by AND (or FOLLOWEDBY/observation AND). */
  readonly conjunctive: boolean;
}

export class StixPatternError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

type Token =
  | { kind: "punct"; text: string; offset: number }
  | { kind: "word"; text: string; offset: number }
  | { kind: "string"; text: string; prefix: string; offset: number }
  | { kind: "number"; text: string; offset: number }
  | { kind: "eof"; text: ""; offset: number };

const MAX_DEPTH = 64;
const MAX_PATTERN = 65536;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const start = i;
    if ((c === "b" || c === "h" || c === "t") && src[i + 1] === "'") {
      i++;
    }
    if (src[i] === "'") {
      const prefix = i > start ? c : "";
      i++;
      let text = "";
      for (;;) {
        if (i >= src.length) throw new StixPatternError("unterminated string", start);
        const ch = src[i];
        if (ch === "\\" && i + 1 < src.length) {
          text += src[i + 1];
          i += 2;
          continue;
        }
        if (ch === "'") {
          i++;
          break;
        }
        text += ch;
        i++;
      }
      tokens.push({ kind: "string", text, prefix, offset: start });
      continue;
    }
    i = start;
    const two = src.slice(i, i + 2);
    if (two === "!=" || two === "<=" || two === ">=") {
      tokens.push({ kind: "punct", text: two, offset: i });
      i += 2;
      continue;
    }
    if ("[]():=<>,.*".includes(c)) {
      tokens.push({ kind: "punct", text: c, offset: i });
      i++;
      continue;
    }
    if (/[0-9-]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[0-9.eE+-]/.test(src[j])) j++;
      tokens.push({ kind: "number", text: src.slice(i, j), offset: i });
      i = j;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_-]/.test(src[j])) j++;
      tokens.push({ kind: "word", text: src.slice(i, j), offset: i });
      i = j;
      continue;
    }
    throw new StixPatternError(`unexpected character \`${c}\``, i);
  }
  tokens.push({ kind: "eof", text: "", offset: src.length });
  return tokens;
}

const OPERATOR_WORDS = new Set(["IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"]);

/** Parse a pattern and return its comparisons in source order. Throws `StixPatternError`. */
export function parseStixPattern(src: string): StixComparison[] {
  if (src.length > MAX_PATTERN)
    throw new StixPatternError(`pattern longer than ${MAX_PATTERN} characters`, 0);
  const tokens = tokenize(src);
  let pos = 0;
  let depth = 0;
  const out: StixComparison[] = [];
  let conjunctionSeen = false;

  const peek = (): Token => tokens[pos];
  const next = (): Token => tokens[pos++];
  const isWord = (t: Token, w: string): boolean => t.kind === "word" && t.text.toUpperCase() === w;
  const expect = (text: string): void => {
    const t = next();
    if (t.text !== text || t.kind === "string") {
      throw new StixPatternError(`expected \`${text}\`, found ${describe(t)}`, t.offset);
    }
  };
  const enter = (offset: number): void => {
    if (++depth > MAX_DEPTH) throw new StixPatternError(`pattern nested deeper than ${MAX_DEPTH}`, offset);
  };

  /** Runs `operand` separated by keyword `word`; marks conjunction when `word` joins two or more. */
  const chain = (word: string, conjunctive: boolean, operand: () => void): void => {
    operand();
    while (isWord(peek(), word)) {
      next();
      if (conjunctive) conjunctionSeen = true;
      operand();
    }
  };

  const observationOr = (): void => chain("OR", false, observationAnd);
  const observationAnd = (): void => chain("AND", true, observationSeq);
  const observationSeq = (): void => chain("FOLLOWEDBY", true, observationUnit);
  const observationUnit = (): void => {
    const t = next();
    enter(t.offset);
    if (t.text === "[" && t.kind === "punct") {
      comparisonOr();
      expect("]");
    } else if (t.text === "(" && t.kind === "punct") {
      observationOr();
      expect(")");
    } else {
      throw new StixPatternError(`expected \`[\` or \`(\`, found ${describe(t)}`, t.offset);
    }
    depth--;
    qualifiers();
  };
  const qualifiers = (): void => {
    for (;;) {
      const t = peek();
      if (isWord(t, "WITHIN")) {
        next();
        number();
        word("SECONDS");
      } else if (isWord(t, "REPEATS")) {
        next();
        number();
        word("TIMES");
      } else if (isWord(t, "START")) {
        next();
        stringValue();
        word("STOP");
        stringValue();
      } else return;
    }
  };
  const number = (): void => {
    const t = next();
    if (t.kind !== "number") throw new StixPatternError(`expected a number, found ${describe(t)}`, t.offset);
  };
  const word = (w: string): void => {
    const t = next();
    if (!isWord(t, w)) throw new StixPatternError(`expected \`${w}\`, found ${describe(t)}`, t.offset);
  };
  const stringValue = (): string => {
    const t = next();
    if (t.kind !== "string") throw new StixPatternError(`expected a string, found ${describe(t)}`, t.offset);
    return t.text;
  };
  const comparisonOr = (): void => chain("OR", false, comparisonAnd);
  const comparisonAnd = (): void => chain("AND", true, comparisonAtom);
  const comparisonAtom = (): void => {
    const t = peek();
    if (t.kind === "punct" && t.text === "(") {
      next();
      enter(t.offset);
      comparisonOr();
      expect(")");
      depth--;
      return;
    }
    const { objectType, property } = objectPath();
    let negated = false;
    if (isWord(peek(), "NOT")) {
      next();
      negated = true;
    }
    const op = next();
    let operator: string;
    if (op.kind === "punct" && ["=", "!=", "<", "<=", ">", ">="].includes(op.text)) operator = op.text;
    else if (op.kind === "word" && OPERATOR_WORDS.has(op.text.toUpperCase()))
      operator = op.text.toUpperCase();
    else throw new StixPatternError(`expected a comparison operator, found ${describe(op)}`, op.offset);
    const values = value();
    out.push({ objectType, property, operator, negated, values, conjunctive: false });
  };
  const value = (): string[] => {
    const t = next();
    if (t.kind === "string" || t.kind === "number") return [t.text];
    if (t.kind === "word" && (t.text === "true" || t.text === "false")) return [t.text];
    if (t.kind === "punct" && t.text === "(") {
      const list: string[] = [];
      for (;;) {
        list.push(...value());
        const sep = next();
        if (sep.text === ")") return list;
        if (sep.text !== ",")
          throw new StixPatternError(`expected \`,\` or \`)\`, found ${describe(sep)}`, sep.offset);
      }
    }
    throw new StixPatternError(`expected a value, found ${describe(t)}`, t.offset);
  };
  const objectPath = (): { objectType: string; property: string } => {
    const t = next();
    if (t.kind !== "word")
      throw new StixPatternError(`expected an object type, found ${describe(t)}`, t.offset);
    expect(":");
    const segments: string[] = [propertyName()];
    for (;;) {
      const p = peek();
      if (p.kind === "punct" && p.text === ".") {
        next();
        segments.push(propertyName());
      } else if (p.kind === "punct" && p.text === "[") {
        next();
        const index = next();
        if (index.kind !== "number" && index.text !== "*") {
          throw new StixPatternError(`expected a list index, found ${describe(index)}`, index.offset);
        }
        expect("]");
      } else break;
    }
    return { objectType: t.text.toLowerCase(), property: segments.join(".") };
  };
  const propertyName = (): string => {
    const t = next();
    if (t.kind === "word" || t.kind === "string") return t.text;
    throw new StixPatternError(`expected a property name, found ${describe(t)}`, t.offset);
  };

  observationOr();
  const end = peek();
  if (end.kind !== "eof")
    throw new StixPatternError(`unexpected ${describe(end)} after the pattern`, end.offset);
  return conjunctionSeen ? out.map((c) => ({ ...c, conjunctive: true })) : out;
}

function describe(t: Token): string {
  if (t.kind === "eof") return "end of pattern";
  if (t.kind === "string") return `string '${t.text.slice(0, 40)}'`;
  return `\`${t.text}\``;
}
