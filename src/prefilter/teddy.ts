/**
 * Teddy, the SIMD literal search (src/prefilter/wasm/teddy.ts, compiled to WebAssembly): up to
 * MAX_TEDDY_NEEDLES needles, exact or ASCII-case-insensitive, in one pass that tests sixteen window starts
 * per step. Where WebAssembly SIMD is missing, `teddyFinder` returns undefined and callers keep the
 * JavaScript searches.
 *
 * WebAssembly reads only its own memory. Each finder's tables live in a region of the memory the reader
 * reads plain files into (src/events/block-memory.ts), so a block is searched where it lies; any other
 * buffer is copied into the region in chunks that start small and double (a call never copies much past
 * its answer: the reader calls once per candidate line of a block). When the shared regions are all
 * taken, a finder has a memory of its own and always copies.
 */
import { readFileSync } from "node:fs";
import { blockMemory, REGION_BYTES, releaseRegion, reserveRegion } from "../events/block-memory.js";
import type { Needle } from "./requirement.js";
import { type Finder, NeedleAutomaton, NeedleSetFinder } from "./search.js";

/** The module's tables hold this many needles. */
export const MAX_TEDDY_NEEDLES = 64;
/**
 * Teddy is declined when more than this share of window starts would pass its tables (text modelled as
 * printable ASCII, each byte alike): a candidate costs a verification, and past a few percent the
 * JavaScript jump loop is faster. The 3CX pack's 33 shortest needles and 5 hazards, grouped, pass ~0.2%.
 */
const MAX_CANDIDATE_RATE = 0.01;
const BUCKETS = 8;
const FIRST_CHUNK = 4096;
/** Bytes of the first search that set the byte frequencies the needles are grouped by. */
const SAMPLE_BYTES = 64 * 1024;
/** Bytes of it on which the candidates of 3- and 4-byte fingerprints are counted. */
const RATE_SAMPLE_BYTES = 16 * 1024;
const MAX_CHUNK = 1 << 20;
/**
 * Readable bytes needed after a range searched in place (a block's loads run up to 31 bytes past its
 * first window start); zero bytes after a copied range.
 */
const PAD = 32;
/** Layout shared with the WebAssembly module, from the region's start. */
const MASKS = 0;
const BUCKET_TABLE = 160;
const NEEDLE_TABLE = 256;
const NEEDLE_ENTRY = 20;
const LIST = 1536;
const NEEDLE_BYTES = 2048;
/** Where copied ranges go, from the region's start (the tables and needle bytes lie below). */
const COPY_AREA = 65536;

interface TeddyExports {
  readonly settled: WebAssembly.Global;
  readonly matched: WebAssembly.Global;
  find3(tables: number, from: number, startsEnd: number, end: number, slack: number): number;
  find4(tables: number, from: number, startsEnd: number, end: number, slack: number): number;
}

/** Shared regions go back when their finder is collected. */
const regions = new FinalizationRegistry<number>(releaseRegion);

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null when this runtime cannot compile it (no WebAssembly SIMD). */
function teddyModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(readFileSync(new URL("./teddy.wasm", import.meta.url)));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Off with QUARRY_SIMD=0 in the environment, or setSimd(false): prefilters then search in JavaScript. */
let simdEnabled = process.env.QUARRY_SIMD !== "0";

/** Turns the SIMD search on or off for prefilters built from now on (tests and A/B measurements). */
export function setSimd(enabled: boolean): void {
  simdEnabled = enabled;
}

/** A Teddy search for these needles, or undefined (too many needles, a control byte, or no SIMD). */
export function teddyFinder(
  needles: readonly Needle[],
  options: {
    readonly maxCandidateRate?: number;
    /** Fingerprints of this many bytes, instead of choosing by the first text searched (tests). */
    readonly fingerprint?: 3 | 4;
  } = {},
): Finder | undefined {
  if (!simdEnabled || needles.length === 0 || needles.length > MAX_TEDDY_NEEDLES) return undefined;
  let total = 0;
  for (const n of needles) {
    if (n.bytes.length === 0 || n.bytes.some((b) => b < 0x20)) return undefined;
    total += n.bytes.length;
  }
  if (NEEDLE_BYTES + total > COPY_AREA) return undefined;
  const rate = totalRate(groupNeedles(needles, PRINTABLE, 3));
  if (rate > (options.maxCandidateRate ?? MAX_CANDIDATE_RATE)) return undefined;
  const module = teddyModule();
  if (!module) return undefined;
  return new TeddyFinder(needles, module, options.fingerprint);
}

/** A finder's WebAssembly instance, its memory, where its region starts there, and its search. */
interface Placement {
  readonly wasm: TeddyExports;
  readonly memory: Uint8Array;
  readonly base: number;
  readonly find: TeddyExports["find3"];
}

/** The share of window starts a grouping's buckets pass, together. */
function totalRate(buckets: readonly Bucket[]): number {
  return buckets.reduce((sum, b) => sum + b.rate, 0);
}

/**
 * The share of the sample's window starts these buckets pass (the grouping's own estimate takes bytes as
 * independent, which JSON's are not: `"sh` starts every `"sha256"` key).
 */
function sampledRate(buckets: readonly Bucket[], sample: Uint8Array): number {
  const positions = buckets[0]?.lo.length ?? 0;
  let passed = 0;
  const starts = sample.length - positions + 1;
  for (let s = 0; s < starts; s++) {
    for (const b of buckets) {
      let j = 0;
      while (j < positions) {
        const c = sample[s + j];
        if (!(b.lo[j] & (1 << (c & 15)) && b.hi[j] & (1 << (c >> 4)))) break;
        j++;
      }
      if (j === positions) {
        passed++;
        break;
      }
    }
  }
  return starts > 0 ? passed / starts : 0;
}

/** Fewer candidates per byte than this, and a fourth fingerprint byte costs more than it spares. */
const FOURTH_BYTE_PAYS = 0.00075;

/** Byte frequencies of text modelled as printable ASCII, each byte alike. */
const PRINTABLE = Float64Array.from({ length: 256 }, (_, b) => (b >= 0x20 && b < 0x7f ? 1 / 95 : 0));

/**
 * Byte frequencies of a sample of the text searched, plus a little of the printable model (a byte absent
 * from the sample may still come).
 */
function frequencies(sample: Uint8Array): Float64Array {
  const counts = new Float64Array(256);
  for (let i = 0; i < sample.length; i++) counts[sample[i]]++;
  const weight = 0.01;
  return counts.map(
    (c, b) => (1 - weight) * (sample.length > 0 ? c / sample.length : 0) + weight * PRINTABLE[b],
  );
}

/** A bucket: needle indexes, its tables (nibble masks per fingerprint position), and its pass rate. */
interface Bucket {
  readonly members: number[];
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  readonly rate: number;
}

/** The bytes a needle accepts at fingerprint position j (both cases of a case-insensitive letter). */
function fingerprintBytes(n: Needle, j: number): number[] | undefined {
  if (j >= n.bytes.length) return undefined; // any byte
  const b = n.bytes[j];
  return n.caseInsensitive && b >= 0x61 && b <= 0x7a ? [b, b ^ 0x20] : [b];
}

const ANY_NIBBLE = 0xffff;

/**
 * Share of window starts that pass these tables, for text of these byte frequencies (bytes taken as
 * independent): at each fingerprint position, the bytes whose low nibble and high nibble both occur
 * there (the tables hold nibbles, so a bucket also passes every mix of its needles' nibbles).
 */
function passRate(lo: readonly number[], hi: readonly number[], freq: Float64Array): number {
  let rate = 1;
  for (let j = 0; j < lo.length; j++) {
    if (lo[j] === ANY_NIBBLE) continue;
    let passing = 0;
    for (let l = 0; l < 16; l++) {
      if (!(lo[j] & (1 << l))) continue;
      for (let h = 0; h < 16; h++) if (hi[j] & (1 << h)) passing += freq[(h << 4) | l];
    }
    rate *= passing;
  }
  return rate;
}

function bucketOf(needles: readonly Needle[], i: number, freq: Float64Array, positions: number): Bucket {
  const lo = new Array<number>(positions).fill(0);
  const hi = new Array<number>(positions).fill(0);
  for (let j = 0; j < positions; j++) {
    const bytes = fingerprintBytes(needles[i], j);
    if (!bytes) {
      lo[j] = ANY_NIBBLE;
      hi[j] = ANY_NIBBLE;
      continue;
    }
    for (const b of bytes) {
      lo[j] |= 1 << (b & 15);
      hi[j] |= 1 << (b >> 4);
    }
  }
  return { members: [i], lo, hi, rate: passRate(lo, hi, freq) };
}

function merged(a: Bucket, b: Bucket, freq: Float64Array): Bucket {
  const lo = a.lo.map((m, j) => m | b.lo[j]);
  const hi = a.hi.map((m, j) => m | b.hi[j]);
  return { members: [...a.members, ...b.members], lo, hi, rate: passRate(lo, hi, freq) };
}

/**
 * Needles into at most 8 buckets so that few window starts pass: start from one bucket per needle and
 * merge, again and again, the two buckets whose union adds the least to the pass rate (needles sharing
 * their first bytes end up together, as Hyperscan's Teddy compiler groups them). The rate of each
 * possible union is kept, so a merge only computes the new bucket's unions.
 */
function groupNeedles(needles: readonly Needle[], freq: Float64Array, positions: number): Bucket[] {
  const slots: (Bucket | undefined)[] = needles.map((_, i) => bucketOf(needles, i, freq, positions));
  const n = slots.length;
  const union = new Float64Array(n * n);
  const unionOf = (a: number, b: number) => {
    union[a * n + b] = merged(slots[a]!, slots[b]!, freq).rate;
  };
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) unionOf(a, b);
  for (let live = n; live > BUCKETS; live--) {
    let bestA = -1;
    let bestB = -1;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let a = 0; a < n; a++) {
      const x = slots[a];
      if (!x) continue;
      for (let b = a + 1; b < n; b++) {
        const y = slots[b];
        if (!y) continue;
        const cost = union[a * n + b] - x.rate - y.rate;
        if (cost < bestCost) {
          bestCost = cost;
          bestA = a;
          bestB = b;
        }
      }
    }
    slots[bestA] = merged(slots[bestA]!, slots[bestB]!, freq);
    slots[bestB] = undefined;
    for (let k = 0; k < n; k++) {
      if (k === bestA || !slots[k]) continue;
      if (k < bestA) unionOf(k, bestA);
      else unionOf(bestA, k);
    }
  }
  return slots.filter((b): b is Bucket => b !== undefined);
}

class TeddyFinder implements Finder {
  private readonly shortest: number;
  private readonly longest: number;
  private readonly slack: number;
  private fallback: NeedleAutomaton | undefined;
  lastNeedle = -1;
  /**
   * Made on the first search, not before: a hunt builds prefilters it never searches blocks with (a rule's
   * own), which would hold the few regions of the shared memory.
   */
  private placed: Placement | Finder | undefined;

  constructor(
    private readonly needles: readonly Needle[],
    private readonly module: WebAssembly.Module,
    private readonly fingerprint: 3 | 4 | undefined,
  ) {
    this.shortest = Math.min(...needles.map((n) => n.bytes.length));
    this.longest = Math.max(...needles.map((n) => n.bytes.length));
    this.slack = 4 * this.longest + 256;
    if (COPY_AREA + MAX_CHUNK + this.longest + PAD > REGION_BYTES) throw new Error("Teddy region too small");
  }

  /**
   * A region of the shared memory (or, when none is free, a memory of its own), its tables written; or,
   * when no memory can be made, the JavaScript search of the same needles.
   */
  private place(sample: Uint8Array): Placement | Finder {
    const shared = blockMemory();
    const region = shared ? reserveRegion() : undefined;
    let memory: WebAssembly.Memory;
    if (region !== undefined && shared) memory = shared;
    else {
      try {
        memory = new WebAssembly.Memory({ initial: Math.ceil(REGION_BYTES / 65536) });
      } catch {
        // No address space left for another memory (each reserves guard space; a `ulimit -v` can
        // refuse it): the JavaScript search, same answers.
        return new NeedleSetFinder(this.needles);
      }
    }
    if (region !== undefined) regions.register(this, region);
    const wasm = new WebAssembly.Instance(this.module, { env: { memory } })
      .exports as unknown as TeddyExports;
    // Fingerprints of 3 bytes, or of 4 when that spares enough verifications to pay for the fourth
    // lookup in every block (Teddy's loop costs ~0.2 ns a byte here, a candidate ~40 ns).
    const freq = frequencies(sample);
    const three = groupNeedles(this.needles, freq, 3);
    const four = groupNeedles(this.needles, freq, 4);
    const counted = sample.subarray(0, RATE_SAMPLE_BYTES);
    const wide =
      this.fingerprint === undefined
        ? sampledRate(three, counted) - sampledRate(four, counted) > FOURTH_BYTE_PAYS
        : this.fingerprint === 4;
    const placed = {
      wasm,
      memory: new Uint8Array(memory.buffer),
      base: region ?? 0,
      find: wide ? wasm.find4 : wasm.find3,
    };
    this.writeTables(placed, wide ? four : three);
    return placed;
  }

  /**
   * Fingerprint tables, bucket lists and needle bytes, written on the first search: the needles are
   * grouped by the byte frequencies of its first 64 KiB (on the 3CX pack's short needles and a
   * simulated fleet, half the candidates of a grouping for evenly spread bytes).
   */
  private writeTables({ memory: mem, base }: Placement, grouped: readonly Bucket[]): void {
    const buckets = grouped.map((b) => b.members);
    // A shared region may have held another finder's tables (its finder collected): start from zeros,
    // so that no bucket bit or entry of that finder survives.
    mem.fill(0, base, base + COPY_AREA);
    const view = new DataView(mem.buffer);
    let listed = 0;
    buckets.forEach((members, k) => {
      const bit = 1 << k;
      for (const i of members) {
        for (let j = 0; j < 4; j++) {
          const lo = base + MASKS + 32 * j;
          const hi = lo + 16;
          const bytes = fingerprintBytes(this.needles[i], j);
          if (!bytes) {
            // Past a needle's end (a needle of 1 or 2 bytes): any byte.
            for (let x = 0; x < 16; x++) {
              mem[lo + x] |= bit;
              mem[hi + x] |= bit;
            }
            continue;
          }
          for (const b of bytes) {
            mem[lo + (b & 15)] |= bit;
            mem[hi + (b >> 4)] |= bit;
          }
        }
        view.setUint32(base + LIST + 4 * listed, i, true);
        listed++;
      }
      view.setUint32(base + BUCKET_TABLE + 8 * k, listed - members.length, true);
      view.setUint32(base + BUCKET_TABLE + 8 * k + 4, members.length, true);
    });
    let at = base + NEEDLE_BYTES;
    this.needles.forEach((n, i) => {
      const entry = base + NEEDLE_TABLE + NEEDLE_ENTRY * i;
      view.setUint32(entry, at, true);
      view.setUint32(entry + 4, n.bytes.length, true);
      view.setUint32(entry + 8, n.caseInsensitive ? 1 : 0, true);
      if (n.bytes.length >= 4) {
        let head = 0;
        let caseBits = 0;
        for (let k = 3; k >= 0; k--) {
          const b = n.bytes[k];
          const letter = n.caseInsensitive && b >= 0x61 && b <= 0x7a;
          head = (head << 8) | b;
          caseBits = (caseBits << 8) | (letter ? 0x20 : 0);
        }
        view.setUint32(entry + 12, head >>> 0, true);
        view.setUint32(entry + 16, caseBits >>> 0, true);
      }
      mem.set(n.bytes, at);
      at += n.bytes.length;
    });
  }

  find(buf: Uint8Array, from: number, end: number): number {
    this.placed ??= this.place(buf.subarray(from, Math.min(end, from + SAMPLE_BYTES)));
    if (!("wasm" in this.placed)) {
      const at = this.placed.find(buf, from, end);
      this.lastNeedle = this.placed.lastNeedle ?? -1;
      return at;
    }
    const { wasm, memory, base } = this.placed;
    const lastStarts = end - this.shortest + 1; // window starts lie in [from, lastStarts)
    if (lastStarts <= from) return -1;
    if (buf.buffer === memory.buffer && buf.byteOffset + end + PAD <= memory.length) {
      // A read block in the shared memory: searched where it lies.
      const at = buf.byteOffset;
      const r = this.placed.find(base, at + from, at + lastStarts, at + end, this.slack);
      if (r === -2) return this.finish(buf, at, end);
      if (r < 0) return -1;
      this.lastNeedle = wasm.matched.value as number;
      return r - at;
    }
    const area = base + COPY_AREA;
    let lo = from;
    let chunk = FIRST_CHUNK;
    while (lo < lastStarts) {
      const hi = Math.min(lastStarts, lo + chunk);
      chunk = Math.min(chunk * 2, MAX_CHUNK);
      const dataEnd = Math.min(end, hi + this.longest - 1);
      const n = dataEnd - lo;
      memory.set(buf.subarray(lo, dataEnd), area);
      memory.fill(0, area + n, area + n + PAD);
      const r = this.placed.find(base, area, area + hi - lo, area + n, this.slack);
      if (r >= 0) {
        this.lastNeedle = wasm.matched.value as number;
        return r - area + lo;
      }
      if (r === -2) return this.finish(buf, area - lo, end);
      lo = hi;
    }
    return -1;
  }

  /**
   * The rest of a search whose verification budget ran out, by the automaton, from where the search got
   * to (`settled`, an address; offset 0 of `buf` is at address `origin`).
   */
  private finish(buf: Uint8Array, origin: number, end: number): number {
    this.lastNeedle = -1;
    this.fallback ??= new NeedleAutomaton(this.needles);
    const { wasm } = this.placed as Placement;
    return this.fallback.find(buf, (wasm.settled.value as number) - origin, end);
  }
}
