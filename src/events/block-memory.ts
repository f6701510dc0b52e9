/**
 * One WebAssembly.Memory per thread that plain-file reads land in, shared with the WebAssembly code that
 * searches the blocks (the prefilter's SIMD search), which then reads a block where it lies instead of
 * copying it into memory of its own (a copy of every byte searched: ~4% of a prefiltered hunt).
 *
 * The memory is made at its full size and never grown: growing a WebAssembly.Memory detaches its buffer,
 * and with it every block handed out. It holds BLOCK_SLOTS read blocks (each followed by BLOCK_PAD readable
 * bytes: SIMD loads run a little past a block's end) and REGIONS regions that WebAssembly users reserve for
 * their own tables. Pages are committed by the operating system as they are first written, so reserved
 * but unused space costs address space, not memory. When the slots or regions run out, callers fall back to
 * ordinary buffers and memories of their own.
 */

/** A read block's size (4 MiB reads ran about twice as fast as 1 MiB). */
export const BLOCK_BYTES = 4 << 20;
/** Readable bytes after each block. */
export const BLOCK_PAD = 64;
const BLOCK_SLOTS = 4;
/** A region for a WebAssembly user: its tables and a buffer to copy data that lies elsewhere into. */
export const REGION_BYTES = (1 << 20) + (128 << 10);
const REGIONS = 8;
const PAGE = 65536;

interface Arena {
  readonly memory: WebAssembly.Memory;
  readonly freeBlocks: Buffer[];
  readonly freeRegions: number[];
}

let arena: Arena | null | undefined;

function theArena(): Arena | null {
  if (arena === undefined) {
    const blockSpan = BLOCK_BYTES + PAGE; // the pad rounded up to a page
    const bytes = BLOCK_SLOTS * blockSpan + REGIONS * REGION_BYTES;
    try {
      const pages = Math.ceil(bytes / PAGE);
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      const freeBlocks: Buffer[] = [];
      for (let i = BLOCK_SLOTS - 1; i >= 0; i--)
        freeBlocks.push(Buffer.from(memory.buffer, i * blockSpan, BLOCK_BYTES));
      const freeRegions: number[] = [];
      for (let i = REGIONS - 1; i >= 0; i--) freeRegions.push(BLOCK_SLOTS * blockSpan + i * REGION_BYTES);
      arena = { memory, freeBlocks, freeRegions };
    } catch {
      arena = null; // no WebAssembly, or no address space: ordinary buffers
    }
  }
  return arena;
}

/** The shared memory, or undefined where it cannot be made. */
export function blockMemory(): WebAssembly.Memory | undefined {
  return theArena()?.memory;
}

/** A free read block (BLOCK_BYTES) in the shared memory, or undefined when all are taken. */
export function takeSharedBlock(): Buffer | undefined {
  return theArena()?.freeBlocks.pop();
}

/** Gives a block back; false when it is not one of the shared memory's blocks. */
export function giveSharedBlock(block: Buffer): boolean {
  const a = theArena();
  if (!a || block.buffer !== a.memory.buffer || block.length !== BLOCK_BYTES) return false;
  if (!a.freeBlocks.includes(block)) a.freeBlocks.push(block);
  return true;
}

/** The byte offset of a free region of REGION_BYTES, or undefined when all are taken. */
export function reserveRegion(): number | undefined {
  return theArena()?.freeRegions.pop();
}

/** Gives a region back (its owner is gone). */
export function releaseRegion(offset: number): void {
  const a = theArena();
  if (a && !a.freeRegions.includes(offset)) a.freeRegions.push(offset);
}
