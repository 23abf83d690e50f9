// functions/core/resilience — what each step does while its shared store fails: one wrapper per port
// (rate limits, response cache, breaker state, budget ledger, usage reader) over the store's guard
// (store-guard.ts), in the open or closed mode STORE_FAILURE_MODE sets. The steps' own rules stay in
// their core modules; only the outage behaviour is here.
//
// Rate limits while the shared store is failing. Open mode admits, counting in this instance
// meanwhile (each instance then enforces the whole limit on its own: a per-instance share of the
// limit is better than none); closed mode refuses limited tenants with 503 store_unavailable.
import type { StoreFailureMode } from '../../config';
import { storeUnavailable } from '../errors';
import type { RateLimitDecision, RateLimiter } from '../ports';
import { StoreUnavailableError, type StoreGuard } from '../store-guard';

export class ResilientRateLimiter implements RateLimiter {
  constructor(
    private readonly shared: RateLimiter,
    /** Counts in process while the shared store is away (a memory limiter). */
    private readonly local: RateLimiter,
    private readonly guard: StoreGuard,
    private readonly mode: StoreFailureMode,
  ) {}

  consumeRequest(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    return this.guard
      .run('rate_limit.consume', () => this.shared.consumeRequest(tenantId, limitPerMinute, nowMs))
      .catch((err: unknown) => this.degrade(err, () => this.local.consumeRequest(tenantId, limitPerMinute, nowMs)));
  }

  checkTokens(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    return this.guard
      .run('rate_limit.check_tokens', () => this.shared.checkTokens(tenantId, limitPerMinute, nowMs))
      .catch((err: unknown) => this.degrade(err, () => this.local.checkTokens(tenantId, limitPerMinute, nowMs)));
  }

  /** Tokens a request used: to the shared window, or to this instance's while the store is away. */
  addTokens(tenantId: string, tokens: number, nowMs: number): Promise<void> {
    return this.guard
      .run('rate_limit.add_tokens', () => this.shared.addTokens(tenantId, tokens, nowMs))
      .catch((err: unknown) => {
        if (!(err instanceof StoreUnavailableError)) throw err;
        return this.local.addTokens(tenantId, tokens, nowMs);
      });
  }

  private degrade(err: unknown, local: () => Promise<RateLimitDecision>): Promise<RateLimitDecision> {
    if (!(err instanceof StoreUnavailableError)) throw err;
    if (this.mode === 'closed') throw storeUnavailable();
    return local();
  }
}
