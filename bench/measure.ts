/**
 * One bench row, run in its own process so peak RSS belongs to that row alone:
 *   node dist/bench/measure.js <row> <file> [json-args]
 * Prints one JSON line: {events, bytes, seconds, peakRssMb, hits?}.
 */
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { isMainThread, Worker } from "node:worker_threads";
import { rows } from "./rows.js";

export interface RowResult {
  events: number;
  bytes: number;
  seconds: number;
  peakRssMb: number;
  hits?: number;
}

export async function timeRow(
  fn: () => Promise<{ events: number; hits?: number }>,
  bytes: number,
): Promise<RowResult> {
  const started = process.hrtime.bigint();
  const { events, hits } = await fn();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { events, bytes, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, hits };
}

/** Raw read: 1 MiB chunks, nothing else. */
export async function rawRead(file: string): Promise<{ events: number }> {
  // Bytes only: nothing is decoded, so no events (the row reports MB/s).
  for await (const _chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    // read and drop
  }
  return { events: 0 };
}

/** The baseline every figure is compared with: split lines on Buffers, `JSON.parse` each. */
export async function parseOnly(file: string): Promise<{ events: number }> {
  return { events: await parseLines(file, 0, Number.POSITIVE_INFINITY) };
}

/**
 * The baseline's work split over `args.threads` workers (default 2), each parsing the lines of its own byte
 * range: what this machine gives to threads that share nothing. Its ratio to the one-thread baseline bounds
 * every multi-thread row here (issue 8 asks 1.7x of its two-thread rows).
 */
export async function parseOnlyThreads(
  file: string,
  args: Record<string, unknown>,
): Promise<{ events: number }> {
  const threads = typeof args.threads === "number" ? args.threads : 2;
  const { size } = await stat(file);
  // Cut just after a newline near each share's end, so every line falls in exactly one range.
  const cuts = [0];
  const handle = await open(file, "r");
  try {
    const probe = Buffer.alloc(1 << 20);
    for (let k = 1; k < threads; k++) {
      const at = Math.max(cuts[k - 1], Math.floor((size * k) / threads));
      const { bytesRead } = await handle.read(probe, 0, probe.length, at);
      const nl = probe.subarray(0, bytesRead).indexOf(10);
      cuts.push(nl < 0 ? size : at + nl + 1);
    }
  } finally {
    await handle.close();
  }
  cuts.push(size);
  const counts = await Promise.all(
    cuts.slice(0, -1).map(
      (start, k) =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(new URL("./parse-range.js", import.meta.url), {
            workerData: { file, start, end: cuts[k + 1] },
          });
          worker.once("message", (n: number) => resolve(n));
          worker.once("error", reject);
          // A worker that dies without an error event must not leave the row waiting forever.
          worker.once("exit", (code) => reject(new Error(`parse worker exited with code ${code}`)));
        }),
    ),
  );
  return { events: counts.reduce((a, b) => a + b, 0) };
}

/** Split the lines of file bytes [start, end) on Buffers and `JSON.parse` each; returns how many. */
export async function parseLines(file: string, from: number, to: number): Promise<number> {
  if (to <= from) return 0;
  let events = 0;
  let carry: Buffer | undefined;
  // (createReadStream's `end` is inclusive.)
  const range = Number.isFinite(to) ? { start: from, end: to - 1 } : { start: from };
  for await (const raw of createReadStream(file, { highWaterMark: 1 << 20, ...range })) {
    let chunk = raw as Buffer;
    if (carry) {
      chunk = Buffer.concat([carry, chunk]);
      carry = undefined;
    }
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (nl > start) {
        JSON.parse(chunk.toString("utf8", start, nl));
        events++;
      }
      start = nl + 1;
    }
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
  }
  if (carry && carry.length > 0) {
    JSON.parse(carry.toString("utf8"));
    events++;
  }
  return events;
}

async function main(): Promise<void> {
  const [row, file, args] = process.argv.slice(2);
  const fn = rows[row];
  if (!fn) throw new Error(`unknown bench row ${row}`);
  const { size } = await stat(file);
  const result = await timeRow(
    () => fn(file, args ? (JSON.parse(args) as Record<string, unknown>) : {}),
    size,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// (A worker of parseOnlyThreads imports this module with the same argv: only the process runs a row.)
if (isMainThread && process.argv[1]?.endsWith("measure.js")) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
