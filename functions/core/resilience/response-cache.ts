// The response cache while its store is failing: a read is a miss and a write is skipped, in
// either failure mode. A cache outage costs provider calls, never a failed request.
import type { CachedCompletion, ResponseCache } from '../ports';
import type { StoreGuard } from '../store-guard';

export class ResilientResponseCache implements ResponseCache {
  constructor(
    private readonly shared: ResponseCache,
    private readonly guard: StoreGuard,
  ) {}

  get(key: string, nowMs: number): Promise<CachedCompletion | null> {
    return this.guard.run('cache.get', () => this.shared.get(key, nowMs)).catch(() => null);
  }

  set(key: string, value: CachedCompletion, ttlSeconds: number, nowMs: number): Promise<void> {
    return this.guard.run('cache.set', () => this.shared.set(key, value, ttlSeconds, nowMs)).catch(() => undefined);
  }
}
