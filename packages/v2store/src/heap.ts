/** Something the TTL heap can hold: it remembers its own position for O(log n) removal. */
export interface HeapItem {
  heapPos: number;
  expireTime: number | undefined;
  path: string;
}

/**
 * A binary min-heap of nodes with a TTL, ordered by expiration and then by
 * path so that the expiry order is a pure function of the store's state (Go's
 * heap breaks ties by insertion history; any total order works as long as
 * every member uses the same one).
 */
export class TtlHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.heapPos = this.items.length;
    this.items.push(item);
    this.up(item.heapPos);
  }

  remove(item: T): void {
    const i = item.heapPos;
    if (i < 0 || this.items[i] !== item) return;
    const last = this.items.pop()!;
    item.heapPos = -1;
    if (i < this.items.length) {
      this.items[i] = last;
      last.heapPos = i;
      this.down(i);
      this.up(last.heapPos);
    }
  }

  /** Re-positions an item whose expiration changed (or pushes it if absent). */
  update(item: T): void {
    if (item.heapPos < 0 || this.items[item.heapPos] !== item) {
      this.push(item);
      return;
    }
    this.down(item.heapPos);
    this.up(item.heapPos);
  }

  private less(a: T, b: T): boolean {
    const ea = a.expireTime ?? 0;
    const eb = b.expireTime ?? 0;
    if (ea !== eb) return ea < eb;
    return a.path < b.path;
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    a.heapPos = j;
    b.heapPos = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.items[i]!, this.items[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      const r = l + 1;
      if (r < n && this.less(this.items[r]!, this.items[l]!)) m = r;
      if (!this.less(this.items[m]!, this.items[i]!)) break;
      this.swap(i, m);
      i = m;
    }
  }
}
