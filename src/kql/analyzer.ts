/**
 * Elasticsearch's `standard` analyzer, as `text` and `match_only_text` fields index their values: Lucene's
 * StandardTokenizer (Unicode UAX #29 word boundaries) followed by lower-casing, no stop words, tokens
 * longer than 255 characters split into 255-character pieces.
 *
 * The word rules kept here are the ones that decide tokens in log data:
 * - letters and digits in any mix form one token (`abc123`, `3rd`);
 * - `.` and `'` (and a few look-alikes) join two letters or two digits (`e.g`, `it's`, `192.168.1.1`);
 * - `:` joins two letters (UAX #29 counts it as a mid-letter: `foo:bar` is one token, `c:\x` is two);
 * - `,` and `;` join two digits (`1,000`);
 * - `_` and other connector punctuation glue onto words (`foo_bar`, `_x`);
 * - Han ideographs and Hiragana are one token per character; Katakana runs are one token; emoji are tokens;
 * - combining marks and format characters (ZWJ...) stay inside the word they follow;
 * - anything else (spaces, `-`, `/`, `\`, `@`, `#`, ...) separates tokens and is dropped.
 * Hebrew quote rules and dictionary-based segmentation of Thai/Lao/Khmer/Myanmar are not modelled (those
 * scripts become one token per run).
 */

enum Cls {
  Other = 0,
  Letter = 1,
  Numeric = 2,
  Katakana = 3,
  /** Han ideographs and Hiragana: one token each. */
  Ideographic = 4,
  MidLetter = 5,
  MidNum = 6,
  /** `.` and friends: join letters to letters and digits to digits. */
  MidNumLet = 7,
  SingleQuote = 8,
  ExtendNumLet = 9,
  /** Combining marks, format characters, ZWJ: belong to the preceding character. */
  Extend = 10,
  Emoji = 11,
}

export const MAX_TOKEN_LENGTH = 255;

const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z]/.test(ch)) ASCII[c] = Cls.Letter;
  else if (/[0-9]/.test(ch)) ASCII[c] = Cls.Numeric;
  else if (ch === ":") ASCII[c] = Cls.MidLetter;
  else if (ch === "," || ch === ";") ASCII[c] = Cls.MidNum;
  else if (ch === ".") ASCII[c] = Cls.MidNumLet;
  else if (ch === "'") ASCII[c] = Cls.SingleQuote;
  else if (ch === "_") ASCII[c] = Cls.ExtendNumLet;
  else ASCII[c] = Cls.Other;
}

const MID_LETTER = new Set([0xb7, 0x387, 0x55f, 0x5f4, 0x2027, 0xfe13, 0xfe55, 0xff1a]);
const MID_NUM = new Set([
  0x37e, 0x589, 0x60c, 0x60d, 0x66c, 0x7f8, 0x2044, 0xfe10, 0xfe14, 0xfe50, 0xfe54, 0xff0c, 0xff1b,
]);
const MID_NUM_LET = new Set([0x2018, 0x2019, 0x2024, 0xfe52, 0xff07, 0xff0e]);

const RE_IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hiragana}]/u;
const RE_KATAKANA = /[\p{Script=Katakana}\u30fc\uff70]/u;
const RE_LETTER = /[\p{L}\p{Nl}]/u;
const RE_DIGIT = /\p{Nd}/u;
const RE_EXTEND = /[\p{M}\p{Cf}]/u;
const RE_CONNECTOR = /\p{Pc}/u;
const RE_EMOJI = /\p{Extended_Pictographic}/u;

function classify(cp: number): Cls {
  if (cp < 128) return ASCII[cp];
  if (MID_LETTER.has(cp)) return Cls.MidLetter;
  if (MID_NUM.has(cp)) return Cls.MidNum;
  if (MID_NUM_LET.has(cp)) return Cls.MidNumLet;
  if (cp === 0x202f) return Cls.ExtendNumLet;
  const ch = String.fromCodePoint(cp);
  if (RE_EXTEND.test(ch)) return Cls.Extend;
  if (RE_IDEOGRAPHIC.test(ch)) return Cls.Ideographic;
  if (RE_KATAKANA.test(ch)) return Cls.Katakana;
  if (RE_LETTER.test(ch)) return Cls.Letter;
  if (RE_DIGIT.test(ch)) return Cls.Numeric;
  if (RE_CONNECTOR.test(ch)) return Cls.ExtendNumLet;
  if (RE_EMOJI.test(ch)) return Cls.Emoji;
  return Cls.Other;
}

function isWordClass(cls: Cls): boolean {
  return cls === Cls.Letter || cls === Cls.Numeric || cls === Cls.Katakana;
}

/**
 * Tokenize and lower-case text as the standard analyzer does.
 *
 * @example analyze("Hello, World! it's 192.168.1.1") // ["hello", "world", "it's", "192.168.1.1"]
 */
export function analyze(text: string): string[] {
  const tokens: string[] = [];
  someToken(text, (token) => {
    tokens.push(token);
    return false;
  });
  return tokens;
}

/**
 * Per-character scratch space reused across calls, so tokenizing allocates only the tokens: the
 * evaluator tokenizes a text value per event. A call made while another is running (from its `visit`)
 * gets fresh buffers.
 */
interface Scratch {
  starts: Int32Array;
  ends: Int32Array;
  classes: Uint8Array;
}

function newScratch(size: number): Scratch {
  return { starts: new Int32Array(size), ends: new Int32Array(size), classes: new Uint8Array(size) };
}

let shared: Scratch = newScratch(1024);
let sharedBusy = false;

/**
 * Calls `visit` on each token `analyze(text)` gives, in order, until one returns true; returns whether one
 * did. Tokens after the one `visit` accepts are not computed.
 */
export function someToken(text: string, visit: (token: string) => boolean): boolean {
  // One entry per code point at most: a buffer of text.length entries is always large enough.
  let scratch: Scratch;
  const owner = !sharedBusy;
  if (owner) {
    if (shared.starts.length < text.length)
      shared = newScratch(Math.max(text.length, shared.starts.length * 2));
    scratch = shared;
    sharedBusy = true;
  } else {
    scratch = newScratch(text.length);
  }
  try {
    return scan(text, visit, scratch);
  } finally {
    if (owner) sharedBusy = false;
  }
}

function scan(text: string, visit: (token: string) => boolean, scratch: Scratch): boolean {
  const { starts, ends, classes } = scratch;
  // Code points and their classes, with Extend characters folded into the previous entry's end.
  const n = text.length;
  let m = 0;
  for (let i = 0; i < n; ) {
    const unit = text.charCodeAt(i);
    if (unit < 128) {
      starts[m] = i;
      ends[m] = i + 1;
      classes[m] = ASCII[unit];
      m++;
      i++;
      continue;
    }
    const cp = text.codePointAt(i) as number;
    const width = cp > 0xffff ? 2 : 1;
    const cls = classify(cp);
    if ((cls === Cls.Extend || cp === 0x200d) && m > 0) {
      ends[m - 1] = i + width;
    } else {
      starts[m] = i;
      ends[m] = i + width;
      classes[m] = cls;
      m++;
    }
    i += width;
  }
  let k = 0;
  while (k < m) {
    const cls = classes[k];
    if (cls === Cls.Ideographic || cls === Cls.Emoji) {
      // One token per ideograph; an emoji and anything joined to it by ZWJ (folded above) is one token.
      if (visit(text.slice(starts[k], ends[k]))) return true;
      k++;
      continue;
    }
    if (!isWordClass(cls) && cls !== Cls.ExtendNumLet) {
      k++;
      continue;
    }
    const begin = k;
    let hasWord = isWordClass(cls);
    let last = k;
    let j = k + 1;
    while (j < m) {
      const prev = classes[last];
      const next = classes[j];
      if (joins(prev, next)) {
        last = j;
        hasWord ||= isWordClass(next);
        j++;
        continue;
      }
      // WB6/7 and WB11/12: a middle character between two letters, or two digits.
      if (j + 1 < m && isMiddle(next)) {
        const after = classes[j + 1];
        const letterJoin =
          prev === Cls.Letter &&
          after === Cls.Letter &&
          (next === Cls.MidLetter || next === Cls.MidNumLet || next === Cls.SingleQuote);
        const numberJoin =
          prev === Cls.Numeric &&
          after === Cls.Numeric &&
          (next === Cls.MidNum || next === Cls.MidNumLet || next === Cls.SingleQuote);
        if (letterJoin || numberJoin) {
          last = j + 1;
          j += 2;
          continue;
        }
      }
      break;
    }
    if (hasWord && visitToken(text.slice(starts[begin], ends[last]).toLowerCase(), visit)) return true;
    k = last + 1;
  }
  return false;
}

function isMiddle(cls: Cls): boolean {
  return cls === Cls.MidLetter || cls === Cls.MidNum || cls === Cls.MidNumLet || cls === Cls.SingleQuote;
}

/** Adjacent characters that never break a word (WB5, WB8-10, WB13, WB13a/b). */
function joins(prev: Cls, next: Cls): boolean {
  switch (prev) {
    case Cls.Letter:
    case Cls.Numeric:
      return next === Cls.Letter || next === Cls.Numeric || next === Cls.ExtendNumLet;
    case Cls.Katakana:
      return next === Cls.Katakana || next === Cls.ExtendNumLet;
    case Cls.ExtendNumLet:
      return (
        next === Cls.Letter || next === Cls.Numeric || next === Cls.Katakana || next === Cls.ExtendNumLet
      );
    default:
      return false;
  }
}

/** A token, split into 255-character pieces when longer (the tokenizer's maximum token length). */
function visitToken(token: string, visit: (token: string) => boolean): boolean {
  if (token.length <= MAX_TOKEN_LENGTH) return visit(token);
  for (let i = 0; i < token.length; i += MAX_TOKEN_LENGTH) {
    if (visit(token.slice(i, i + MAX_TOKEN_LENGTH))) return true;
  }
  return false;
}
