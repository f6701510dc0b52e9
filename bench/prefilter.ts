/**
 * Literal-prefilter bench rows, with a block loop of their own (1 MiB blocks: `next()`, then `line()` on the
 * hit's line, then JSON.parse and the compiled query on candidates) so the reader-integrated version can be
 * compared with it.
 *
 * - `prefilterDomain`: `network where dns.question.name : "raw.githubusercontent.com"` (a selective domain
 *   the simulator writes for infected hosts, about 0.1% of lines);
 * - `prefilterIocSweep`: the same with 1,000 domains (the 3CX pack's IOC domains plus generated ones).
 *
 * Run directly (`node dist/bench/prefilter.js [file] [lines]`) it loads the first lines of the dataset into
 * memory and interleaves, best of 3: split + JSON.parse of every line (the baseline), `next()` alone over
 * the blocks, and the whole prefiltered loop; it prints GB/s and the ratio to the baseline.
 */
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { compileEql } from "../src/eql/index.js";
import type { EventRecord, JsonObject } from "../src/events/types.js";
import { type LinePrefilter, prefilterForEql } from "../src/prefilter/index.js";
import type { CompiledQuery } from "../src/query/index.js";

const BLOCK = 1 << 20;
const DOMAIN_QUERY = 'network where dns.question.name : "raw.githubusercontent.com"';

/** 1,000 domains: the pack's IOC domains, then generated look-alikes of real-world names. */
export async function iocDomains(count = 1000): Promise<string[]> {
  const csv = await readFile(
    join(import.meta.dirname, "..", "..", "packs", "3cx", "iocs", "domains.csv"),
    "utf8",
  );
  const out = new Set<string>();
  for (const line of csv.split("\n").slice(1)) {
    const [type, value] = line.split(",");
    if (type === "domain" && value) out.add(value);
  }
  const words = [
    "cloud",
    "update",
    "cdn",
    "secure",
    "login",
    "api",
    "azure",
    "office",
    "sync",
    "static",
    "mail",
  ];
  const tlds = ["com", "net", "org", "io", "info", "xyz", "ru", "top"];
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  while (out.size < count) {
    const a = words[rnd(words.length)];
    const b = words[rnd(words.length)];
    out.add(`${a}${b}${rnd(10000)}.${tlds[rnd(tlds.length)]}`);
  }
  return [...out];
}

export async function iocQuery(): Promise<string> {
  const domains = await iocDomains();
  return `network where dns.question.name : (${domains.map((d) => JSON.stringify(d)).join(", ")})`;
}

function eventOf(text: string, seq: number): EventRecord {
  return {
    source: JSON.parse(text) as JsonObject,
    raw: text,
    index: "bench",
    id: String(seq + 1),
    provenance: { file: "bench", line: seq + 1 },
    seq,
  };
}

/** Lines of buf[from, to) (whole lines only), counted without decoding. */
function countLines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let p = from;
  for (;;) {
    const nl = buf.indexOf(10, p);
    if (nl < 0 || nl >= to) return n;
    n++;
    p = nl + 1;
  }
}

/** Scans one block of whole lines; returns [lines, candidates, hits]. */
function scanBlock(
  buf: Buffer,
  end: number,
  pf: LinePrefilter,
  matches: (e: EventRecord) => boolean,
): [number, number, number] {
  let lines = 0;
  let candidates = 0;
  let hits = 0;
  let from = 0;
  while (from < end) {
    const hit = pf.next(buf, from, end);
    if (hit < 0) {
      lines += countLines(buf, from, end);
      break;
    }
    const lineStart = buf.lastIndexOf(10, hit - 1) + 1;
    lines += countLines(buf, from, lineStart);
    let nl = buf.indexOf(10, lineStart);
    if (nl < 0 || nl >= end) nl = end;
    lines++;
    if (pf.line(buf, lineStart, nl)) {
      candidates++;
      if (matches(eventOf(buf.toString("utf8", lineStart, nl), lines))) hits++;
    }
    from = nl + 1;
  }
  return [lines, candidates, hits];
}

/** Reads a file in 1 MiB blocks of whole lines and runs the prefiltered loop. */
async function prefilteredFile(
  file: string,
  query: CompiledQuery,
): Promise<{ events: number; hits: number }> {
  const pf = prefilterForEql((query as ReturnType<typeof compileEql>).query);
  const matches = query.matches;
  if (!pf || !matches) throw new Error("the bench query needs a prefilter and an event shape");
  const handle = await open(file, "r");
  let buf = Buffer.alloc(BLOCK);
  let carried = 0;
  let events = 0;
  let hits = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buf, carried, buf.length - carried);
      const filled = carried + bytesRead;
      if (filled === 0) break;
      // Whole lines only; the partial last line moves to the front of the next block.
      let end = bytesRead === 0 ? filled : buf.lastIndexOf(10, filled - 1) + 1;
      if (end === 0) {
        if (bytesRead === 0) end = filled;
        else {
          // A line longer than the block: grow it.
          const bigger = Buffer.alloc(buf.length * 2);
          buf.copy(bigger, 0, 0, filled);
          buf = bigger;
          carried = filled;
          continue;
        }
      }
      const [l, , h] = scanBlock(buf, end, pf, matches);
      events += l + (end === filled && bytesRead === 0 && buf[end - 1] !== 10 ? 1 : 0);
      hits += h;
      buf.copy(buf, 0, end, filled);
      carried = filled - end;
      if (bytesRead === 0) break;
    }
  } finally {
    await handle.close();
  }
  return { events, hits };
}

export async function prefilterDomain(file: string): Promise<{ events: number; hits: number }> {
  return prefilteredFile(file, compileEql(DOMAIN_QUERY));
}

export async function prefilterIocSweep(file: string): Promise<{ events: number; hits: number }> {
  return prefilteredFile(file, compileEql(await iocQuery()));
}

// ---------------------------------------------------------------------------------------------------
// In-memory comparison, interleaved (the machine is shared: ratios inside one process are what count).

async function loadBlocks(
  file: string,
  maxLines: number,
): Promise<{ blocks: Buffer[]; lines: number; bytes: number }> {
  const handle = await open(file, "r");
  const blocks: Buffer[] = [];
  let lines = 0;
  let bytes = 0;
  let position = 0;
  try {
    while (lines < maxLines) {
      const buf = Buffer.alloc(BLOCK);
      const { bytesRead } = await handle.read(buf, 0, BLOCK, position);
      if (bytesRead === 0) break;
      const end = buf.lastIndexOf(10, bytesRead - 1) + 1;
      if (end === 0) break;
      blocks.push(buf.subarray(0, end));
      lines += countLines(buf, 0, end);
      bytes += end;
      position += end;
    }
  } finally {
    await handle.close();
  }
  return { blocks, lines, bytes };
}

function time(fn: () => number): { seconds: number; result: number } {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, result };
}

async function main(): Promise<void> {
  const file =
    process.argv[2] ?? join(import.meta.dirname, "..", "..", ".bench-cache", "sim-2147483648.ndjson");
  const maxLines = Number(process.argv[3] ?? 200_000);
  const { blocks, lines, bytes } = await loadBlocks(file, maxLines);
  const queries: [string, CompiledQuery][] = [
    ["one domain", compileEql(DOMAIN_QUERY)],
    ["1,000 domains", compileEql(await iocQuery())],
  ];
  const baseline = () => {
    let n = 0;
    for (const b of blocks) {
      let s = 0;
      for (;;) {
        const nl = b.indexOf(10, s);
        if (nl < 0) break;
        JSON.parse(b.toString("utf8", s, nl));
        n++;
        s = nl + 1;
      }
    }
    return n;
  };
  const best: Record<string, number> = {};
  const results: Record<string, number> = {};
  const record = (name: string, fn: () => number) => {
    const r = time(fn);
    best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, r.seconds);
    results[name] = r.result;
  };
  for (let rep = 0; rep < 3; rep++) {
    record("baseline", baseline);
    for (const [name, q] of queries) {
      const pf = prefilterForEql((q as ReturnType<typeof compileEql>).query) as LinePrefilter;
      const matches = q.matches as (e: EventRecord) => boolean;
      record(`${name}: next()`, () => {
        let n = 0;
        for (const b of blocks) {
          let from = 0;
          for (;;) {
            const at = pf.next(b, from, b.length);
            if (at < 0) break;
            n++;
            const nl = b.indexOf(10, at);
            from = nl < 0 ? b.length : nl + 1;
          }
        }
        return n;
      });
      record(`${name}: prefiltered`, () => {
        let h = 0;
        for (const b of blocks) h += scanBlock(b, b.length, pf, matches)[2];
        return h;
      });
      record(`${name}: full parse + query`, () => {
        let h = 0;
        let seq = 0;
        for (const b of blocks) {
          let s = 0;
          for (;;) {
            const nl = b.indexOf(10, s);
            if (nl < 0) break;
            if (matches(eventOf(b.toString("utf8", s, nl), seq++))) h++;
            s = nl + 1;
          }
        }
        return h;
      });
    }
  }
  const base = best.baseline;
  process.stdout.write(`${lines} lines, ${(bytes / 1e6).toFixed(1)} MB in memory; best of 3\n`);
  for (const [name, seconds] of Object.entries(best)) {
    const gbs = bytes / seconds / 1e9;
    const evs = lines / seconds;
    process.stdout.write(
      `${name.padEnd(34)} ${gbs.toFixed(3).padStart(7)} GB/s ${(evs / 1e6).toFixed(2).padStart(7)} M events/s  x${(base / seconds).toFixed(1).padStart(5)} baseline  (result ${results[name]})\n`,
    );
  }
}

if (process.argv[1]?.endsWith("prefilter.js")) await main();
