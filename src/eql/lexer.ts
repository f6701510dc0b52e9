/**
 * EQL lexer, Elasticsearch dialect. Token rules follow Elasticsearch's EqlBase.g4:
 *
 * - keywords are lower-case and case-sensitive (`AND` is an identifier);
 * - identifiers are `[A-Za-z_@][A-Za-z0-9_]*`, backtick-quoted names may hold anything (a doubled
 *   backtick is one backtick), and `name~` is a case-insensitive function name;
 * - strings are double-quoted with escapes `\b \t \n \f \r \" \' \\ \uXXXX \u{X..}`, or raw
 *   `"""..."""` (nothing decoded, may end with one or two extra quotes that belong to the value);
 *   neither kind may span lines; single-quoted and `?"..."` strings are rejected with ES's messages;
 * - numbers are `12`, `1.5`, `1.`, `.5`, `1e3`, `1.5E-3` (no sign, no hex, no underscores);
 * - `//` line comments and nestable `/* ... *\/` comments are skipped, as are space, tab, CR and LF.
 *
 * The lexer tokenizes the whole query up front (linear time, one pass) and throws a QuarryError at the
 * first character it cannot read. It also explains the usual damage of text pasted from web pages:
 * typographic quotes and non-breaking spaces.
 */
import { type Diagnostic, QuarryError, type Span } from "../diagnostics/index.js";

export const KEYWORDS = [
  "and",
  "any",
  "by",
  "false",
  "in",
  "in~",
  "join",
  "like",
  "like~",
  "maxspan",
  "not",
  "null",
  "of",
  "or",
  "regex",
  "regex~",
  "sample",
  "sequence",
  "true",
  "until",
  "where",
  "with",
] as const;
export type Keyword = (typeof KEYWORDS)[number];

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

export function isKeyword(text: string): text is Keyword {
  return KEYWORD_SET.has(text);
}

export type Punctuation =
  | ":"
  | "="
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "."
  | ","
  | "["
  | "]"
  | "("
  | ")"
  | "|"
  | "?"
  | "![";

export type TokenKind =
  | Keyword
  | Punctuation
  | "identifier"
  | "quotedIdentifier"
  | "tildeIdentifier"
  | "string"
  | "integer"
  | "decimal"
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The token's source text. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /**
   * For `string`: the decoded value; for `quotedIdentifier`: the name without backticks; for
   * `tildeIdentifier`: the name without `~`; otherwise the text.
   */
  readonly value: string;
  /** For `string`: true for a triple-quoted raw string. */
  readonly raw: boolean;
}

/** Error codes raised while reading characters (see docs/errors/eql.md). */
export const LexCode = {
  unexpectedCharacter: "EQL100",
  unterminatedString: "EQL101",
  invalidEscape: "EQL102",
  singleQuotedString: "EQL103",
  typographicQuote: "EQL104",
  legacyRawString: "EQL109",
  unterminated: "EQL111",
} as const;

const TYPOGRAPHIC_QUOTES: Readonly<Record<string, string>> = {
  "\u201c": '"',
  "\u201d": '"',
  "\u201e": '"',
  "\u201f": '"',
  "\u2033": '"',
  "\u2018": "'",
  "\u2019": "'",
  "\u201a": "'",
  "\u201b": "'",
  "\u2032": "'",
  "\u00ab": '"',
  "\u00bb": '"',
};

const UNICODE_SPACES: ReadonlySet<number> = new Set([
  0x00a0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x200b, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff, 0x000b, 0x000c,
]);

function fail(text: string, diagnostic: Diagnostic): never {
  throw new QuarryError(diagnostic, text);
}

function error(
  code: string,
  title: string,
  span: Span,
  label: string,
  extra: { help?: string; notes?: readonly string[] } = {},
): Diagnostic {
  return {
    code,
    severity: "error",
    title,
    labels: [{ span, text: label, primary: true }],
    ...(extra.notes ? { notes: extra.notes } : {}),
    ...(extra.help ? { help: extra.help } : {}),
  };
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isIdentStart = (c: number) => isLetter(c) || c === 95 || c === 64;
const isIdentPart = (c: number) => isLetter(c) || isDigit(c) || c === 95;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** The code point at `i` as a display string (whole surrogate pairs). */
function charAt(text: string, i: number): string {
  const cp = text.codePointAt(i) ?? 0;
  return String.fromCodePoint(cp);
}

function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Tokenize a whole EQL query. The last token is always `eof`. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value?: string, raw = false) => {
    const tokenText = text.slice(start, end);
    tokens.push({ kind, text: tokenText, start, end, value: value ?? tokenText, raw });
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    // whitespace
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    // comments
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      i = skipBracketedComment(text, i);
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      const word = text.slice(start, i);
      if (text.charCodeAt(i) === 126 /* ~ */ && c !== 64) {
        const withTilde = `${word}~`;
        i++;
        if (isKeyword(withTilde)) push(withTilde, start, i);
        else push("tildeIdentifier", start, i, word);
        continue;
      }
      push(isKeyword(word) ? word : "identifier", start, i);
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      i = lexNumber(text, i, push);
      continue;
    }
    switch (c) {
      case 34 /* " */:
        i = lexString(text, i, push);
        continue;
      case 39 /* ' */:
        return lexSingleQuoted(text, i);
      case 96 /* ` */:
        i = lexQuotedIdentifier(text, i, push);
        continue;
      case 63 /* ? */:
        {
          const next = text.charCodeAt(i + 1);
          if (next === 34 || next === 39) {
            const quote = text[i + 1];
            const end = legacyRawStringEnd(text, i);
            fail(
              text,
              error(
                LexCode.legacyRawString,
                `Use triple double quotes ["""] to define unescaped string literals, not [?${quote}]`,
                { start: i, end },
                "python-eql raw string",
                {
                  help: 'write raw strings as """...""" (Elasticsearch dropped the `?"..."` form, and Quarry follows Elasticsearch)',
                },
              ),
            );
          }
          push("?", i, i + 1);
          i++;
          continue;
        }
      case 33 /* ! */:
        {
          const next = text.charCodeAt(i + 1);
          if (next === 61) {
            push("!=", i, i + 2);
            i += 2;
            continue;
          }
          if (next === 91) {
            push("![", i, i + 2);
            i += 2;
            continue;
          }
          fail(
            text,
            error(
              LexCode.unexpectedCharacter,
              "unexpected character `!`",
              { start: i, end: i + 1 },
              "not an operator",
              {
                help: "use `not` for negation, `!=` for inequality, or `![ ... ]` for a missing-event stage",
              },
            ),
          );
          break;
        }
      case 61 /* = */:
        if (text.charCodeAt(i + 1) === 61) {
          push("==", i, i + 2);
          i += 2;
        } else {
          push("=", i, i + 1);
          i++;
        }
        continue;
      case 60 /* < */:
      case 62 /* > */:
        if (text.charCodeAt(i + 1) === 61) {
          push(c === 60 ? "<=" : ">=", i, i + 2);
          i += 2;
        } else {
          push(c === 60 ? "<" : ">", i, i + 1);
          i++;
        }
        continue;
      case 58 /* : */:
      case 43 /* + */:
      case 45 /* - */:
      case 42 /* * */:
      case 47 /* / */:
      case 37 /* % */:
      case 46 /* . */:
      case 44 /* , */:
      case 91 /* [ */:
      case 93 /* ] */:
      case 40 /* ( */:
      case 41 /* ) */:
      case 124 /* | */:
        {
          const kind = text[i] as Punctuation;
          push(kind, i, i + 1);
          i++;
          continue;
        }
      default:
        break;
    }
    unexpectedCharacter(text, i);
  }
  push("eof", n, n);
  return tokens;
}

function unexpectedCharacter(text: string, i: number): never {
  const ch = charAt(text, i);
  const span = { start: i, end: i + ch.length };
  const straight = TYPOGRAPHIC_QUOTES[ch];
  if (straight !== undefined) {
    // Suggest the whole literal when the closing typographic quote is on the same line.
    const why = "text pasted from a web page or word processor often carries curly quotes";
    let help = `use straight double quotes ("); ${why}`;
    const lineEnd = text.indexOf("\n", i);
    const rest = [...text.slice(i + ch.length, lineEnd === -1 ? undefined : lineEnd)];
    const close = rest.findIndex((c) => TYPOGRAPHIC_QUOTES[c] !== undefined);
    if (close >= 0) {
      const inner = rest.slice(0, close).join("");
      if (!inner.includes('"') && !inner.includes("\\"))
        help = `write "${inner}" with straight double quotes; ${why}`;
    }
    fail(
      text,
      error(
        LexCode.typographicQuote,
        `typographic quote \`${ch}\`: use \`"\``,
        span,
        `${codePointName(ch)} is not a string delimiter`,
        {
          help,
        },
      ),
    );
  }
  const code = ch.codePointAt(0) ?? 0;
  if (UNICODE_SPACES.has(code)) {
    fail(
      text,
      error(
        LexCode.unexpectedCharacter,
        `unexpected invisible character ${codePointName(ch)}`,
        span,
        "only space, tab, CR and LF separate tokens",
        { help: "replace it with a normal space (pasted text often carries non-breaking spaces)" },
      ),
    );
  }
  const shown = code < 32 || code === 127 ? codePointName(ch) : `\`${ch}\``;
  const extra: { help?: string } = {};
  if (ch === "&") extra.help = "use `and`";
  else if (ch === "~")
    extra.help = "`~` only follows a function name (`startsWith~(...)`) or `in`, `like`, `regex`";
  else if (ch === "#") extra.help = "comments are `// ...` or `/* ... */`";
  else if (ch === "{" || ch === "}") extra.help = "EQL has no braces; group with parentheses";
  else if (ch === "'") extra.help = 'use double quotes ["]';
  fail(
    text,
    error(LexCode.unexpectedCharacter, `unexpected character ${shown}`, span, "not valid in EQL", extra),
  );
}

function skipBracketedComment(text: string, start: number): number {
  // ES's comment rule nests: `/* a /* b */ c */` is one comment.
  let depth = 0;
  let i = start;
  const n = text.length;
  while (i < n) {
    if (text.charCodeAt(i) === 47 && text.charCodeAt(i + 1) === 42) {
      depth++;
      i += 2;
    } else if (text.charCodeAt(i) === 42 && text.charCodeAt(i + 1) === 47) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  fail(
    text,
    error(
      LexCode.unterminated,
      "unterminated comment",
      { start, end: start + 2 },
      "this `/*` is never closed",
      {
        help: "close it with `*/` (comments nest, so every `/*` needs its own `*/`)",
      },
    ),
  );
}

type Push = (kind: TokenKind, start: number, end: number, value?: string, raw?: boolean) => void;

function lexNumber(text: string, start: number, push: Push): number {
  const n = text.length;
  let i = start;
  let decimal = false;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) === 46 /* . */) {
    // `1.` is a decimal in ES's grammar; `1.e3` too.
    decimal = true;
    i++;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 69 || e === 101) {
    let j = i + 1;
    const sign = text.charCodeAt(j);
    if (sign === 43 || sign === 45) j++;
    if (isDigit(text.charCodeAt(j))) {
      decimal = true;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      i = j;
    }
  }
  push(decimal ? "decimal" : "integer", start, i);
  return i;
}

function lexQuotedIdentifier(text: string, start: number, push: Push): number {
  const n = text.length;
  let i = start + 1;
  let name = "";
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 96) {
      if (text.charCodeAt(i + 1) === 96) {
        name += "`";
        i += 2;
        continue;
      }
      push("quotedIdentifier", start, i + 1, name);
      return i + 1;
    }
    name += text[i];
    i++;
  }
  fail(
    text,
    error(
      LexCode.unterminated,
      "unterminated backtick-quoted name",
      { start, end: start + 1 },
      "this ` is never closed",
      {
        help: "close the name with a backtick; write a backtick inside the name as ``",
      },
    ),
  );
}

function lexSingleQuoted(text: string, start: number): never {
  let end = start + 1;
  while (end < text.length && text[end] !== "'" && text[end] !== "\n") {
    if (text[end] === "\\") end++;
    end++;
  }
  // A trailing backslash steps past the end: clamp, so the span never leaves the text.
  end = Math.min(end, text.length);
  const closed = text[end] === "'";
  const inner = text.slice(start + 1, end);
  if (closed) end++;
  fail(
    text,
    error(
      LexCode.singleQuotedString,
      `Use double quotes ["] to define string literals, not single quotes [']`,
      { start, end },
      "single-quoted string",
      {
        help:
          inner.includes('"') || inner.includes("\\")
            ? "enclose strings in double quotes (python-eql accepts single quotes; Elasticsearch does not, and Quarry follows Elasticsearch)"
            : `write "${inner}" (python-eql accepts single quotes; Elasticsearch does not, and Quarry follows Elasticsearch)`,
      },
    ),
  );
}

function legacyRawStringEnd(text: string, start: number): number {
  const quote = text.charCodeAt(start + 1);
  let i = start + 2;
  while (i < text.length && text.charCodeAt(i) !== 10) {
    const c = text.charCodeAt(i);
    if (c === 92 && text.charCodeAt(i + 1) === quote) {
      i += 2;
      continue;
    }
    if (c === quote) return i + 1;
    i++;
  }
  return start + 2;
}

function lexString(text: string, start: number, push: Push): number {
  const n = text.length;
  if (text.startsWith('"""', start)) {
    // Raw string: up to the first `"""`, then up to two more quotes that belong to the value
    // (ES: '"""' .*? '"""' '"'? '"'?). It may not span lines.
    const close = text.indexOf('"""', start + 3);
    const newline = firstLineBreak(text, start + 3);
    if (close === -1 || (newline !== -1 && newline < close)) {
      fail(
        text,
        error(
          LexCode.unterminatedString,
          "unterminated raw string",
          { start, end: start + 3 },
          'this """ is never closed on its line',
          { help: 'close the raw string with """ on the same line' },
        ),
      );
    }
    let end = close + 3;
    if (text.charCodeAt(end) === 34) end++;
    if (text.charCodeAt(end) === 34) end++;
    push("string", start, end, text.slice(start + 3, end - 3), true);
    return end;
  }
  let i = start + 1;
  let value = "";
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      push("string", start, i + 1, value);
      return i + 1;
    }
    if (c === 10 || c === 13) break;
    if (c === 92 /* \ */) {
      const r = readEscape(text, i);
      value += r.value;
      i = r.end;
      continue;
    }
    value += text[i];
    i++;
  }
  const typographic = [...text.slice(start + 1, i)].find((ch) => TYPOGRAPHIC_QUOTES[ch] === '"');
  fail(
    text,
    error(
      LexCode.unterminatedString,
      "unterminated string",
      { start, end: start + 1 },
      "this quote is never closed",
      {
        help:
          typographic !== undefined
            ? `the string contains a typographic quote \`${typographic}\`; close it with a straight "`
            : 'close the string with " on the same line; write a quote inside a string as \\"',
      },
    ),
  );
}

function firstLineBreak(text: string, from: number): number {
  const lf = text.indexOf("\n", from);
  const cr = text.indexOf("\r", from);
  if (lf === -1) return cr;
  if (cr === -1) return lf;
  return Math.min(lf, cr);
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  b: "\b",
  t: "\t",
  n: "\n",
  f: "\f",
  r: "\r",
  '"': '"',
  "'": "'",
  "\\": "\\",
};

function readEscape(text: string, at: number): { value: string; end: number } {
  const next = text[at + 1];
  if (next === undefined) {
    fail(
      text,
      error(
        LexCode.unterminatedString,
        "unterminated string",
        { start: at, end: at + 1 },
        "the string ends after `\\`",
      ),
    );
  }
  const simple = SIMPLE_ESCAPES[next];
  if (simple !== undefined) return { value: simple, end: at + 2 };
  if (next === "u") return readUnicodeEscape(text, at);
  const shown = charAt(text, at + 1);
  fail(
    text,
    error(
      LexCode.invalidEscape,
      `invalid escape sequence \`\\${shown}\``,
      { start: at, end: at + 1 + shown.length },
      "not an escape Elasticsearch accepts",
      {
        notes: ["valid escapes: \\n \\r \\t \\b \\f \\\" \\' \\\\ \\uXXXX \\u{X...}"],
        help: 'write a backslash as \\\\ (for example "C:\\\\Windows"), or use a raw string """C:\\Windows"""',
      },
    ),
  );
}

function readUnicodeEscape(text: string, at: number): { value: string; end: number } {
  // `\uXXXX` (exactly four hex digits) or `\u{X...}` (hex digits in braces, 2 to 8 of them).
  let i = at + 2;
  if (text[i] === "{") {
    i++;
    const digitsStart = i;
    while (i < text.length && isHex(text.charCodeAt(i))) i++;
    if (i === digitsStart || text[i] !== "}") {
      fail(
        text,
        error(
          LexCode.invalidEscape,
          "invalid unicode escape",
          { start: at, end: Math.min(i + 1, text.length) },
          "expected hex digits and `}`",
          { help: "write a code point as \\u{XXXX} (2 to 8 hex digits) or \\uXXXX" },
        ),
      );
    }
    const hex = text.slice(digitsStart, i);
    const span = { start: at, end: i + 1 };
    if (hex.length < 2 || hex.length > 8) {
      fail(
        text,
        error(
          LexCode.invalidEscape,
          `Unicode sequence in curly braces should use [2-8] hex digits, [\\u{${hex}}] has [${hex.length}]`,
          span,
          "2 to 8 hex digits",
        ),
      );
    }
    return { value: codePointValue(text, hex, span), end: i + 1 };
  }
  for (let k = 0; k < 4; k++) {
    if (!isHex(text.charCodeAt(i + k))) {
      fail(
        text,
        error(
          LexCode.invalidEscape,
          "invalid unicode escape",
          { start: at, end: Math.min(i + k + 1, text.length) },
          "\\u takes exactly 4 hex digits",
          { help: "write a code point as \\uXXXX or \\u{XXXX} (2 to 8 hex digits)" },
        ),
      );
    }
  }
  const hex = text.slice(i, i + 4);
  return { value: codePointValue(text, hex, { start: at, end: i + 4 }), end: i + 4 };
}

function codePointValue(text: string, hex: string, span: Span): string {
  const code = Number.parseInt(hex, 16);
  if (code === 0)
    fail(text, error(LexCode.invalidEscape, "Unicode sequence results in null", span, "NUL is not allowed"));
  if (code >= 0xd800 && code <= 0xdfff) {
    fail(
      text,
      error(
        LexCode.invalidEscape,
        `Invalid unicode character code, [${hex}] is a surrogate code`,
        span,
        "a lone surrogate",
      ),
    );
  }
  if (code > 0x10ffff) {
    fail(
      text,
      error(LexCode.invalidEscape, `Invalid unicode character code [${hex}]`, span, "beyond U+10FFFF"),
    );
  }
  return String.fromCodePoint(code);
}
