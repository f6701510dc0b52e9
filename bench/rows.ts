/** The bench rows: each reads the dataset once and reports events (and hits where it searches). */
import { readEvents } from "../src/events/index.js";
import { parseOnly, rawRead } from "./measure.js";

export type Row = (file: string, args: Record<string, unknown>) => Promise<{ events: number; hits?: number }>;

async function reader(file: string): Promise<{ events: number }> {
  const stream = readEvents([file], { timestamps: "check" });
  let events = 0;
  for await (const batch of stream) events += batch.length;
  return { events };
}

export const rows: Record<string, Row> = {
  "raw-read": rawRead,
  "parse-only": parseOnly,
  reader,
};
