// Where each provider's circuit-breaker state is kept.

export type BreakerPhase = 'closed' | 'open' | 'half_open';

export interface BreakerState {
  phase: BreakerPhase;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** When the breaker opened (ms since epoch); 0 when closed. */
  openedAtMs: number;
}

/** Circuit-breaker step: where each provider's breaker state is kept. */
export interface BreakerStateStore {
  get(provider: string): Promise<BreakerState>;
  put(provider: string, state: BreakerState): Promise<void>;
  all(): Promise<Record<string, BreakerState>>;
}
