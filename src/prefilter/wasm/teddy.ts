// AssemblyScript, compiled to dist/src/prefilter/teddy.wasm by scripts/build-wasm.mjs (not by tsc).
//
// Teddy (Hyperscan's SIMD literal matcher, as ripgrep also uses it): the needles are spread over up to 8
// buckets; for each of the first three (find3) or four (find4) bytes of a needle, two 16-byte tables map
// a byte's low and high nibble to the buckets whose needles may hold that byte there. Sixteen window
// starts are tested at once with two table lookups (i8x16.swizzle) per fingerprint byte, with no
// dependency from one block of sixteen to the next (the scalar jump loop it replaces waits on a table
// load per jump). A lane whose bucket bits survive every fingerprint byte is a candidate, verified
// against its bucket's needles (first 4 bytes at once, then byte by byte).
//
// The caller (src/prefilter/teddy.ts) owns the memory (imported) and the layout of each finder's tables,
// at offsets from `tables` below. The searched bytes lie anywhere in the memory: in a read block (the
// reader's blocks are in this memory, see src/events/block-memory.ts) or copied into the finder's region.
// Loads run up to 31 bytes past `end`; those bytes only add candidates, which verification bounds by `end`.

/** Fingerprint tables: byte j of a needle (j = 0 to 3) at 32 * j, low-nibble table then high. */
const MASKS: usize = 0;
/** One block of candidate bucket bits, stored to read its lanes. */
const SCRATCH: usize = 128;
/** Per bucket (8): index of its first needle in LIST and the count, two u32. */
const BUCKETS: usize = 160;
/**
 * Per needle (up to 64), five u32: offset of its bytes (from the start of memory), length, 1 when
 * ASCII-case-insensitive, and for needles of 4 bytes or more its first 4 bytes with the bits to set on
 * the text's 4 bytes before comparing them (the case bit where the needle has a letter and is
 * case-insensitive), a one-load first check.
 */
const NEEDLES: usize = 256;
const NEEDLE_ENTRY: usize = 20;
/** Needle ids, bucket after bucket (u32). */
const LIST: usize = 1536;

/** After a search gave up (-2): every window start before this address is settled. */
export let settled: i32 = 0;
/** After a hit: the id of the needle found there. */
export let matched: i32 = -1;

/** Bytes compared by verification in the current search (its budget). */
let verified: i32 = 0;

const NO_HIT: i32 = -1;
const OUT_OF_BUDGET: i32 = -2;
/** A candidate lane lies past the last window start: the search is over, without a hit. */
const PAST_END: i32 = -3;

/**
 * Verifies the candidate lanes of the block at p (their bucket bits stored at `scratch`): the earliest
 * hit's start, NO_HIT, PAST_END, or OUT_OF_BUDGET (with `settled` set).
 */
// @ts-ignore: decorator (AssemblyScript's)
@inline
function verifyLanes(
  tables: usize,
  scratch: usize,
  lanes: i32,
  p: i32,
  from: i32,
  startsEnd: i32,
  end: i32,
  slack: i32,
): i32 {
  while (lanes !== 0) {
    const lane = ctz<i32>(lanes);
    lanes &= lanes - 1;
    const s = p + lane;
    if (s >= startsEnd) return PAST_END;
    let bits = <i32>load<u8>(scratch + <usize>lane);
    while (bits !== 0) {
      const k = ctz<i32>(bits);
      bits &= bits - 1;
      const first = load<u32>(tables + BUCKETS + <usize>(k * 8));
      const count = load<u32>(tables + BUCKETS + <usize>(k * 8 + 4));
      for (let j: u32 = 0; j < count; j++) {
        const id = load<u32>(tables + LIST + <usize>((first + j) * 4));
        const entry = tables + NEEDLES + <usize>id * NEEDLE_ENTRY;
        const offset = <usize>load<u32>(entry);
        const len = <i32>load<u32>(entry, 4);
        if (s + len > end) continue;
        const text = <usize>s;
        if (len >= 4 && (load<u32>(text) | load<u32>(entry, 16)) !== load<u32>(entry, 12)) {
          verified += 1;
          continue;
        }
        const caseInsensitive = load<u32>(entry, 8) !== 0;
        let i = 0;
        if (caseInsensitive) {
          while (i < len) {
            let x = <u32>load<u8>(text + <usize>i);
            if (x - 0x41 < 26) x |= 0x20;
            if (x !== <u32>load<u8>(offset + <usize>i)) break;
            i++;
          }
        } else {
          while (i < len && load<u8>(text + <usize>i) === load<u8>(offset + <usize>i)) i++;
        }
        if (i === len) {
          matched = <i32>id;
          return s;
        }
        verified += i + 1;
      }
    }
    if (verified > 4 * (s - from) + slack) {
      settled = s + 1;
      return OUT_OF_BUDGET;
    }
  }
  return NO_HIT;
}

/**
 * The earliest start s in [from, startsEnd) of a needle lying wholly in [s, end) (addresses in memory),
 * -1 when none, or -2 when verification compared more than 4 bytes per byte advanced plus `slack` (then
 * `settled` says how far the search got; the caller finishes with a linear-time automaton). Fingerprints
 * of the needles' first 3 bytes.
 */
export function find3(tables: usize, from: i32, startsEnd: i32, end: i32, slack: i32): i32 {
  return search(tables, from, startsEnd, end, slack, false);
}

/**
 * find3 with fingerprints of the first 4 bytes: a fourth pair of lookups per block, for needle sets whose
 * first 3 bytes are common in the text (a candidate's verification costs what dozens of blocks do).
 */
export function find4(tables: usize, from: i32, startsEnd: i32, end: i32, slack: i32): i32 {
  return search(tables, from, startsEnd, end, slack, true);
}

/** The search loop; inlined into find3 and find4 with `four` constant, so each has only its own work. */
// @ts-ignore: decorator (AssemblyScript's)
@inline
function search(tables: usize, from: i32, startsEnd: i32, end: i32, slack: i32, four: bool): i32 {
  const lo0 = v128.load(tables + MASKS);
  const hi0 = v128.load(tables + MASKS, 16);
  const lo1 = v128.load(tables + MASKS, 32);
  const hi1 = v128.load(tables + MASKS, 48);
  const lo2 = v128.load(tables + MASKS, 64);
  const hi2 = v128.load(tables + MASKS, 80);
  const lo3 = v128.load(tables + MASKS, 96);
  const hi3 = v128.load(tables + MASKS, 112);
  const scratch = tables + SCRATCH;
  const nibble = i8x16.splat(0x0f);
  verified = 0;
  // Each block of 16 bytes is loaded once: its bucket bits as fingerprint byte 0 to 3 (m0 to m3) come
  // from one pair of nibble vectors, and a start s passes when byte s passes as byte 0, s + 1 as byte 1
  // and so on: the next block's m1, m2 (and m3), shifted in by one, two (and three) lanes.
  let block = v128.load(<usize>from);
  let lo = v128.and(block, nibble);
  let hi = i8x16.shr_u(block, 4);
  let m0 = v128.and(i8x16.swizzle(lo0, lo), i8x16.swizzle(hi0, hi));
  let m1 = v128.and(i8x16.swizzle(lo1, lo), i8x16.swizzle(hi1, hi));
  let m2 = v128.and(i8x16.swizzle(lo2, lo), i8x16.swizzle(hi2, hi));
  let m3 = four ? v128.and(i8x16.swizzle(lo3, lo), i8x16.swizzle(hi3, hi)) : m0;
  for (let p = from; p < startsEnd; p += 16) {
    block = v128.load(<usize>p, 16);
    lo = v128.and(block, nibble);
    hi = i8x16.shr_u(block, 4);
    const n0 = v128.and(i8x16.swizzle(lo0, lo), i8x16.swizzle(hi0, hi));
    const n1 = v128.and(i8x16.swizzle(lo1, lo), i8x16.swizzle(hi1, hi));
    const n2 = v128.and(i8x16.swizzle(lo2, lo), i8x16.swizzle(hi2, hi));
    let r = v128.and(
      m0,
      v128.and(
        i8x16.shuffle(m1, n1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
        i8x16.shuffle(m2, n2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
      ),
    );
    if (four) {
      const n3 = v128.and(i8x16.swizzle(lo3, lo), i8x16.swizzle(hi3, hi));
      r = v128.and(r, i8x16.shuffle(m3, n3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18));
      m3 = n3;
    }
    m0 = n0;
    m1 = n1;
    m2 = n2;
    if (!v128.any_true(r)) continue;
    v128.store(scratch, r);
    const lanes = i8x16.bitmask(i8x16.ne(r, i8x16.splat(0)));
    const found = verifyLanes(tables, scratch, lanes, p, from, startsEnd, end, slack);
    if (found !== NO_HIT) return found === PAST_END ? NO_HIT : found;
  }
  return NO_HIT;
}
