/**
 * A LinePrefilter built from a Requirement.
 *
 * `next()` searches a block for the needles of the requirement's cover (one needle of each `all`, every
 * needle of each `some`) and for the hazards that could hide one of them: a `\u` escape of a character a
 * needle could hold, a `\/` escape
 * when a needle holds `/`, and the UTF-8 bytes of the two non-ASCII characters whose lower case is ASCII
 * (KELVIN SIGN for `k`, U+0130 for `i`) when a case-insensitive needle holds that letter. When needles
 * and hazards together are few, one SIMD pass (Teddy, src/prefilter/teddy.ts) finds them all, the
 * hazards as plain needles (an escaped backslash before them only costs a `line()` check); otherwise the
 * needles are one JavaScript search and the hazards native ones. It is stateless:
 * the hazards are searched only before the first needle found, so the calls over one block scan each byte
 * a bounded number of times.
 *
 * `line()` accepts a line holding any hazard of the requirement; otherwise it evaluates the whole formula
 * on the line's bytes.
 */
import {
  coverOf,
  describeRequirement,
  type Needle,
  needlesOf,
  type Requirement,
  someOf,
} from "./requirement.js";
import { EscapeFinder, ExactFinder, type Finder, finderFor } from "./search.js";
import { teddyFinder } from "./teddy.js";

/** What a line of NDJSON must hold for a query to need it, tested on raw bytes. */
export interface LinePrefilter {
  /**
   * Offset of the first byte of the earliest possible hit in buf[from, end), or -1 when there is none.
   * Lines of the block containing no hit are skipped unparsed. Runs over whole 1 MiB blocks, not per line.
   */
  next(buf: Buffer, from: number, end: number): number;
  /** The full conservative check of one candidate line buf[start, end) (every required conjunct). */
  line(buf: Buffer, start: number, end: number): boolean;
  /** Human description for --explain/--profile, e.g. `contains~ "raw.githubusercontent.com"`. */
  readonly description: string;
}

const KELVIN_UTF8 = Uint8Array.of(0xe2, 0x84, 0xaa);
const CAPITAL_I_DOT_UTF8 = Uint8Array.of(0xc4, 0xb0);
const SLASH = 0x2f;

/**
 * What could hide one of these needles from a byte search: JSON escapes (`\<char>` followed by one of
 * `tails`, or by anything when there are none) and byte sequences. Needles of ASCII bytes can only be
 * hidden by `\u` escapes of ASCII characters (`\u00..`) and, for a case-insensitive `k` or `i`, of the two
 * characters whose lower case is that letter (KELVIN SIGN `\u212a`, U+0130 `\u0130`), which are also
 * hazards as their UTF-8 bytes. Other escapes (of Cyrillic, Chinese, emoji: exports that escape every
 * non-ASCII character have them on most lines) then no longer keep a line. `\/` matters to a needle
 * holding `/`.
 */
interface Hazards {
  readonly escapes: readonly { readonly char: string; readonly tails: readonly string[] }[];
  readonly bytes: readonly Uint8Array[];
}

function hazardsOf(needles: readonly Needle[]): Hazards {
  const ciLetter = (c: string) => needles.some((n) => n.caseInsensitive && n.bytes.includes(c.charCodeAt(0)));
  const ascii = needles.every((n) => n.bytes.every((b) => b < 0x80));
  const unicodeTails = ascii ? ["00"] : [];
  if (ascii && ciLetter("k")) unicodeTails.push("212");
  if (ascii && ciLetter("i")) unicodeTails.push("013");
  const escapes = [{ char: "u", tails: unicodeTails }];
  if (needles.some((n) => n.bytes.includes(SLASH))) escapes.push({ char: "/", tails: [] });
  const bytes: Uint8Array[] = [];
  if (ciLetter("k")) bytes.push(KELVIN_UTF8);
  if (ciLetter("i")) bytes.push(CAPITAL_I_DOT_UTF8);
  return { escapes, bytes };
}

/**
 * The hazard searches that could hide one of these needles: a native search per escape, its tails checked
 * after each stop, and only escapes that open one (after an even run of backslashes) count.
 */
function hazardFinders(needles: readonly Needle[]): Finder[] {
  const { escapes, bytes } = hazardsOf(needles);
  return [...escapes.map((e) => new EscapeFinder(e.char, e.tails)), ...bytes.map((b) => new ExactFinder(b))];
}

/**
 * The hazards as needles of their own, for a search that takes them in the same pass (without
 * hazardFinders' check of the backslashes before an escape: an escaped backslash only costs a `line()`).
 */
function hazardNeedles(needles: readonly Needle[]): Needle[] {
  const { escapes, bytes } = hazardsOf(needles);
  const exact = (b: Uint8Array): Needle => ({
    bytes: b,
    caseInsensitive: false,
    common: false,
    text: Buffer.from(b).toString("latin1"),
  });
  const texts = escapes.flatMap((e) =>
    e.tails.length === 0 ? [`\\${e.char}`] : e.tails.map((t) => `\\${e.char}${t}`),
  );
  return [...texts.map((t) => exact(Buffer.from(t, "latin1"))), ...bytes.map(exact)];
}

/** Chunks of several block searches: the first covers a few lines, then each doubles. */
const FIRST_CHUNK = 16 * 1024;
const MAX_CHUNK = 1 << 20;
/**
 * Needles from this length on jump far in the Wu-Manber pass (file hashes: 32 to 64 bytes); shorter ones
 * in the same set would cut every jump to their length.
 */
const LONG_NEEDLE = 32;

/**
 * The block searches for a cover: one SIMD pass over needles and hazards when Teddy takes them all;
 * else, for a big set, the long needles in a Wu-Manber pass and the short ones with the hazards in Teddy
 * (the 3CX pack: 106 hashes, 33 names and domains); else a Wu-Manber pass and the native hazard searches.
 */
function blockSearches(allOfCover: readonly Needle[]): BlockSearch[] {
  const cover = withoutContaining(allOfCover);
  const hazards = hazardNeedles(cover);
  const all = [...cover, ...hazards];
  const simd = teddyFinder(all);
  if (simd) return [{ finder: simd, needles: all }];
  const long = cover.filter((n) => n.bytes.length >= LONG_NEEDLE);
  const short = cover.filter((n) => n.bytes.length < LONG_NEEDLE);
  if (long.length > 0 && short.length > 0) {
    const shortAndHazards = [...short, ...hazards];
    const shortSimd = teddyFinder(shortAndHazards);
    if (shortSimd)
      return [
        { finder: shortSimd, needles: shortAndHazards },
        { finder: finderFor(long), needles: long },
      ];
  }
  return [
    { finder: finderFor(cover), needles: cover },
    ...hazardFinders(cover).map((finder) => ({ finder, needles: [] })),
  ];
}

/** A block search and the needles its hits' `lastNeedle` indexes. */
interface BlockSearch {
  readonly finder: Finder;
  readonly needles: readonly Needle[];
}

/** Whether `needle` occurs at `at` (which must leave room for it). */
function needleAt(buf: Buffer, at: number, needle: Needle): boolean {
  const b = needle.bytes;
  if (needle.caseInsensitive) {
    for (let i = 0; i < b.length; i++) {
      const c = buf[at + i];
      if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== b[i]) return false;
    }
  } else for (let i = 0; i < b.length; i++) if (buf[at + i] !== b[i]) return false;
  return true;
}

/** Sets up to this size drop the needles that contain another (a quadratic check). */
const MAX_SUBSUMED = 512;

/**
 * The needles without those holding another needle of the set (in the same or a case-insensitive
 * sense): wherever `"akamaicontainer.com"` occurs, `akamaicontainer.com` does, on the same line, so a
 * block search needs only the latter. Fewer needles fit Teddy and spare the jump tables.
 */
function withoutContaining(needles: readonly Needle[]): readonly Needle[] {
  if (needles.length < 2 || needles.length > MAX_SUBSUMED) return needles;
  const folded = needles.map((n) => n.text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase()));
  const within = (outer: number, inner: number): boolean => {
    const a = needles[outer];
    const b = needles[inner];
    if (b.bytes.length > a.bytes.length) return false;
    if (b.caseInsensitive) return folded[outer].includes(b.text);
    return !a.caseInsensitive && a.text.includes(b.text);
  };
  return needles.filter(
    (_, i) =>
      !needles.some(
        (other, j) =>
          j !== i &&
          within(i, j) &&
          // Of two needles that hold each other (equal), keep the first.
          (other.bytes.length < needles[i].bytes.length || !within(j, i) || j < i),
      ),
  );
}

type LineTest = (buf: Buffer, start: number, end: number) => boolean;

/**
 * Whether the string that just closed at `at` is an object key: a `:` follows, after JSON whitespace.
 * (In valid JSON only a key is followed by `:`; a line that is not valid JSON is not an event either.)
 */
function keyFollows(buf: Buffer, at: number, end: number): boolean {
  while (at < end && (buf[at] === 0x20 || buf[at] === 0x09 || buf[at] === 0x0d || buf[at] === 0x0a)) at++;
  return at < end && buf[at] === 0x3a;
}

/** The formula as a closure over one line's bytes (`some` of several needles is one search). */
function compileTest(r: Requirement): LineTest {
  switch (r.kind) {
    case "any":
      return () => true;
    case "needle": {
      const f = finderFor([r.needle]);
      if (!r.needle.closesValue) return (buf, start, end) => f.find(buf, start, end) >= 0;
      const length = r.needle.bytes.length;
      return (buf, start, end) => {
        for (let from = start; ; ) {
          const at = f.find(buf, from, end);
          if (at < 0) return false;
          if (!keyFollows(buf, at + length, end)) return true;
          from = at + 1;
        }
      };
    }
    case "all": {
      const parts = r.parts.map(compileTest);
      return (buf, start, end) => {
        for (const p of parts) if (!p(buf, start, end)) return false;
        return true;
      };
    }
    case "some": {
      const needles: Needle[] = [];
      const others: LineTest[] = [];
      for (const p of r.parts) {
        if (p.kind === "needle") needles.push(p.needle);
        else others.push(compileTest(p));
      }
      if (needles.length > 0) {
        const f = finderFor(needles);
        others.unshift((buf, start, end) => f.find(buf, start, end) >= 0);
      }
      return (buf, start, end) => {
        for (const p of others) if (p(buf, start, end)) return true;
        return false;
      };
    }
  }
}

/**
 * Searches of a line (see `searchesOf`) past which `line()` keeps every line the block search stops at
 * instead of testing the whole formula: the union of a large rule set (the 459 Windows rules of the
 * detection-rules corpus: ~1,000 searches of each candidate line, ~1.4 ms a line for 800 rules) costs far
 * more to test than to parse. Keeping a line is always safe; the reader then stops using a prefilter that
 * keeps most lines (see ReadOptions.prefilter). The 3CX pack's union needs 77 and is tested exactly (most
 * of its candidate lines satisfy an early disjunct).
 */
const MAX_LINE_SEARCHES = 256;

/** How many searches of a line `compileTest`'s closure makes at most (each `all` stops at its first miss). */
function searchesOf(r: Requirement): number {
  switch (r.kind) {
    case "any":
      return 0;
    case "needle":
      return 1;
    case "all":
      return r.parts.reduce((n, p) => n + searchesOf(p), 0);
    case "some": {
      const others = r.parts.filter((p) => p.kind !== "needle");
      return (others.length < r.parts.length ? 1 : 0) + others.reduce((n, p) => n + searchesOf(p), 0);
    }
  }
}

/** A prefilter keeping the lines that may satisfy `requirement`. */
export class RequirementPrefilter implements LinePrefilter {
  readonly description: string;
  /** The block searches: the cover's needles and hazards, in one or several passes. */
  private readonly searches: readonly BlockSearch[];
  /** Needles that are whole disjuncts of the requirement: a line holding one needs no other check. */
  private readonly sufficient: ReadonlySet<Needle>;
  /**
   * The last hit `next()` returned and its needle when known: `line()` on that hit's line accepts it at
   * once if the needle is sufficient and is still there (checked again: the caller may reuse the buffer).
   */
  private lastHit = -1;
  private lastNeedle: Needle | undefined;
  /** The longest needle or hazard of the searches (a hit starting in a chunk may end past it). */
  private readonly longest: number;
  private readonly lineHazards: readonly Finder[];
  private readonly test: LineTest;

  constructor(readonly requirement: Requirement) {
    const cover = coverOf(requirement);
    if (!cover) throw new Error("a prefilter needs a requirement");
    this.searches = blockSearches(cover);
    this.sufficient = new Set(
      requirement.kind === "needle"
        ? [requirement.needle]
        : requirement.kind === "some"
          ? requirement.parts.flatMap((p) => (p.kind === "needle" ? [p.needle] : []))
          : [],
    );
    this.longest = Math.max(8, ...cover.map((n) => n.bytes.length));
    this.lineHazards = hazardFinders(needlesOf(requirement));
    const exact = searchesOf(requirement) <= MAX_LINE_SEARCHES;
    this.test = exact ? compileTest(requirement) : () => true;
    const searched =
      cover.length === 1
        ? describeRequirement({ kind: "needle", needle: cover[0] })
        : `${cover.length} literals`;
    this.description =
      requirement.kind === "needle"
        ? searched
        : `${describeRequirement(requirement)} [search: ${searched}${exact ? "" : "; lines not tested further"}]`;
  }

  next(buf: Buffer, from: number, end: number): number {
    const searches = this.searches;
    if (searches.length === 1) return this.hit(searches[0], searches[0].finder.find(buf, from, end));
    // Several passes go chunk by chunk, so that a rare needle's pass does not scan to the block's end on
    // every call while another pass hits at every few lines (the reader calls once per candidate line).
    let chunk = FIRST_CHUNK;
    for (let lo = from; lo < end; ) {
      const hi = Math.min(end, lo + chunk);
      chunk = Math.min(2 * chunk, MAX_CHUNK);
      let best = -1;
      let bestNeedle: Needle | undefined;
      let limit = Math.min(end, hi + this.longest);
      for (const search of searches) {
        // Past the best hit so far only its own line is left, and `line()` checks all of that line.
        const at = search.finder.find(buf, lo, limit);
        if (at >= 0 && at < hi && (best < 0 || at < best)) {
          best = at;
          limit = at;
          bestNeedle = search.needles[search.finder.lastNeedle ?? -1];
        }
      }
      if (best >= 0) {
        this.lastHit = best;
        this.lastNeedle = bestNeedle;
        return best;
      }
      lo = hi;
    }
    return -1;
  }

  private hit(search: BlockSearch, at: number): number {
    if (at >= 0) {
      this.lastHit = at;
      this.lastNeedle = search.needles[search.finder.lastNeedle ?? -1];
    }
    return at;
  }

  line(buf: Buffer, start: number, end: number): boolean {
    // The line of the last hit, which was a sufficient needle: accepted once it is seen to still be there
    // (and, for a needle ending a value, not to be a key).
    const needle = this.lastNeedle;
    const at = this.lastHit;
    if (
      needle !== undefined &&
      at >= start &&
      at + needle.bytes.length <= end &&
      this.sufficient.has(needle) &&
      needleAt(buf, at, needle) &&
      !(needle.closesValue && keyFollows(buf, at + needle.bytes.length, end))
    )
      return true;
    for (const h of this.lineHazards) if (h.find(buf, start, end) >= 0) return true;
    return this.test(buf, start, end);
  }
}

/** A prefilter for `requirement`, or undefined when it requires nothing. */
export function prefilterFor(requirement: Requirement): LinePrefilter | undefined {
  return requirement.kind === "any" ? undefined : new RequirementPrefilter(requirement);
}

/** A line is needed when any of the queries may need it: undefined if any input is undefined. */
export function unionPrefilters(filters: readonly (LinePrefilter | undefined)[]): LinePrefilter | undefined {
  if (filters.length === 0) return undefined;
  const defined: LinePrefilter[] = [];
  for (const f of filters) {
    if (f === undefined) return undefined;
    defined.push(f);
  }
  if (defined.length === 1) return defined[0];
  if (defined.every((f) => f instanceof RequirementPrefilter)) {
    return prefilterFor(someOf(defined.map((f) => (f as RequirementPrefilter).requirement)));
  }
  return {
    description: `some(${defined.map((f) => f.description).join(", ")})`,
    next(buf, from, end) {
      let best = -1;
      for (const f of defined) {
        const at = f.next(buf, from, best < 0 ? end : best);
        if (at >= 0 && (best < 0 || at < best)) best = at;
      }
      return best;
    },
    line(buf, start, end) {
      for (const f of defined) if (f.line(buf, start, end)) return true;
      return false;
    },
  };
}
