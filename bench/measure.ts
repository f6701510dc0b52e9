/**
 * One bench row, run in its own process so peak RSS belongs to that row alone:
 *   node dist/bench/measure.js <row> <file> [json-args]
 * Prints one JSON line: {events, bytes, seconds, peakRssMb, hits?}.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
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
  let events = 0;
  let carry: Buffer | undefined;
  for await (const raw of createReadStream(file, { highWaterMark: 1 << 20 })) {
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
  return { events };
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

if (process.argv[1]?.endsWith("measure.js")) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
