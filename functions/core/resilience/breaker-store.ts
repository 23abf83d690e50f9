// Circuit-breaker state while the shared store is failing: every state this instance reads or
// writes is also kept in process, and while the shared store is away the instance's own breaker
// decides. Nothing here rejects: a breaker-state outage must not fail a request.
import type { BreakerState, BreakerStateStore } from '../ports';
import type { StoreGuard } from '../store-guard';

export class ResilientBreakerStore implements BreakerStateStore {
  constructor(
    private readonly shared: BreakerStateStore,
    /** This instance's own copy (a memory store). */
    private readonly local: BreakerStateStore,
    private readonly guard: StoreGuard,
  ) {}

  async get(provider: string): Promise<BreakerState> {
    try {
      const state = await this.guard.run('breaker.get', () => this.shared.get(provider));
      await this.local.put(provider, state);
      return state;
    } catch {
      return this.local.get(provider);
    }
  }

  async put(provider: string, state: BreakerState): Promise<void> {
    await this.local.put(provider, state);
    await this.guard.run('breaker.put', () => this.shared.put(provider, state)).catch(() => undefined);
  }

  async all(): Promise<Record<string, BreakerState>> {
    try {
      return await this.guard.run('breaker.all', () => this.shared.all());
    } catch {
      return this.local.all();
    }
  }
}
