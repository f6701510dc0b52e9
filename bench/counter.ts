/** The bench rows' consumer of a query run: counts the events it is fed and the hits they give. */
import type { EventRecord } from "../src/events/index.js";
import type { QueryRun } from "../src/query/index.js";

export class HitCounter {
  events = 0;
  hits = 0;
  constructor(readonly run: QueryRun) {}
  push(batch: readonly EventRecord[]): void {
    this.events += batch.length;
    for (let i = 0; i < batch.length; i++) {
      const h = this.run.push(batch[i]);
      if (h) this.hits += h.length;
    }
  }
  /** End of input: adds the hits only the end decides and returns the totals. */
  finish(): { events: number; hits: number } {
    this.hits += this.run.finish().length;
    return { events: this.events, hits: this.hits };
  }
}
