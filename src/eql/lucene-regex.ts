/**
 * Lucene regular expressions, as Elasticsearch's `regexp` query reads them for EQL's `regex` and
 * `regex~` (the query is built with every optional operator enabled, Lucene's `RegExp.ALL`).
 *
 * Grammar (Lucene's, loosest first):
 *   union      ::= inter ( `|` union )?
 *   inter      ::= concat ( `&` inter )?                      intersection
 *   concat     ::= repeat concat?
 *   repeat     ::= compl ( `?` | `*` | `+` | `{n}` | `{n,}` | `{n,m}` )*
 *   compl      ::= `~` compl | charclass                      complement
 *   charclass  ::= `[` `^`? ( char ( `-` char )? | `\d` ... )+ `]` | simple
 *   simple     ::= char | `.` | `#` (empty language) | `@` (any string) | `"` literal `"` | `(` `)`
 *                | `(` union `)` | `<` n `-` m `>` (decimal interval)
 *   char       ::= a character | `\` a character | `\d \D \s \S \w \W`
 * A match is anchored: the whole value must match. A character is a Unicode code point.
 *
 * Matching never backtracks. The expression is compiled to a Thompson NFA (complement and intersection
 * go through a determinized sub-automaton, as in Lucene), then determinized with at most 10,000 states
 * (Elasticsearch's `max_determinized_states` default): a pattern that needs more is refused, as
 * Elasticsearch refuses it. Matching walks the DFA once over the input: linear time.
 */
import { QuarryError, type Span } from "../diagnostics/index.js";

export const RegexCode = {
  syntax: "EQL170",
  tooComplex: "EQL171",
} as const;

/** Lucene's default `max_determinized_states`. */
export const MAX_DETERMINIZED_STATES = 10_000;
/** NFA size budget while building (a `{1000}` repeat of a big group would otherwise allocate without bound). */
const MAX_NFA_STATES = 200_000;
const MAX_CODE_POINT = 0x10ffff;

export interface RegexOptions {
  readonly caseInsensitive?: boolean;
  /** Where the pattern's string literal sits in the query, for diagnostics. */
  readonly span?: Span;
}

export interface LuceneRegex {
  readonly pattern: string;
  readonly caseInsensitive: boolean;
  /** True when the whole value matches. */
  test(value: string): boolean;
}

// ---------------------------------------------------------------------------------------------------
// Syntax tree

type Range = readonly [number, number];
type RegexNode =
  | { readonly k: "set"; readonly ranges: readonly Range[] }
  | { readonly k: "string"; readonly cps: readonly number[] }
  | { readonly k: "anystring" }
  | { readonly k: "nothing" }
  | { readonly k: "concat"; readonly a: RegexNode; readonly b: RegexNode }
  | { readonly k: "union"; readonly a: RegexNode; readonly b: RegexNode }
  | { readonly k: "inter"; readonly a: RegexNode; readonly b: RegexNode }
  | { readonly k: "complement"; readonly a: RegexNode }
  | { readonly k: "repeat"; readonly a: RegexNode; readonly min: number; readonly max: number }
  | { readonly k: "interval"; readonly min: string; readonly max: string; readonly digits: number };

const ANY_CHAR: Range[] = [[0, MAX_CODE_POINT]];
const DIGIT: Range[] = [[48, 57]];
const SPACE: Range[] = [
  [9, 13],
  [32, 32],
];
const WORD: Range[] = [
  [48, 57],
  [65, 90],
  [95, 95],
  [97, 122],
];

class Parser {
  private pos = 0;
  private readonly cps: number[];
  private depth = 0;
  constructor(
    pattern: string,
    private readonly caseInsensitive: boolean,
    private readonly fail: (message: string, offset: number) => never,
  ) {
    this.cps = Array.from(pattern, (c) => c.codePointAt(0) ?? 0);
  }

  private fold(ranges: readonly Range[]): Range[] {
    return this.caseInsensitive ? foldRanges(ranges) : normalizeRanges(ranges);
  }

  parse(): RegexNode {
    const node = this.cps.length === 0 ? stringNode([]) : this.union();
    if (this.pos < this.cps.length) this.fail(`end-of-string expected at position ${this.pos}`, this.pos);
    return node;
  }

  private more(): boolean {
    return this.pos < this.cps.length;
  }
  private peek(chars: string): boolean {
    return this.more() && chars.includes(String.fromCodePoint(this.cps[this.pos]));
  }
  private match(c: string): boolean {
    if (this.more() && this.cps[this.pos] === c.codePointAt(0)) {
      this.pos++;
      return true;
    }
    return false;
  }
  private next(): number {
    if (!this.more()) this.fail("unexpected end-of-string", this.pos);
    return this.cps[this.pos++];
  }
  private enter(): void {
    if (++this.depth > 500) this.fail("regular expression nested too deeply", this.pos);
  }

  private union(): RegexNode {
    this.enter();
    let e = this.inter();
    while (this.match("|")) e = { k: "union", a: e, b: this.inter() };
    this.depth--;
    return e;
  }
  private inter(): RegexNode {
    let e = this.concat();
    while (this.match("&")) e = { k: "inter", a: e, b: this.concat() };
    return e;
  }
  private concat(): RegexNode {
    let e = this.repeat();
    while (this.more() && !this.peek(")|&")) e = { k: "concat", a: e, b: this.repeat() };
    return e;
  }
  private repeat(): RegexNode {
    let e = this.compl();
    while (this.peek("?*+{")) {
      if (this.match("?")) e = { k: "repeat", a: e, min: 0, max: 1 };
      else if (this.match("*")) e = { k: "repeat", a: e, min: 0, max: -1 };
      else if (this.match("+")) e = { k: "repeat", a: e, min: 1, max: -1 };
      else if (this.match("{")) {
        const start = this.pos;
        const n = this.integer();
        if (n === null) this.fail("integer expected", start);
        let m = n;
        if (this.match(",")) m = this.integer() ?? -1;
        if (!this.match("}")) this.fail("expected '}'", this.pos);
        if (m !== -1 && m < n) this.fail(`invalid repetition {${n},${m}}`, start);
        e = { k: "repeat", a: e, min: n, max: m };
      }
    }
    return e;
  }
  private integer(): number | null {
    const start = this.pos;
    while (this.peek("0123456789")) this.pos++;
    if (this.pos === start) return null;
    const value = Number(String.fromCodePoint(...this.cps.slice(start, this.pos)));
    if (value > 100_000) this.fail("repetition count too large", start);
    return value;
  }
  private compl(): RegexNode {
    if (this.match("~")) {
      this.enter();
      const inner = this.compl();
      this.depth--;
      return { k: "complement", a: inner };
    }
    return this.charClass();
  }
  private charClass(): RegexNode {
    if (!this.match("[")) return this.simple();
    const negate = this.match("^");
    const ranges: Range[] = [];
    do {
      ranges.push(...this.classItem());
    } while (this.more() && !this.peek("]"));
    if (!this.match("]")) this.fail("expected ']'", this.pos);
    // Case variants are added before negating: `[^a]` with `regex~` excludes `A` too.
    const folded = this.fold(ranges);
    return { k: "set", ranges: negate ? complementRanges(folded) : folded };
  }
  private classItem(): Range[] {
    const shorthand = this.shorthand();
    if (shorthand) return shorthand;
    const from = this.charExp();
    if (this.match("-")) {
      const at = this.pos;
      const to = this.charExp();
      if (from > to) this.fail(`invalid range: from (${from}) cannot be > to (${to})`, at);
      return [[from, to]];
    }
    return [[from, from]];
  }
  /** `\d \D \s \S \w \W`, or undefined (position unchanged). */
  private shorthand(): Range[] | undefined {
    if (this.cps[this.pos] !== 92 || this.pos + 1 >= this.cps.length) return undefined;
    const c = String.fromCodePoint(this.cps[this.pos + 1]);
    const table: Record<string, Range[]> = {
      d: DIGIT,
      D: complementRanges(DIGIT),
      s: SPACE,
      S: complementRanges(SPACE),
      w: WORD,
      W: complementRanges(WORD),
    };
    const ranges = table[c];
    if (!ranges) return undefined;
    this.pos += 2;
    return ranges;
  }
  private charExp(): number {
    this.match("\\");
    return this.next();
  }
  private simple(): RegexNode {
    if (this.match(".")) return { k: "set", ranges: ANY_CHAR };
    if (this.match("#")) return { k: "nothing" };
    if (this.match("@")) return { k: "anystring" };
    if (this.match('"')) {
      const start = this.pos;
      while (this.more() && !this.peek('"')) this.pos++;
      if (!this.match('"')) this.fail("expected '\"'", this.pos);
      return stringNode(this.cps.slice(start, this.pos - 1));
    }
    if (this.match("(")) {
      if (this.match(")")) return stringNode([]);
      const e = this.union();
      if (!this.match(")")) this.fail("expected ')'", this.pos);
      return e;
    }
    if (this.match("<")) {
      const start = this.pos;
      while (this.more() && !this.peek(">")) this.pos++;
      if (!this.match(">")) this.fail("expected '>'", this.pos);
      const body = String.fromCodePoint(...this.cps.slice(start, this.pos - 1));
      const m = /^(\d+)-(\d+)$/.exec(body);
      if (!m) this.fail(`interval syntax error at position ${start - 1}`, start - 1);
      let [, lo, hi] = m;
      const digits = lo.length === hi.length ? lo.length : 0;
      if (BigInt(lo) > BigInt(hi)) [lo, hi] = [hi, lo];
      return { k: "interval", min: lo, max: hi, digits };
    }
    const shorthand = this.shorthand();
    if (shorthand) return { k: "set", ranges: this.fold(shorthand) };
    const c = this.charExp();
    return { k: "set", ranges: this.fold([[c, c]]) };
  }
}

function stringNode(cps: readonly number[]): RegexNode {
  return { k: "string", cps };
}

function normalizeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complementRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalizeRanges(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/** Every case variant of a code point (itself, its lower and upper case when those are one code point). */
function caseVariants(cp: number): number[] {
  const s = String.fromCodePoint(cp);
  const out = [cp];
  for (const v of [s.toLowerCase(), s.toUpperCase()]) {
    const c = v.codePointAt(0);
    if (c !== undefined && String.fromCodePoint(c) === v && !out.includes(c)) out.push(c);
  }
  return out;
}

/** Add case variants to ranges. Ranges wider than 4,096 code points are kept as they are. */
function foldRanges(ranges: readonly Range[]): Range[] {
  const extra: Range[] = [];
  for (const [lo, hi] of ranges) {
    if (hi - lo > 4096) continue;
    for (let c = lo; c <= hi; c++) for (const v of caseVariants(c)) if (v < lo || v > hi) extra.push([v, v]);
  }
  return extra.length === 0 ? [...ranges] : normalizeRanges([...ranges, ...extra]);
}

// ---------------------------------------------------------------------------------------------------
// NFA (Thompson) and determinization

interface Edge {
  readonly lo: number;
  readonly hi: number;
  readonly to: number;
}

class Nfa {
  readonly eps: number[][] = [];
  readonly edges: Edge[][] = [];
  constructor(private readonly tooBig: () => never) {}
  state(): number {
    if (this.eps.length >= MAX_NFA_STATES) this.tooBig();
    this.eps.push([]);
    this.edges.push([]);
    return this.eps.length - 1;
  }
}

/** A fragment with one entry and one exit state. */
interface Fragment {
  readonly start: number;
  readonly end: number;
}

interface Dfa {
  /** Per state: interval lower bounds, sorted, covering 0..MAX_CODE_POINT from 0. */
  readonly bounds: Int32Array[];
  /** Per state: target per interval (-1: no match possible). */
  readonly targets: Int32Array[];
  readonly accept: boolean[];
}

class Builder {
  constructor(
    private readonly nfa: Nfa,
    private readonly caseInsensitive: boolean,
    private readonly tooBig: () => never,
  ) {}

  build(node: RegexNode): Fragment {
    const nfa = this.nfa;
    switch (node.k) {
      case "set": {
        const s = nfa.state();
        const e = nfa.state();
        // Sets were case-folded by the parser.
        for (const [lo, hi] of node.ranges) nfa.edges[s].push({ lo, hi, to: e });
        return { start: s, end: e };
      }
      case "string": {
        const s = nfa.state();
        let cur = s;
        for (const cp of node.cps) {
          const n = nfa.state();
          for (const v of this.caseInsensitive ? caseVariants(cp) : [cp])
            nfa.edges[cur].push({ lo: v, hi: v, to: n });
          cur = n;
        }
        return { start: s, end: cur };
      }
      case "anystring": {
        const s = nfa.state();
        nfa.edges[s].push({ lo: 0, hi: MAX_CODE_POINT, to: s });
        return { start: s, end: s };
      }
      case "nothing": {
        return { start: nfa.state(), end: nfa.state() };
      }
      case "concat": {
        const a = this.build(node.a);
        const b = this.build(node.b);
        nfa.eps[a.end].push(b.start);
        return { start: a.start, end: b.end };
      }
      case "union": {
        const s = nfa.state();
        const e = nfa.state();
        for (const f of [this.build(node.a), this.build(node.b)]) {
          nfa.eps[s].push(f.start);
          nfa.eps[f.end].push(e);
        }
        return { start: s, end: e };
      }
      case "repeat":
        return this.repeat(node.a, node.min, node.max);
      case "complement": {
        const dfa = determinize(this.subNfa(node.a), this.tooBig);
        const accept = dfa.accept.map((a) => !a);
        return this.embed(dfa, accept, true);
      }
      case "inter": {
        const a = determinize(this.subNfa(node.a), this.tooBig);
        const b = determinize(this.subNfa(node.b), this.tooBig);
        return this.embedProduct(a, b);
      }
      case "interval":
        return this.interval(node.min, node.max, node.digits);
      default:
        return assertNeverNode(node);
    }
  }

  private repeat(inner: RegexNode, min: number, max: number): Fragment {
    const nfa = this.nfa;
    const s = nfa.state();
    let cur = s;
    for (let i = 0; i < min; i++) {
      const f = this.build(inner);
      nfa.eps[cur].push(f.start);
      cur = f.end;
    }
    if (max === -1) {
      const f = this.build(inner);
      const loop = nfa.state();
      nfa.eps[cur].push(loop);
      nfa.eps[loop].push(f.start);
      nfa.eps[f.end].push(loop);
      return { start: s, end: loop };
    }
    const e = nfa.state();
    nfa.eps[cur].push(e);
    for (let i = min; i < max; i++) {
      const f = this.build(inner);
      nfa.eps[cur].push(f.start);
      nfa.eps[f.end].push(e);
      cur = f.end;
    }
    return { start: s, end: e };
  }

  /** A separate NFA for a sub-expression that must be determinized on its own. */
  private subNfa(node: RegexNode): { nfa: Nfa; start: number; end: number } {
    const nfa = new Nfa(this.tooBig);
    const f = new Builder(nfa, this.caseInsensitive, this.tooBig).build(node);
    return { nfa, start: f.start, end: f.end };
  }

  /** Copy a DFA into the NFA. With `complete`, missing transitions go to a sink (for complements). */
  private embed(dfa: Dfa, accept: readonly boolean[], complete: boolean): Fragment {
    const nfa = this.nfa;
    const base = dfa.accept.map(() => nfa.state());
    const sink = complete ? nfa.state() : -1;
    const end = nfa.state();
    if (sink >= 0) {
      nfa.edges[sink].push({ lo: 0, hi: MAX_CODE_POINT, to: sink });
      nfa.eps[sink].push(end);
    }
    dfa.bounds.forEach((bounds, i) => {
      const targets = dfa.targets[i];
      for (let j = 0; j < bounds.length; j++) {
        const lo = bounds[j];
        const hi = j + 1 < bounds.length ? bounds[j + 1] - 1 : MAX_CODE_POINT;
        const t = targets[j];
        if (t >= 0) nfa.edges[base[i]].push({ lo, hi, to: base[t] });
        else if (sink >= 0) nfa.edges[base[i]].push({ lo, hi, to: sink });
      }
      if (accept[i]) nfa.eps[base[i]].push(end);
    });
    return { start: base[0], end };
  }

  private embedProduct(a: Dfa, b: Dfa): Fragment {
    const nfa = this.nfa;
    const ids = new Map<number, number>();
    const end = nfa.state();
    const key = (x: number, y: number) => x * (b.accept.length + 1) + y;
    const stack: [number, number][] = [[0, 0]];
    const idOf = (x: number, y: number): number => {
      const k = key(x, y);
      let id = ids.get(k);
      if (id === undefined) {
        if (ids.size >= MAX_DETERMINIZED_STATES) this.tooBig();
        id = nfa.state();
        ids.set(k, id);
        stack.push([x, y]);
      }
      return id;
    };
    const start = idOf(0, 0);
    stack.length = 0;
    stack.push([0, 0]);
    const done = new Set<number>();
    while (stack.length > 0) {
      const [x, y] = stack.pop() as [number, number];
      const k = key(x, y);
      if (done.has(k)) continue;
      done.add(k);
      const id = ids.get(k) as number;
      if (a.accept[x] && b.accept[y]) nfa.eps[id].push(end);
      const ba = a.bounds[x];
      const bb = b.bounds[y];
      let i = 0;
      let j = 0;
      let lo = 0;
      while (lo <= MAX_CODE_POINT) {
        while (i + 1 < ba.length && ba[i + 1] <= lo) i++;
        while (j + 1 < bb.length && bb[j + 1] <= lo) j++;
        const hiA = i + 1 < ba.length ? ba[i + 1] - 1 : MAX_CODE_POINT;
        const hiB = j + 1 < bb.length ? bb[j + 1] - 1 : MAX_CODE_POINT;
        const hi = Math.min(hiA, hiB);
        const ta = a.targets[x][i];
        const tb = b.targets[y][j];
        if (ta >= 0 && tb >= 0) nfa.edges[id].push({ lo, hi, to: idOf(ta, tb) });
        lo = hi + 1;
      }
    }
    return { start, end };
  }

  private interval(min: string, max: string, digits: number): Fragment {
    const nfa = this.nfa;
    if (digits > 0) return this.sameLength(min.padStart(digits, "0"), max.padStart(digits, "0"));
    // Any number of leading zeros, then the number without leading zeros.
    const s = nfa.state();
    const zeros = nfa.state();
    nfa.eps[s].push(zeros);
    nfa.edges[zeros].push({ lo: 48, hi: 48, to: zeros });
    const e = nfa.state();
    const lo = BigInt(min);
    const hi = BigInt(max);
    const minLen = lo.toString().length;
    const maxLen = hi.toString().length;
    for (let len = minLen; len <= maxLen; len++) {
      const floor = len === 1 ? 0n : 10n ** BigInt(len - 1);
      const ceil = 10n ** BigInt(len) - 1n;
      const a = lo > floor ? lo : floor;
      const b = hi < ceil ? hi : ceil;
      if (a > b) continue;
      const f = this.sameLength(a.toString(), b.toString());
      nfa.eps[zeros].push(f.start);
      nfa.eps[f.end].push(e);
    }
    return { start: s, end: e };
  }

  /** Decimal strings of one length between lo and hi (equal lengths, lo <= hi). */
  private sameLength(lo: string, hi: string): Fragment {
    const nfa = this.nfa;
    const s = nfa.state();
    const e = nfa.state();
    const rec = (from: number, l: string, h: string): void => {
      if (l.length === 0) {
        nfa.eps[from].push(e);
        return;
      }
      const l0 = l.charCodeAt(0);
      const h0 = h.charCodeAt(0);
      if (l0 === h0) {
        const n = nfa.state();
        nfa.edges[from].push({ lo: l0, hi: l0, to: n });
        rec(n, l.slice(1), h.slice(1));
        return;
      }
      const rest = l.length - 1;
      const low = nfa.state();
      nfa.edges[from].push({ lo: l0, hi: l0, to: low });
      rec(low, l.slice(1), "9".repeat(rest));
      if (h0 - l0 > 1) {
        let cur = nfa.state();
        nfa.edges[from].push({ lo: l0 + 1, hi: h0 - 1, to: cur });
        for (let i = 0; i < rest; i++) {
          const n = nfa.state();
          nfa.edges[cur].push({ lo: 48, hi: 57, to: n });
          cur = n;
        }
        nfa.eps[cur].push(e);
      }
      const high = nfa.state();
      nfa.edges[from].push({ lo: h0, hi: h0, to: high });
      rec(high, "0".repeat(rest), h.slice(1));
    };
    rec(s, lo, hi);
    return { start: s, end: e };
  }
}

function assertNeverNode(node: never): never {
  throw new Error(`unhandled regex node ${JSON.stringify(node)}`);
}

function closure(nfa: Nfa, states: Iterable<number>): number[] {
  const seen = new Set<number>();
  const stack = [...states];
  while (stack.length > 0) {
    const s = stack.pop() as number;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const t of nfa.eps[s]) if (!seen.has(t)) stack.push(t);
  }
  return [...seen].sort((a, b) => a - b);
}

/** Subset construction over code-point intervals. */
function determinize(sub: { nfa: Nfa; start: number; end: number }, tooBig: () => never): Dfa {
  const { nfa, end } = sub;
  const bounds: Int32Array[] = [];
  const targets: Int32Array[] = [];
  const accept: boolean[] = [];
  const ids = new Map<string, number>();
  const sets: number[][] = [];
  const add = (set: number[]): number => {
    const key = set.join(",");
    let id = ids.get(key);
    if (id === undefined) {
      if (sets.length >= MAX_DETERMINIZED_STATES) tooBig();
      id = sets.length;
      ids.set(key, id);
      sets.push(set);
    }
    return id;
  };
  add(closure(nfa, [sub.start]));
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i];
    accept[i] = set.includes(end);
    const edges: Edge[] = [];
    for (const s of set) edges.push(...nfa.edges[s]);
    const points = new Set<number>([0]);
    for (const edge of edges) {
      points.add(edge.lo);
      if (edge.hi < MAX_CODE_POINT) points.add(edge.hi + 1);
    }
    const sorted = [...points].sort((a, b) => a - b);
    const b: number[] = [];
    const t: number[] = [];
    for (let j = 0; j < sorted.length; j++) {
      const lo = sorted[j];
      const hi = j + 1 < sorted.length ? sorted[j + 1] - 1 : MAX_CODE_POINT;
      const next: number[] = [];
      for (const edge of edges) if (edge.lo <= lo && edge.hi >= hi) next.push(edge.to);
      const target = next.length === 0 ? -1 : add(closure(nfa, next));
      // Merge with the previous interval when it goes to the same state.
      if (t.length > 0 && t[t.length - 1] === target) continue;
      b.push(lo);
      t.push(target);
    }
    bounds[i] = Int32Array.from(b);
    targets[i] = Int32Array.from(t);
  }
  return { bounds, targets, accept };
}

/**
 * Compile a Lucene regular expression. Throws a QuarryError (EQL170) on a syntax error and EQL171 when
 * the automaton would need more than 10,000 states.
 *
 * @example compileLuceneRegex("ab+c|<1-20>").test("15") // true
 */
export function compileLuceneRegex(pattern: string, options: RegexOptions = {}): LuceneRegex {
  const caseInsensitive = options.caseInsensitive ?? false;
  const span = options.span;
  const fail = (message: string, offset: number): never => {
    const at = span ? Math.min(span.start + 1 + offset, span.end) : offset;
    throw new QuarryError({
      code: RegexCode.syntax,
      severity: "error",
      title: `invalid regular expression [${pattern}]: ${message}`,
      labels: [{ span: span ?? { start: at, end: at + 1 }, text: message, primary: true }],
      notes: ["`regex` uses Lucene regular-expression syntax, as Elasticsearch does"],
    });
  };
  const tooBig = (): never => {
    throw new QuarryError({
      code: RegexCode.tooComplex,
      severity: "error",
      title: `regular expression [${pattern}] is too complex: determinizing it would need more than ${MAX_DETERMINIZED_STATES} states`,
      labels: span ? [{ span, text: "too complex", primary: true }] : [],
      help: "simplify the expression (large bounded repeats, `~` and `&` multiply states)",
    });
  };
  const tree = new Parser(pattern, caseInsensitive, fail).parse();
  const nfa = new Nfa(tooBig);
  const fragment = new Builder(nfa, caseInsensitive, tooBig).build(tree);
  const dfa = determinize({ nfa, start: fragment.start, end: fragment.end }, tooBig);
  return { pattern, caseInsensitive, test: dfaMatcher(dfa) };
}

function dfaMatcher(dfa: Dfa): (value: string) => boolean {
  const n = dfa.accept.length;
  // ASCII table per state, filled lazily from the interval lists.
  const ascii = new Int32Array(n * 128);
  for (let s = 0; s < n; s++) {
    const bounds = dfa.bounds[s];
    const targets = dfa.targets[s];
    let j = 0;
    for (let c = 0; c < 128; c++) {
      while (j + 1 < bounds.length && bounds[j + 1] <= c) j++;
      ascii[s * 128 + c] = targets[j];
    }
  }
  const { bounds, targets, accept } = dfa;
  return (value: string): boolean => {
    let state = 0;
    const len = value.length;
    for (let i = 0; i < len; i++) {
      let c = value.charCodeAt(i);
      if (c < 128) {
        state = ascii[state * 128 + c];
      } else {
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
          const d = value.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            c = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
            i++;
          }
        }
        const b = bounds[state];
        let lo = 0;
        let hi = b.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (b[mid] <= c) lo = mid;
          else hi = mid - 1;
        }
        state = targets[state][lo];
      }
      if (state < 0) return false;
    }
    return accept[state];
  };
}
