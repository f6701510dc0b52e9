/**
 * Byte searches over NDJSON blocks: many needles in one pass, and the JSON escapes that could hide a
 * needle. Every search is linear in the bytes searched (no backtracking): a needle set's verification is
 * budgeted per byte, and a call that exhausts the budget finishes with an Aho-Corasick automaton. Memory is
 * fixed by the needles, never by the input, and a call allocates nothing (but a view for native searches).
 */
import type { Needle } from "./requirement.js";

const BACKSLASH = 0x5c;

/** ASCII upper case to lower case; every other byte unchanged. */
const FOLD = new Uint8Array(256);
for (let b = 0; b < 256; b++) FOLD[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;

/** Finds the earliest start of any needle lying wholly in buf[from, end), or -1. */
export interface Finder {
  find(buf: Uint8Array, from: number, end: number): number;
  /**
   * Which needle (index in the needles the finder was built from) the last hit `find` returned is, or -1
   * when the search does not know (an automaton finished it). Absent: never known.
   */
  readonly lastNeedle?: number;
}

/** One exact needle: Node's native search. */
export class ExactFinder implements Finder {
  readonly lastNeedle = 0;
  private readonly bytes: Buffer;
  constructor(bytes: Uint8Array) {
    this.bytes = Buffer.from(bytes);
  }
  find(buf: Uint8Array, from: number, end: number): number {
    if (end - from < this.bytes.length) return -1;
    const view = Buffer.from(buf.buffer, buf.byteOffset + from, end - from);
    const at = view.indexOf(this.bytes);
    return at < 0 ? -1 : from + at;
  }
}

/** The window never exceeds this many bytes (shifts fit a byte). */
const MAX_WINDOW = 200;
/** Window starts covered by the first chunk of a call; each next chunk doubles, up to MAX_CHUNK. */
const FIRST_CHUNK = 2048;
const MAX_CHUNK = 1 << 20;
/**
 * Verification may compare this many bytes per byte the call has advanced (plus a slack of a few needle
 * lengths) before the call hands the rest of its range to the Aho-Corasick automaton.
 */
const VERIFY_PER_BYTE = 4;
/** A search of this many bytes or more gets the wide table of a few-needle set. */
const WIDE_TABLE_RANGE = 256 * 1024;
/** Hash table size: at most 2^18 entries (256 KiB), fewer for small needle sets. */
const MAX_TABLE_BITS = 18;
/** ASCII letters differ from their other case in this bit alone. */
const CASE_BIT = 0x20;

/**
 * Hash of the q bytes ending at `p`, after setting every byte's case bit: bytes equal ignoring ASCII case
 * hash alike, so one table serves exact and case-insensitive needles (verification tells them apart).
 * The q-gram is read in one or two loads (a DataView reads 2 or 4 bytes at once, where byte loads cost one
 * each on the jump loop's critical path) and folded to the table's `bits` by a multiplicative hash (a pair
 * indexes a 2^16 table directly).
 */
function windowHash(view: DataView, p: number, q: number, bits: number): number {
  let x: number;
  if (q === 2) {
    x = view.getUint16(p - 1) | 0x2020;
    if (bits === 16) return x; // the wide table: a direct index
  } else if (q === 4) x = view.getUint32(p - 3) | 0x20202020;
  else if (q === 3) x = ((view.getUint16(p - 2) | 0x2020) << 8) | (view.getUint8(p) | CASE_BIT);
  else return view.getUint8(p) | CASE_BIT;
  return Math.imul(x, 0x9e3779b1) >>> (32 - bits);
}

/** The 4 bytes from `p`, case bits set, as one number. */
function headAt(view: DataView, p: number): number {
  return view.getUint32(p) | 0x20202020;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Tuning of a needle set: q-gram length and table size (2^bits entries). */
function shapeFor(needles: readonly Needle[], m: number): { q: number; bits: number } {
  // Few needles: pairs already tell the window's end apart (the shortest chain of loads per jump); many:
  // longer q-grams keep the jumps long.
  const q = Math.min(m, needles.length <= 8 ? 2 : needles.length > 64 && m >= 8 ? 4 : 3);
  if (q === 1) return { q, bits: 8 };
  // Sparse tables (1/16 full or less at 2^16 entries; 1/64 for few needles) keep hash collisions from
  // shortening jumps, without a 64 KiB table per single-needle finder (a hunt builds hundreds).
  const load = q === 2 ? 64 : 16;
  return { q, bits: Math.max(8, Math.min(MAX_TABLE_BITS, Math.ceil(Math.log2(needles.length * m * load)))) };
}

/**
 * Many needles (exact or ASCII-case-insensitive) at once: Wu-Manber. A window of `m` bytes (the shortest
 * needle's length) slides over the text; the hash of its last q bytes says how far it may safely jump, and
 * a zero jump verifies the needles whose first m bytes end in that q-gram. No needle start is ever jumped
 * over, so the first verified needle of the leftmost window is the earliest.
 *
 * The jump loop is bound by load latency (each jump depends on the previous lookup), so each chunk of the
 * range is split in two halves searched by two interleaved, independent chains; the first half's hit wins,
 * else the second's. Chunks start small and double, so a call never searches much past its answer.
 *
 * Linear time on hostile input: verification is budgeted (VERIFY_PER_BYTE bytes compared per byte
 * advanced); a call that exhausts the budget finishes with an Aho-Corasick automaton (built on first need).
 */
export class NeedleSetFinder implements Finder {
  private readonly needles: readonly Needle[];
  private readonly m: number;
  private readonly q: number;
  private bits: number;
  private shifts: Uint8Array;
  private buckets: (Int32Array | undefined)[];
  private readonly wideBits: number;
  private readonly slack: number;
  /** Each needle's first 4 bytes with case bits set (when the window holds 4 bytes): a cheap first check. */
  private readonly heads: Int32Array;
  /** Bytes compared by verification during the current call. */
  private verified = 0;
  lastNeedle = -1;
  private automaton: NeedleAutomaton | undefined;
  /** The DataView over the last buffer searched (the reader searches each block many times). */
  private viewed: Uint8Array | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(needles: readonly Needle[]) {
    if (needles.length === 0) throw new Error("NeedleSetFinder needs a needle");
    this.needles = needles;
    let m = MAX_WINDOW;
    let longest = 0;
    for (const n of needles) {
      m = Math.min(m, n.bytes.length);
      longest = Math.max(longest, n.bytes.length);
    }
    this.m = Math.max(1, m);
    const { q, bits } = shapeFor(needles, this.m);
    this.q = q;
    this.slack = 4 * longest + 256;
    // Pairs index a 2^16 table directly (the fastest jumps), built on the first search of a big range: a
    // finder that only ever checks single lines keeps its small table.
    this.wideBits = q === 2 ? 16 : bits;
    [this.bits, this.shifts, this.buckets] = this.tables(bits);
    this.heads = Int32Array.from(needles, (n) => (this.m >= 4 ? headAt(viewOf(n.bytes), 0) : 0));
  }

  private viewFor(buf: Uint8Array): DataView {
    if (buf !== this.viewed) {
      this.viewed = buf;
      this.view = viewOf(buf);
    }
    return this.view;
  }

  /** The jump table and the verification buckets for a table of 2^bits entries. */
  private tables(bits: number): [number, Uint8Array, (Int32Array | undefined)[]] {
    const { m, q } = this;
    const shifts = new Uint8Array(1 << bits).fill(m - q + 1);
    const lists = new Map<number, number[]>();
    this.needles.forEach((n, id) => {
      const view = viewOf(n.bytes);
      for (let j = q - 1; j < m; j++) {
        const h = windowHash(view, j, q, bits);
        const s = m - 1 - j;
        if (s < shifts[h]) shifts[h] = s;
        if (s === 0) {
          const list = lists.get(h);
          if (!list) lists.set(h, [id]);
          else if (list[list.length - 1] !== id) list.push(id);
        }
      }
    });
    const buckets = new Array<Int32Array | undefined>(1 << bits);
    for (const [h, list] of lists) buckets[h] = Int32Array.from(list);
    return [bits, shifts, buckets];
  }

  find(buf: Uint8Array, from: number, end: number): number {
    if (this.bits < this.wideBits && end - from >= WIDE_TABLE_RANGE)
      [this.bits, this.shifts, this.buckets] = this.tables(this.wideBits);
    const { m, q, bits, shifts } = this;
    const view = this.viewFor(buf);
    const lastStart = end - m; // inclusive
    this.verified = 0;
    let lo = from;
    let chunk = FIRST_CHUNK;
    while (lo <= lastStart) {
      const hi = Math.min(lastStart + 1, lo + chunk);
      chunk = Math.min(chunk * 2, MAX_CHUNK);
      const mid = lo + ((hi - lo) >>> 1);
      // Window ends: stream 0 covers [p0, e0), stream 1 [p1, e1).
      let p0 = lo + m - 1;
      const e0 = mid + m - 1;
      let p1 = e0;
      const e1 = hi + m - 1;
      let hit1 = -1;
      for (;;) {
        let s0 = 0;
        let s1 = 0;
        while (p0 < e0 && p1 < e1) {
          s0 = shifts[windowHash(view, p0, q, bits)];
          s1 = shifts[windowHash(view, p1, q, bits)];
          if (s0 === 0 || s1 === 0) break;
          p0 += s0;
          p1 += s1;
        }
        if (p0 >= e0 || p1 >= e1) break;
        if (s0 !== 0) p0 += s0;
        else {
          const start = p0 - m + 1;
          if (this.verify(buf, start, end)) return start;
          if (this.verified > VERIFY_PER_BYTE * (p1 - from) + this.slack) return this.finish(buf, start, end);
          p0++;
        }
        if (s1 !== 0) p1 += s1;
        else {
          const start = p1 - m + 1;
          if (this.verify(buf, start, end)) {
            hit1 = start;
            break;
          }
          // Out of budget: every start before stream 0's window is settled, so finish from there.
          if (this.verified > VERIFY_PER_BYTE * (p1 - from) + this.slack)
            return this.finish(buf, p0 - m + 1, end);
          p1++;
        }
      }
      const r0 = this.scan(buf, p0, e0, end, from);
      if (r0 !== -1) return r0 < 0 ? -1 : r0;
      if (hit1 >= 0) return hit1;
      const r1 = this.scan(buf, p1, e1, end, from);
      if (r1 !== -1) return r1 < 0 ? -1 : r1;
      lo = hi;
    }
    return -1;
  }

  /**
   * One chain over window ends [pos, limit): the earliest start, -1 when none ends in the range, or the
   * automaton's final answer (-2 for none up to `end`) when the verification budget runs out.
   */
  private scan(buf: Uint8Array, pos: number, limit: number, end: number, from: number): number {
    const { m, q, bits, shifts } = this;
    const view = this.viewFor(buf);
    while (pos < limit) {
      const s = shifts[windowHash(view, pos, q, bits)];
      if (s !== 0) {
        pos += s;
        continue;
      }
      const start = pos - m + 1;
      if (this.verify(buf, start, end)) return start;
      if (this.verified > VERIFY_PER_BYTE * (pos - from) + this.slack) {
        const r = this.finish(buf, start, end);
        return r < 0 ? -2 : r;
      }
      pos++;
    }
    return -1;
  }

  /** Whether a needle whose window ends in this window's q-gram starts at `start`. */
  private verify(buf: Uint8Array, start: number, end: number): boolean {
    const view = this.viewFor(buf);
    const list = this.buckets[windowHash(view, start + this.m - 1, this.q, this.bits)];
    if (list === undefined) return false; // a zero jump shared by hash only
    const head = this.m >= 4 ? headAt(view, start) : 0;
    this.verified += list.length;
    for (let k = 0; k < list.length; k++) {
      if (this.heads[list[k]] !== head) continue;
      const n = this.needles[list[k]];
      const b = n.bytes;
      if (start + b.length > end) continue;
      let i = 0;
      if (n.caseInsensitive) while (i < b.length && FOLD[buf[start + i]] === b[i]) i++;
      else while (i < b.length && buf[start + i] === b[i]) i++;
      this.verified += i;
      if (i === b.length) {
        this.lastNeedle = list[k];
        return true;
      }
    }
    return false;
  }

  /** The rest of a call whose verification budget ran out: the earliest start in [from, end), or -1. */
  private finish(buf: Uint8Array, from: number, end: number): number {
    this.lastNeedle = -1;
    if (!this.automaton) this.automaton = new NeedleAutomaton(this.needles);
    return this.automaton.find(buf, from, end);
  }
}

/**
 * Aho-Corasick over the needles: one automaton on case-folded bytes for the case-insensitive needles, one
 * on raw bytes for the exact ones. Each reads every byte once (failure links amortised), so it is linear
 * whatever the input; it is the fallback of NeedleSetFinder, slower than its jumps on ordinary text.
 */
export class NeedleAutomaton implements Finder {
  private readonly folded: Trie | undefined;
  private readonly exact: Trie | undefined;

  constructor(needles: readonly Needle[]) {
    const ci = needles.filter((n) => n.caseInsensitive);
    const cs = needles.filter((n) => !n.caseInsensitive);
    this.folded = ci.length > 0 ? new Trie(ci) : undefined;
    this.exact = cs.length > 0 ? new Trie(cs) : undefined;
  }

  find(buf: Uint8Array, from: number, end: number): number {
    const a = this.folded ? this.folded.earliest(buf, from, end, FOLD) : -1;
    if (!this.exact) return a;
    const b = this.exact.earliest(buf, from, a < 0 ? end : Math.min(end, a + this.exact.longest), IDENTITY);
    return b < 0 ? a : a < 0 ? b : Math.min(a, b);
  }
}

const IDENTITY = new Uint8Array(256);
for (let b = 0; b < 256; b++) IDENTITY[b] = b;

/** An Aho-Corasick trie: goto edges, failure links, and the longest needle ending at each state. */
class Trie {
  /** Edges of state s on byte c, keyed s * 256 + c. */
  private readonly edges = new Map<number, number>();
  private readonly fail: Int32Array;
  /** Length of the longest needle that is a suffix of the state's path (0: none). */
  private readonly out: Int32Array;
  readonly longest: number;

  constructor(needles: readonly Needle[]) {
    let states = 1;
    let longest = 0;
    const terminal: number[] = [0];
    for (const n of needles) {
      let s = 0;
      for (const c of n.bytes) {
        const key = s * 256 + c;
        let t = this.edges.get(key);
        if (t === undefined) {
          t = states++;
          this.edges.set(key, t);
          terminal.push(0);
        }
        s = t;
      }
      terminal[s] = Math.max(terminal[s], n.bytes.length);
      longest = Math.max(longest, n.bytes.length);
    }
    this.longest = longest;
    this.fail = new Int32Array(states);
    this.out = Int32Array.from(terminal);
    // Breadth-first: a state's failure target is shallower, so it is final when the state is reached.
    const children: number[][] = Array.from({ length: states }, () => []);
    for (const [key, t] of this.edges) children[Math.floor(key / 256)].push(key % 256, t);
    const queue: number[] = [0];
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head];
      const kids = children[s];
      for (let k = 0; k < kids.length; k += 2) {
        const c = kids[k];
        const t = kids[k + 1];
        this.fail[t] = s === 0 ? 0 : this.step(this.fail[s], c);
        this.out[t] = Math.max(this.out[t], this.out[this.fail[t]]);
        queue.push(t);
      }
    }
  }

  /** The state after reading byte c in state s. */
  private step(s: number, c: number): number {
    for (;;) {
      const t = this.edges.get(s * 256 + c);
      if (t !== undefined) return t;
      if (s === 0) return 0;
      s = this.fail[s];
    }
  }

  /** Earliest start of a needle lying wholly in buf[from, end) (bytes mapped through `map`), or -1. */
  earliest(buf: Uint8Array, from: number, end: number, map: Uint8Array): number {
    let s = 0;
    let best = -1;
    for (let i = from; i < end; i++) {
      // A needle ending later than best + longest - 1 starts after best.
      if (best >= 0 && i >= best + this.longest) break;
      s = this.step(s, map[buf[i]]);
      const len = this.out[s];
      if (len > 0) {
        const start = i - len + 1;
        if (best < 0 || start < best) best = start;
      }
    }
    return best;
  }
}

/** The best finder for a set of needles. */
export function finderFor(needles: readonly Needle[]): Finder {
  // One exact needle: the native search (Boyer-Moore-Horspool for 7+ bytes). Otherwise the Wu-Manber
  // above: for one case-insensitive domain it ran at 5-9 GB/s here, against 2-4 for the native search of
  // the lower-case needle alone.
  if (needles.length === 1 && !needles[0].caseInsensitive) return new ExactFinder(needles[0].bytes);
  return new NeedleSetFinder(needles);
}

/**
 * A JSON escape `\<c>` followed by one of `tails` (any, when none is given): the backslash opens an escape
 * (an even number of backslashes precede it, so it is not the second half of `\\`). Backslash runs sit
 * inside one JSON string, never across a line. One native search for `\<c>`, the tails checked after it:
 * a search per tail would scan the range once per tail.
 */
export class EscapeFinder implements Finder {
  private readonly pair: Buffer;
  private readonly tails: readonly Uint8Array[];
  constructor(escapeChar: string, tails: readonly string[] = []) {
    this.pair = Buffer.from(`\\${escapeChar}`, "latin1");
    this.tails = tails.map((t) => Buffer.from(t, "latin1"));
  }
  find(buf: Uint8Array, from: number, end: number): number {
    const view = Buffer.from(buf.buffer, buf.byteOffset, end);
    let at = from;
    while (at < end) {
      const p = view.indexOf(this.pair, at);
      if (p < 0) return -1;
      at = p + 1;
      if (!this.tailFollows(buf, p + 2, end)) continue;
      let k = p - 1;
      while (k >= 0 && buf[k] === BACKSLASH) k--;
      if ((p - 1 - k) % 2 === 0) return p;
    }
    return -1;
  }
  private tailFollows(buf: Uint8Array, at: number, end: number): boolean {
    const tails = this.tails;
    if (tails.length === 0) return true;
    for (let t = 0; t < tails.length; t++) {
      const tail = tails[t];
      if (at + tail.length > end) continue;
      let i = 0;
      while (i < tail.length && buf[at + i] === tail[i]) i++;
      if (i === tail.length) return true;
    }
    return false;
  }
}
