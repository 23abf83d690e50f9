// Rate limits: requests and tokens per tenant per minute.

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/**
 * Rate-limit step, in fixed one-minute windows shared by every instance using the same backend.
 * Requests are counted exactly (admitted atomically up to the limit); tokens are known only after
 * a call, so a request is admitted while the window's spent tokens are under the limit and its
 * tokens are added when it ends.
 */
export interface RateLimiter {
  consumeRequest(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision>;
  checkTokens(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision>;
  addTokens(tenantId: string, tokens: number, nowMs: number): Promise<void>;
}
