/**
 * The byte searches behind the prefilters return exactly what a naive scan returns (the earliest start of
 * any needle lying wholly in [from, end), exact or ignoring ASCII case), and stay linear on hostile input.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Needle } from "../../src/prefilter/requirement.js";
import {
  EscapeFinder,
  type Finder,
  finderFor,
  NeedleAutomaton,
  NeedleSetFinder,
} from "../../src/prefilter/search.js";
import { MAX_TEDDY_NEEDLES, teddyFinder } from "../../src/prefilter/teddy.js";
import fc from "../fc.js";

function needle(text: string, caseInsensitive: boolean): Needle {
  const t = caseInsensitive ? text.replace(/[A-Z]/g, (c) => c.toLowerCase()) : text;
  return { bytes: Buffer.from(t, "latin1"), caseInsensitive, common: false, text: t };
}

const fold = (b: number) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b);

function naive(needles: readonly Needle[], buf: Uint8Array, from: number, end: number): number {
  for (let s = from; s < end; s++) {
    for (const n of needles) {
      const b = n.bytes;
      if (s + b.length > end) continue;
      let i = 0;
      while (i < b.length && (n.caseInsensitive ? fold(buf[s + i]) : buf[s + i]) === b[i]) i++;
      if (i === b.length) return s;
    }
  }
  return -1;
}

/** Flips the case of some letters (a case-insensitive needle must still be found). */
function recase(text: string, flips: readonly boolean[]): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    out += flips[i % Math.max(1, flips.length)]
      ? c === c.toLowerCase()
        ? c.toUpperCase()
        : c.toLowerCase()
      : c;
  }
  return out;
}

const ALPHABET = ["a", "A", "b", "B", "k", ".", '"', "\\", "u", "é", "\u00ff", "\n"];
const charArb = fc.constantFrom(...ALPHABET);
const wordArb = (min: number, max: number, chars = charArb) =>
  fc.array(chars, { minLength: min, maxLength: max }).map((cs) => cs.join(""));
const needleArb = fc.record({ text: wordArb(1, 40), ci: fc.boolean() });

/** A case: needles, and a text made of random runs and planted (re-cased, possibly cut) needles. */
const caseArb = (needleCount: fc.Arbitrary<{ text: string; ci: boolean }[]>) =>
  needleCount.chain((specs) =>
    fc
      .record({
        pieces: fc.array(
          fc.oneof(
            wordArb(0, 30),
            fc
              .record({
                k: fc.nat(specs.length - 1),
                flips: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
                cut: fc.nat(3),
              })
              .map(({ k, flips, cut }) => {
                const t = recase(specs[k].text, flips);
                return t.slice(0, Math.max(0, t.length - (cut === 0 ? 1 : 0)));
              }),
          ),
          { maxLength: 25 },
        ),
        a: fc.nat(),
        b: fc.nat(),
      })
      .map(({ pieces, a, b }) => {
        const buf = Buffer.from(pieces.join(""), "latin1");
        const x = a % (buf.length + 1);
        const y = b % (buf.length + 1);
        return { specs, buf, from: Math.min(x, y), end: Math.max(x, y) };
      }),
  );

function check(make: (needles: Needle[]) => Finder, arb: ReturnType<typeof caseArb>, runs: number): void {
  fc.assert(
    fc.property(arb, ({ specs, buf, from, end }) => {
      const needles = specs.map((s) => needle(s.text, s.ci));
      const f = make(needles);
      assert.equal(f.find(buf, from, end), naive(needles, buf, from, end));
      assert.equal(f.find(buf, 0, buf.length), naive(needles, buf, 0, buf.length));
    }),
    { numRuns: runs },
  );
}

const few = fc.array(needleArb, { minLength: 1, maxLength: 6 });
// More than 64 needles of 8+ bytes take the 4-gram tables; 9 to 64 the 3-gram ones.
const some = fc.array(needleArb, { minLength: 9, maxLength: 30 });
const many = fc.array(fc.record({ text: wordArb(8, 40), ci: fc.boolean() }), {
  minLength: 65,
  maxLength: 90,
});

test("finderFor: earliest start of any needle, as a naive scan (1-6 needles)", () => {
  check((n) => finderFor(n), caseArb(few), 600);
});

test("NeedleSetFinder: as a naive scan (one needle, 9-30 needles, 65-90 needles)", () => {
  check((n) => new NeedleSetFinder(n), caseArb(fc.array(needleArb, { minLength: 1, maxLength: 1 })), 400);
  check((n) => new NeedleSetFinder(n), caseArb(some), 200);
  check((n) => new NeedleSetFinder(n), caseArb(many), 100);
});

test("NeedleAutomaton (the linear fallback): as a naive scan", () => {
  check((n) => new NeedleAutomaton(n), caseArb(few), 400);
  check((n) => new NeedleAutomaton(n), caseArb(some), 150);
});

test("long texts: both halves of a chunk, hits past the first chunks, the wide table of big ranges", () => {
  const filler = Buffer.alloc(300_000, "x.y-");
  const ns = [needle("raw.githubusercontent.com", true), needle("Evil.Example", false)];
  const f = new NeedleSetFinder(ns);
  for (const at of [0, 1, 1023, 1024, 1500, 2047, 2048, 3000, 6000, 20_000, 49_970, 299_970]) {
    const buf = Buffer.from(filler);
    buf.write("RAW.GitHubUserContent.com", at, "latin1");
    assert.equal(f.find(buf, 0, buf.length), naive(ns, buf, 0, buf.length), `planted at ${at}`);
    assert.equal(f.find(buf, at + 1, buf.length), naive(ns, buf, at + 1, buf.length));
    assert.equal(f.find(buf, 0, at + 10), -1);
  }
  // Two hits: the earlier one wins even when the later one is in the first half of the chunk.
  const buf = Buffer.from(filler);
  buf.write("Evil.Example", 700, "latin1");
  buf.write("raw.githubusercontent.com", 1800, "latin1");
  assert.equal(f.find(buf, 0, buf.length), 700);
  buf.write("evil.example", 700, "latin1"); // exact needle: wrong case is not a hit
  assert.equal(f.find(buf, 0, buf.length), 1800);
});

test("adversarial texts: runs of one letter against needles that almost match everywhere", () => {
  const texts = [
    "a".repeat(3000),
    `${"a".repeat(2999)}b`,
    `b${"a".repeat(2999)}`,
    "ab".repeat(1500),
    "A".repeat(3000),
  ];
  const sets = [
    ["aaaab"],
    ["baaaa"],
    ["aaaabaa"],
    ["a".repeat(40)],
    [`${"a".repeat(39)}b`, `b${"a".repeat(39)}`, "aaab"],
    Array.from(
      { length: 100 },
      (_, i) => `${"a".repeat(30)}${String.fromCharCode(0x62 + (i % 20))}${"a".repeat(i % 9)}`,
    ),
  ];
  for (const set of sets)
    for (const ci of [false, true]) {
      const needles = set.map((t) => needle(t, ci));
      const f = finderFor(needles);
      for (const t of texts) {
        const buf = Buffer.from(t, "latin1");
        for (const [from, end] of [
          [0, buf.length],
          [7, buf.length - 3],
          [1000, 2100],
        ])
          assert.equal(
            f.find(buf, from, end),
            naive(needles, buf, from, end),
            `${set[0]}… ci=${ci} on ${t.slice(0, 8)}…`,
          );
      }
    }
});

/** A byte array whose indexed reads are counted (the searches read the text only by indexing). */
/**
 * The buffer's reads, counted: indexed byte loads through a proxy, plus every DataView load (the jump loop
 * reads q-grams through a DataView over the buffer, which a proxy cannot see), counted while `reads` is
 * live by wrapping DataView's getters (restored by `done`).
 */
function counted(bytes: Uint8Array): { buf: Uint8Array; reads: () => number; done: () => void } {
  let reads = 0;
  const proto = DataView.prototype;
  const originals = { getUint8: proto.getUint8, getUint16: proto.getUint16, getUint32: proto.getUint32 };
  for (const name of ["getUint8", "getUint16", "getUint32"] as const) {
    const original = originals[name];
    proto[name] = function (this: DataView, offset: number, littleEndian?: boolean) {
      if (this.buffer === bytes.buffer) reads++;
      return original.call(this, offset, littleEndian);
    };
  }
  const done = () => Object.assign(proto, originals);
  const buf = new Proxy(bytes, {
    get(target, key) {
      if (typeof key === "string" && key.length > 0 && key.charCodeAt(0) >= 0x30 && key.charCodeAt(0) <= 0x39)
        reads++;
      const v = Reflect.get(target, key);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { buf, reads: () => reads, done };
}

test("hostile input: the text is read a bounded number of times per byte, however the needles collide", () => {
  const n = 1 << 15;
  // Every window of a run of `a` ends like the 200 long needles' windows and starts like them, and each
  // fails only at its last byte: a verification without a budget compares ~30 bytes x 200 needles at
  // every position. (The shortest needle sets the window: 20 bytes.)
  const needles = [
    needle(`aaaac${"a".repeat(15)}`, false),
    ...Array.from({ length: 200 }, (_, i) =>
      needle(`${"a".repeat(20 + (i % 19))}${String.fromCharCode(0x62 + (i % 24))}`, i % 2 === 0),
    ),
  ];
  const single = [needle(`aaaab${"a".repeat(35)}`, true)];
  for (const set of [needles, single]) {
    const f = new NeedleSetFinder(set);
    const { buf, reads, done } = counted(new Uint8Array(n).fill(0x61));
    assert.equal(f.find(buf, 0, n), -1);
    done();
    // Measured: ~2 reads per byte (~14 when called per 512-byte line); unbounded verification: ~6,000.
    assert.ok(reads() < 8 * n, `${reads()} reads for ${n} bytes (${set.length} needles)`);
    assert.ok(reads() > n / 64, "the jump loop's reads are counted");
    // Hostile bytes only in the second half of the first chunks (the second of the two chains).
    const half = new Uint8Array(n).fill(0x61);
    for (let i = 0; i < n; i += 4096) half.fill(0x78, i, i + 1024);
    const second = counted(half);
    assert.equal(f.find(second.buf, 0, n), naive(set, half, 0, n));
    second.done();
    assert.ok(second.reads() < 8 * n, `${second.reads()} reads for ${n} bytes (second chain)`);
    // Called once per "line" (as the reader does after each hit): still bounded per byte.
    const lines = counted(new Uint8Array(n).fill(0x61));
    for (let from = 0; from < n; from += 512) lines.buf[from] = 0x0a;
    const before = lines.reads();
    for (let from = 1; from < n; from += 512)
      assert.equal(f.find(lines.buf, from, Math.min(n, from + 511)), -1);
    lines.done();
    assert.ok(lines.reads() - before < 30 * n, `${lines.reads() - before} reads for ${n} bytes in lines`);
  }
});

test("EscapeFinder: the earliest `\\<c><tail>` opening an escape, as a naive scan finds it", () => {
  /** Earliest p in [from, end) where a body's `\<body>` lies wholly and an even backslash run precedes it. */
  function naiveEscape(bodies: readonly string[], text: string, from: number, end: number): number {
    for (let p = from; p < end; p++) {
      if (text[p] !== "\\") continue;
      let run = 0;
      for (let k = p - 1; k >= 0 && text[k] === "\\"; k--) run++;
      if (run % 2 !== 0) continue;
      for (const b of bodies) if (p + 1 + b.length <= end && text.startsWith(b, p + 1)) return p;
    }
    return -1;
  }
  const bodySets: [string, string[]][] = [
    ["u", []],
    ["u", ["00"]],
    ["u", ["00", "212", "013"]],
    ["/", []],
  ];
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom("\\", "u", "0", "1", "2", "3", "/", "a", "x"), { maxLength: 60 }),
      fc.integer({ min: 0, max: 3 }),
      fc.nat(),
      fc.nat(),
      (chars, which, a, b) => {
        const text = chars.join("");
        const from = text.length === 0 ? 0 : a % (text.length + 1);
        const end = from + (text.length === 0 ? 0 : b % (text.length - from + 1));
        const [escapeChar, tails] = bodySets[which];
        const f = new EscapeFinder(escapeChar, tails);
        const bodies = tails.length === 0 ? [escapeChar] : tails.map((t) => escapeChar + t);
        assert.equal(f.find(Buffer.from(text, "latin1"), from, end), naiveEscape(bodies, text, from, end));
      },
    ),
    { numRuns: 3000 },
  );
});

/**
 * Teddy for these needles, however many window starts its tables would pass (it declines sets that pass
 * many, such as one-byte needles, in favour of the JavaScript searches): the test fails if it declines
 * them (up to 64 needles, no control bytes).
 */
function teddy(needles: Needle[], fingerprint?: 3 | 4): Finder {
  const f = teddyFinder(needles, { maxCandidateRate: 1, fingerprint });
  assert.ok(f, `Teddy declined ${needles.length} needles`);
  return f;
}

const printable = fc.constantFrom(...ALPHABET.filter((c) => c !== "\n"));
const teddyNeedleArb = fc.record({ text: wordArb(1, 40, printable), ci: fc.boolean() });

test("Teddy (SIMD): as a naive scan (1-8 needles, one per bucket; 9-64 sharing buckets; 3- and 4-byte fingerprints)", () => {
  for (const width of [3, 4] as const) {
    const make = (n: Needle[]) => teddy(n, width);
    check(make, caseArb(fc.array(teddyNeedleArb, { minLength: 1, maxLength: 8 })), 300);
    check(make, caseArb(fc.array(teddyNeedleArb, { minLength: 9, maxLength: MAX_TEDDY_NEEDLES })), 120);
  }
  assert.equal(teddyFinder([needle("a\nb", false)], { maxCandidateRate: 1 }), undefined, "control bytes");
  assert.equal(teddyFinder([needle("q", false)]), undefined, "a one-byte needle passes too many starts");
  assert.ok(teddyFinder([needle("raw.githubusercontent.com", true), needle("\\u00", false)]));
  assert.equal(
    teddyFinder(
      Array.from({ length: MAX_TEDDY_NEEDLES + 1 }, (_, i) => needle(`n${i}`, false)),
      { maxCandidateRate: 1 },
    ),
    undefined,
  );
});

test("Teddy: hits at chunk edges, needles straddling a chunk's end, 1- and 2-byte needles", () => {
  const filler = Buffer.alloc(200_000, "x.y-");
  const sets = [
    [needle("raw.githubusercontent.com", true), needle("\\u00", false), needle("\xc4\xb0", false)],
    [needle("Q", false), needle("zz", true)],
  ];
  for (const [ns, width] of sets.flatMap((ns) => ([3, 4] as const).map((w) => [ns, w] as const))) {
    const f = teddy(ns, width);
    const planted = ns[0].caseInsensitive ? "RAW.GitHubUserContent.com" : ns[0].text;
    for (const at of [0, 1, 15, 16, 4080, 4095, 4096, 4100, 12_287, 12_290, 28_670, 150_000, 199_975]) {
      const buf = Buffer.from(filler);
      buf.write(planted, Math.min(at, buf.length - planted.length), "latin1");
      for (const from of [0, 3, Math.max(0, at - 1), at + 1])
        assert.equal(
          f.find(buf, from, buf.length),
          naive(ns, buf, from, buf.length),
          `at ${at} from ${from}`,
        );
      assert.equal(
        f.find(buf, 0, Math.min(buf.length, at + 2)),
        naive(ns, buf, 0, Math.min(buf.length, at + 2)),
      );
    }
  }
});

test("Teddy: verification is budgeted; past the budget an automaton finishes, with the same answers", () => {
  const n = 1 << 16;
  // Every position starts like each needle and fails only at its last byte.
  const needles = Array.from({ length: MAX_TEDDY_NEEDLES }, (_, i) =>
    needle(`${"a".repeat(30 + (i % 9))}${String.fromCharCode(0x62 + i)}`, i % 2 === 0),
  );
  const f = teddy(needles);
  const run = Buffer.alloc(n, "a");
  assert.equal(f.find(run, 0, n), -1);
  assert.ok((f as unknown as { fallback?: unknown }).fallback, "the budget ran out on this input");
  const late = Buffer.concat([run, Buffer.from(needles[5].text, "latin1"), run]);
  assert.equal(f.find(late, 0, late.length), naive(needles, late, 0, late.length));
  assert.equal(f.find(late, 17, late.length), n);
});
