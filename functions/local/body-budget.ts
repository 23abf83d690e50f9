// A process-wide bound on the bytes of request bodies held in memory at once. MAX_BODY_BYTES
// bounds one body; without this, many clients each sending a large body slowly (or stalling
// just before the end) could make the process buffer hundreds of MiB and keep it.

export class BodyBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  /** Takes n bytes; false (nothing taken) when that would go over the capacity. */
  take(n: number): boolean {
    if (this.used + n > this.capacity) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  inUse(): number {
    return this.used;
  }
}

/** The default capacity: room for several maximal bodies, and never below 64 MiB. */
export const defaultBodyBudget = (maxBodyBytes: number): number => Math.max(4 * maxBodyBytes, 64 * 1024 * 1024);
