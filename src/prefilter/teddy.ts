/**
 * Teddy, the SIMD literal search (src/prefilter/wasm/teddy.ts, compiled to WebAssembly): up to
 * MAX_TEDDY_NEEDLES needles, exact or ASCII-case-insensitive, in one pass that tests sixteen window starts
 * per step. Where WebAssembly SIMD is missing, `teddyFinder` returns undefined and callers keep the
 * JavaScript searches.
 *
 * WebAssembly reads only its own memory, so each call copies the range it searches into the instance's
 * memory, in chunks that start small and double (a call never copies much past its answer: the reader
 * calls once per candidate line of a block).
 */
import { readFileSync } from "node:fs";
import type { Needle } from "./requirement.js";
import { type Finder, NeedleAutomaton } from "./search.js";

/** More needles than this crowd the 8 buckets: nearly every position would be a candidate. */
export const MAX_TEDDY_NEEDLES = 24;
const BUCKETS = 8;
const FIRST_CHUNK = 4096;
const MAX_CHUNK = 1 << 20;
/** Zero bytes after the copied range: the block loads read up to 18 bytes past a window start. */
const PAD = 32;
/** Layout shared with the WebAssembly module. */
const MASKS = 0;
const BUCKET_TABLE = 128;
const NEEDLE_TABLE = 256;
const LIST = 1024;
const NEEDLE_BYTES = 2048;

interface TeddyExports {
  readonly memory: WebAssembly.Memory;
  readonly DATA: WebAssembly.Global;
  readonly settled: WebAssembly.Global;
  find(from: number, startsEnd: number, end: number, slack: number): number;
}

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
export function teddyFinder(needles: readonly Needle[]): Finder | undefined {
  if (!simdEnabled || needles.length === 0 || needles.length > MAX_TEDDY_NEEDLES) return undefined;
  let total = 0;
  for (const n of needles) {
    if (n.bytes.length === 0 || n.bytes.some((b) => b < 0x20)) return undefined;
    total += n.bytes.length;
  }
  if (NEEDLE_BYTES + total > DATA_START) return undefined;
  const module = teddyModule();
  if (!module) return undefined;
  return new TeddyFinder(needles, new WebAssembly.Instance(module).exports as unknown as TeddyExports);
}

/** Where DATA starts (the module's constant), checked against the instance on construction. */
const DATA_START = 65536;

class TeddyFinder implements Finder {
  private readonly memory: Uint8Array;
  private readonly shortest: number;
  private readonly longest: number;
  private readonly slack: number;
  private fallback: NeedleAutomaton | undefined;

  constructor(
    private readonly needles: readonly Needle[],
    private readonly wasm: TeddyExports,
  ) {
    if (wasm.DATA.value !== DATA_START) throw new Error("teddy.wasm layout differs from teddy.ts");
    this.shortest = Math.min(...needles.map((n) => n.bytes.length));
    this.longest = Math.max(...needles.map((n) => n.bytes.length));
    this.slack = 4 * this.longest + 256;
    const needed = DATA_START + MAX_CHUNK + this.longest + PAD;
    const have = wasm.memory.buffer.byteLength;
    if (needed > have) wasm.memory.grow(Math.ceil((needed - have) / 65536));
    this.memory = new Uint8Array(wasm.memory.buffer);
    this.writeTables();
  }

  /** Fingerprint tables, bucket lists and needle bytes. Needle i goes to bucket i mod 8. */
  private writeTables(): void {
    const mem = this.memory;
    const view = new DataView(mem.buffer);
    // Fingerprint bytes past a needle's end accept anything (a needle of 1 or 2 bytes).
    for (let j = 0; j < 3; j++) {
      const lo = MASKS + 32 * j;
      const hi = lo + 16;
      for (let i = 0; i < this.needles.length; i++) {
        const n = this.needles[i];
        const bit = 1 << (i % BUCKETS);
        if (j >= n.bytes.length) {
          for (let x = 0; x < 16; x++) {
            mem[lo + x] |= bit;
            mem[hi + x] |= bit;
          }
          continue;
        }
        const byte = n.bytes[j];
        mem[lo + (byte & 15)] |= bit;
        mem[hi + (byte >> 4)] |= bit;
        if (n.caseInsensitive && byte >= 0x61 && byte <= 0x7a) mem[hi + ((byte ^ 0x20) >> 4)] |= bit;
      }
    }
    let listed = 0;
    for (let k = 0; k < BUCKETS; k++) {
      view.setUint32(BUCKET_TABLE + 8 * k, listed, true);
      let count = 0;
      for (let i = k; i < this.needles.length; i += BUCKETS) {
        view.setUint32(LIST + 4 * (listed + count), i, true);
        count++;
      }
      view.setUint32(BUCKET_TABLE + 8 * k + 4, count, true);
      listed += count;
    }
    let at = NEEDLE_BYTES;
    this.needles.forEach((n, i) => {
      view.setUint32(NEEDLE_TABLE + 12 * i, at, true);
      view.setUint32(NEEDLE_TABLE + 12 * i + 4, n.bytes.length, true);
      view.setUint32(NEEDLE_TABLE + 12 * i + 8, n.caseInsensitive ? 1 : 0, true);
      mem.set(n.bytes, at);
      at += n.bytes.length;
    });
  }

  find(buf: Uint8Array, from: number, end: number): number {
    const lastStarts = end - this.shortest + 1; // window starts lie in [from, lastStarts)
    let lo = from;
    let chunk = FIRST_CHUNK;
    while (lo < lastStarts) {
      const hi = Math.min(lastStarts, lo + chunk);
      chunk = Math.min(chunk * 2, MAX_CHUNK);
      const dataEnd = Math.min(end, hi + this.longest - 1);
      const n = dataEnd - lo;
      this.memory.set(buf.subarray(lo, dataEnd), DATA_START);
      this.memory.fill(0, DATA_START + n, DATA_START + n + PAD);
      const r = this.wasm.find(0, hi - lo, n, this.slack);
      if (r >= 0) return lo + r;
      if (r === -2) {
        this.fallback ??= new NeedleAutomaton(this.needles);
        return this.fallback.find(buf, lo + (this.wasm.settled.value as number), end);
      }
      lo = hi;
    }
    return -1;
  }
}
