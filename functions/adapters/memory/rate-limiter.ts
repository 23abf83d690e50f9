import type { RateLimitDecision, RateLimiter } from '../../core/ports';

const WINDOW_MS = 60_000;

/**
 * Fixed one-minute windows per tenant, counted in process. Exact for one instance; shared
 * backends implement the same port for several.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly tokens = new Map<string, { start: number; count: number }>();

  async checkTokens(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    const start = nowMs - (nowMs % WINDOW_MS);
    const w = this.tokens.get(tenantId);
    const used = w && w.start === start ? w.count : 0;
    return { allowed: used < limitPerMinute, limit: limitPerMinute, remaining: Math.max(0, limitPerMinute - used), resetMs: start + WINDOW_MS - nowMs };
  }

  async addTokens(tenantId: string, tokens: number, nowMs: number): Promise<void> {
    const start = nowMs - (nowMs % WINDOW_MS);
    const w = this.tokens.get(tenantId);
    if (!w || w.start !== start) this.tokens.set(tenantId, { start, count: tokens });
    else w.count += tokens;
  }

  async consumeRequest(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    const start = nowMs - (nowMs % WINDOW_MS);
    let w = this.windows.get(tenantId);
    if (!w || w.start !== start) {
      w = { start, count: 0 };
      this.windows.set(tenantId, w);
    }
    const resetMs = start + WINDOW_MS - nowMs;
    if (w.count >= limitPerMinute) return { allowed: false, limit: limitPerMinute, remaining: 0, resetMs };
    w.count += 1;
    return { allowed: true, limit: limitPerMinute, remaining: limitPerMinute - w.count, resetMs };
  }
}
