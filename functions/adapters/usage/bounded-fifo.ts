/**
 * A first-in first-out buffer of at most `capacity` items, where making room evicts the oldest.
 * Backed by one array and a head index, so taking from the front is O(1) amortised even with
 * 100,000 items (Array#shift would copy the rest each time).
 */
export class BoundedFifo<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds at the back; returns what was evicted from the front to stay within capacity. */
  push(added: readonly T[]): T[] {
    for (const item of added) this.items.push(item);
    return this.evict();
  }

  /** Up to `n` items from the front, removed. */
  take(n: number): T[] {
    this.compact();
    const out = this.items.slice(this.head, this.head + n);
    this.head += out.length;
    return out;
  }

  /** Puts items taken earlier back at the front, in order; returns what had to be evicted. */
  putBack(taken: readonly T[]): T[] {
    if (taken.length === 0) return [];
    if (this.head >= taken.length) {
      this.head -= taken.length;
      for (let i = 0; i < taken.length; i++) this.items[this.head + i] = taken[i] as T;
    } else {
      this.items = [...taken, ...this.items.slice(this.head)];
      this.head = 0;
    }
    return this.evict();
  }

  /** Everything, removed. */
  drain(): T[] {
    return this.take(this.size);
  }

  private evict(): T[] {
    const over = this.size - this.capacity;
    return over > 0 ? this.take(over) : [];
  }

  /** Drops the consumed prefix once it is most of the array. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
