/**
 * `| head N`, `| tail N` and the request `size` (applied last, from the head or the tail as
 * `resultPosition` says), applied in order over the stream of results. Elasticsearch folds them into one
 * limit with an offset (its `CombineLimits` rule); applying them one after the other gives the same
 * slice. Memory is bounded by the first limit: a leading `head N` keeps N results and stops, a leading
 * `tail N` keeps a ring of the last N.
 */
export interface LimitStep {
  readonly from: "head" | "tail";
  readonly count: number;
}

export class Limiter<T> {
  private readonly first: LimitStep | undefined;
  private readonly rest: readonly LimitStep[];
  /** All steps are heads: results stream out until the smallest count is reached. */
  private readonly streamingLimit: number | undefined;
  private readonly buffer: T[] = [];
  private emitted = 0;

  constructor(steps: readonly LimitStep[]) {
    this.first = steps[0];
    this.rest = steps.slice(1);
    this.streamingLimit = steps.every((s) => s.from === "head")
      ? steps.reduce((min, s) => Math.min(min, s.count), Number.POSITIVE_INFINITY)
      : undefined;
  }

  /** True when no further result can be emitted (a head limit is reached). */
  get done(): boolean {
    if (this.streamingLimit !== undefined) return this.emitted >= this.streamingLimit;
    return this.first?.from === "head" && this.buffer.length >= this.first.count;
  }

  /** Offer results; returns those that can be emitted now. */
  push(items: readonly T[]): T[] {
    if (items.length === 0) return [];
    if (this.streamingLimit !== undefined) {
      const room = this.streamingLimit - this.emitted;
      if (room <= 0) return [];
      const out = items.length <= room ? [...items] : items.slice(0, room);
      this.emitted += out.length;
      return out;
    }
    const first = this.first as LimitStep;
    for (const item of items) {
      if (first.from === "head") {
        if (this.buffer.length < first.count) this.buffer.push(item);
      } else {
        this.buffer.push(item);
        // Trim in batches so a tail stays O(1) per result.
        if (this.buffer.length > 2 * first.count + 1024)
          this.buffer.splice(0, this.buffer.length - first.count);
      }
    }
    return [];
  }

  /** End of results: what is left to emit. */
  finish(): T[] {
    if (this.streamingLimit !== undefined) return [];
    let list = this.buffer.splice(0);
    const first = this.first as LimitStep;
    if (first.from === "tail") list = list.slice(Math.max(0, list.length - first.count));
    for (const step of this.rest) {
      list =
        step.from === "head" ? list.slice(0, step.count) : list.slice(Math.max(0, list.length - step.count));
    }
    return list;
  }
}
