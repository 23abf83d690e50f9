import type { BreakerSettings } from '../config';
import type { BreakerPhase, BreakerState, BreakerStateStore } from './ports';

/** How a call was let through: normally, or as one of the half-open state's probes. */
export type Admission = 'normal' | 'probe' | 'rejected';

export const CLOSED: BreakerState = { phase: 'closed', consecutiveFailures: 0, consecutiveSuccesses: 0, openedAtMs: 0 };

/**
 * Per-provider circuit breaker: closed → open after `failure_threshold` consecutive provider
 * faults; open → half-open after `open_seconds`; half-open admits up to `success_threshold`
 * probes at a time and closes after that many successes, or re-opens on the first failure.
 */
export class CircuitBreaker {
  /** Probes in flight per provider while half-open (in-process: each instance probes on its own). */
  private readonly probes = new Map<string, number>();

  constructor(
    private readonly store: BreakerStateStore,
    private readonly settings: BreakerSettings,
    /** Told of every phase change (the breaker-state gauge listens here). */
    private readonly onPhase: (provider: string, phase: BreakerPhase) => void = () => {},
  ) {}

  private async save(provider: string, before: BreakerState, after: BreakerState): Promise<void> {
    await this.store.put(provider, after);
    if (before.phase !== after.phase) this.onPhase(provider, after.phase);
  }

  /** Whether a call to the provider may go ahead now; moves open → half-open when it is time. */
  async admit(provider: string, nowMs: number): Promise<Admission> {
    let state = await this.store.get(provider);
    if (state.phase === 'open') {
      if (nowMs - state.openedAtMs < this.settings.open_seconds * 1000) return 'rejected';
      const halfOpen: BreakerState = { ...state, phase: 'half_open', consecutiveSuccesses: 0 };
      await this.save(provider, state, halfOpen);
      state = halfOpen;
    }
    if (state.phase === 'half_open') {
      const inFlight = this.probes.get(provider) ?? 0;
      if (inFlight >= this.settings.success_threshold) return 'rejected';
      this.probes.set(provider, inFlight + 1);
      return 'probe';
    }
    return 'normal';
  }

  async recordSuccess(provider: string, admission: Admission): Promise<void> {
    this.release(provider, admission);
    const state = await this.store.get(provider);
    if (state.phase === 'closed') {
      if (state.consecutiveFailures !== 0) await this.save(provider, state, CLOSED);
      return;
    }
    // Only half-open probes can close the breaker; calls let through before it opened that
    // succeed late say nothing about the provider's health now.
    if (state.phase === 'open' || admission !== 'probe') return;
    const successes = state.consecutiveSuccesses + 1;
    await this.save(provider, state, successes >= this.settings.success_threshold ? CLOSED : { ...state, consecutiveSuccesses: successes });
  }

  async recordFailure(provider: string, admission: Admission, nowMs: number): Promise<void> {
    this.release(provider, admission);
    const state = await this.store.get(provider);
    if (state.phase === 'open') return; // already open: a late failure must not extend the open time
    const failures = state.consecutiveFailures + 1;
    const open = state.phase === 'half_open' || failures >= this.settings.failure_threshold;
    await this.save(
      provider,
      state,
      open ? { phase: 'open', consecutiveFailures: failures, consecutiveSuccesses: 0, openedAtMs: nowMs } : { ...state, consecutiveFailures: failures },
    );
  }

  /** A call that ended without telling anything about the provider (e.g. the client's own 400). */
  release(provider: string, admission: Admission): void {
    if (admission !== 'probe') return;
    const n = this.probes.get(provider) ?? 0;
    if (n <= 1) this.probes.delete(provider);
    else this.probes.set(provider, n - 1);
  }

  async phases(): Promise<Record<string, BreakerPhase>> {
    const all = await this.store.all();
    return Object.fromEntries(Object.entries(all).map(([name, s]) => [name, s.phase]));
  }
}
