/**
 * Which of a fixed set of needles occur in a string, and whether at its start or end: one Aho-Corasick
 * pass over the string instead of one `includes` / `startsWith` / `endsWith` per needle. A literal check
 * whose rule lists sixty folder patterns (`"?:\\Windows\\Tasks\\*.exe", ...`) scans a path once.
 *
 * Transitions are dense, over the needles' own characters: each character of the scanned string maps to a
 * class (characters in no needle share class 0, which leads back to the root), so a step is two array
 * reads whatever the number of needles. The scan is linear in the string's length plus the occurrences it
 * reports, on any input.
 */

/**
 * Tables above this many entries (1 MiB) are not built; the caller keeps its per-needle tests. The corpus's
 * list of 66 folders needs 16,678.
 */
const MAX_TABLE = 1 << 18;

export class NeedleScanner {
  /** Class of each ASCII character (0: in no needle). */
  private readonly ascii: Uint16Array;
  /** Classes of the other characters that occur in needles. */
  private readonly wide: Map<number, number>;
  private readonly classes: number;
  /** `delta[state * classes + class]`: the next state. */
  private readonly delta: Int32Array;
  /** Needles ending at each state (its own and its failure chain's): `out[outStart[s] .. outStart[s + 1]]`. */
  private readonly outStart: Int32Array;
  private readonly out: Int32Array;
  private readonly lengths: Int32Array;
  /** Per needle, the scan in which it was found anywhere / as a prefix / as a suffix. */
  readonly anywhere: Int32Array;
  readonly atStart: Int32Array;
  readonly atEnd: Int32Array;
  /** The number of the latest scan (what the marks above are compared with). */
  epoch = 0;

  private constructor(parts: {
    ascii: Uint16Array;
    wide: Map<number, number>;
    classes: number;
    delta: Int32Array;
    outStart: Int32Array;
    out: Int32Array;
    lengths: Int32Array;
  }) {
    this.ascii = parts.ascii;
    this.wide = parts.wide;
    this.classes = parts.classes;
    this.delta = parts.delta;
    this.outStart = parts.outStart;
    this.out = parts.out;
    this.lengths = parts.lengths;
    const count = parts.lengths.length;
    this.anywhere = new Int32Array(count);
    this.atStart = new Int32Array(count);
    this.atEnd = new Int32Array(count);
  }

  /** A scanner for these (non-empty) needles, or undefined when its tables would be too large. */
  static build(needles: readonly string[]): NeedleScanner | undefined {
    if (needles.length === 0 || needles.some((n) => n.length === 0)) return undefined;
    // Character classes.
    const classOf = new Map<number, number>();
    for (const n of needles)
      for (let i = 0; i < n.length; i++) {
        const c = n.charCodeAt(i);
        if (!classOf.has(c)) classOf.set(c, classOf.size + 1);
      }
    const classes = classOf.size + 1;
    // The trie.
    const children: Map<number, number>[] = [new Map()];
    const ends: number[][] = [[]];
    needles.forEach((n, id) => {
      let s = 0;
      for (let i = 0; i < n.length; i++) {
        const cls = classOf.get(n.charCodeAt(i)) as number;
        let next = children[s].get(cls);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          ends.push([]);
          children[s].set(cls, next);
        }
        s = next;
      }
      ends[s].push(id);
    });
    const states = children.length;
    if (states * classes > MAX_TABLE) return undefined;
    const ascii = new Uint16Array(128);
    const wide = new Map<number, number>();
    for (const [c, cls] of classOf) {
      if (c < 128) ascii[c] = cls;
      else wide.set(c, cls);
    }
    // Breadth-first: failure links, dense transitions, and each state's outputs (its own, then its
    // failure state's, already complete since that state is shallower).
    const delta = new Int32Array(states * classes);
    const fail = new Int32Array(states);
    const outputs: number[][] = new Array(states);
    outputs[0] = ends[0];
    const queue: number[] = [];
    for (let cls = 0; cls < classes; cls++) {
      const next = children[0].get(cls);
      if (next !== undefined) {
        delta[cls] = next;
        fail[next] = 0;
        queue.push(next);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head];
      outputs[s] = ends[s].concat(outputs[fail[s]]);
      for (let cls = 0; cls < classes; cls++) {
        const next = children[s].get(cls);
        if (next !== undefined) {
          delta[s * classes + cls] = next;
          fail[next] = delta[fail[s] * classes + cls];
          queue.push(next);
        } else delta[s * classes + cls] = delta[fail[s] * classes + cls];
      }
    }
    let total = 0;
    for (let s = 0; s < states; s++) total += outputs[s].length;
    const out = new Int32Array(total);
    const outStart = new Int32Array(states + 1);
    let at = 0;
    for (let s = 0; s < states; s++) {
      outStart[s] = at;
      for (const id of outputs[s]) out[at++] = id;
    }
    outStart[states] = at;
    const lengths = Int32Array.from(needles, (n) => n.length);
    return new NeedleScanner({ ascii, wide, classes, delta, outStart, out, lengths });
  }

  /**
   * Scan `text`: afterwards a needle was found anywhere / at the start / at the end of it when its entry in
   * `anywhere` / `atStart` / `atEnd` equals `epoch`.
   */
  scan(text: string): void {
    let epoch = this.epoch + 1;
    if (epoch === 0x7fffffff) {
      // Marks of earlier scans must not collide with the numbers that restart.
      this.anywhere.fill(0);
      this.atStart.fill(0);
      this.atEnd.fill(0);
      epoch = 1;
    }
    this.epoch = epoch;
    const { ascii, wide, classes, delta, outStart, out, lengths, anywhere, atStart, atEnd } = this;
    const n = text.length;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      const cls = c < 128 ? ascii[c] : (wide.get(c) ?? 0);
      s = delta[s * classes + cls];
      const last = outStart[s + 1];
      for (let o = outStart[s]; o < last; o++) {
        const id = out[o];
        anywhere[id] = epoch;
        if (i + 1 === lengths[id]) atStart[id] = epoch;
        if (i + 1 === n) atEnd[id] = epoch;
      }
    }
  }
}
