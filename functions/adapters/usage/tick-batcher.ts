/**
 * Collects what is added during one tick and hands it over as one batch on the next, so the
 * request that added it never waits; keeps track of deliveries in flight, so flush() (shutdown,
 * the end of a Lambda invocation) can wait until everything added so far is delivered.
 */
export class TickBatcher<T> {
  private pending: T[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  /** `deliver` must not reject: it deals with its own failures. */
  constructor(private readonly deliver: (batch: T[]) => Promise<void>) {}

  add(item: T): void {
    this.pending.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drainSoon);
    }
  }

  private readonly drainSoon = (): void => this.drain();

  private drain(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const p = this.deliver(batch).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  async flush(): Promise<void> {
    if (this.pending.length > 0) this.drain();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
