/**
 * A binary min-heap of scheduled items ordered by time, then by insertion order, so equal-time items keep
 * the order they were scheduled in (what makes the output deterministic and each activity's events stay in
 * the order they were written).
 */
export interface Scheduled {
  readonly t: number;
  readonly seq: number;
}

export class TimeHeap<T extends Scheduled> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, a[parent])) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(a[r], a[l]) ? r : l;
      if (!before(a[c], last)) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function before(x: Scheduled, y: Scheduled): boolean {
  return x.t < y.t || (x.t === y.t && x.seq < y.seq);
}
