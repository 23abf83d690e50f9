// Breaker state read through a short in-process cache: a shared store (DynamoDB, Redis) is asked
// at most once per provider per TTL, not on every request; this instance's own writes are seen
// at once, other instances' within the TTL.
import type { BreakerState, BreakerStateStore } from './ports';

export class CachedBreakerStore implements BreakerStateStore {
  private readonly cached = new Map<string, { state: BreakerState; readAtMs: number }>();

  constructor(
    private readonly inner: BreakerStateStore,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async get(provider: string): Promise<BreakerState> {
    const hit = this.cached.get(provider);
    if (hit && this.now() - hit.readAtMs < this.ttlMs) return hit.state;
    const state = await this.inner.get(provider);
    this.cached.set(provider, { state, readAtMs: this.now() });
    return state;
  }

  async put(provider: string, state: BreakerState): Promise<void> {
    this.cached.set(provider, { state, readAtMs: this.now() });
    await this.inner.put(provider, state);
  }

  all(): Promise<Record<string, BreakerState>> {
    return this.inner.all();
  }
}
