import type { BreakerState, BreakerStateStore } from '../../core/ports';
import { CLOSED } from '../../core/breaker';

export class MemoryBreakerStore implements BreakerStateStore {
  private readonly states = new Map<string, BreakerState>();

  async get(provider: string): Promise<BreakerState> {
    return this.states.get(provider) ?? CLOSED;
  }

  async put(provider: string, state: BreakerState): Promise<void> {
    this.states.set(provider, state);
  }

  async all(): Promise<Record<string, BreakerState>> {
    return Object.fromEntries(this.states);
  }
}
