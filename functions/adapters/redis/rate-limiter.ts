// Rate limits in Redis, one counter per tenant and fixed one-minute window:
// <prefix>rl:<tenant>:<window start ms>:req and ...:tok. The request check-and-increment runs as
// one Lua script, which Redis executes atomically, so concurrent clients admit exactly the limit.
import type { Redis } from 'ioredis';
import type { RateLimitDecision, RateLimiter } from '../../core/ports';

const WINDOW_MS = 60_000;
/** Counters outlive their window by one more; the window start in the key keeps windows apart. */
const KEEP_MS = 2 * WINDOW_MS;

// KEYS[1] counter; ARGV[1] limit, ARGV[2] expiry ms. Returns {admitted 0|1, count after}.
const CONSUME = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then return {0, count} end
count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, count}
`;

export interface RedisRateLimiterOptions {
  /** Prepended to every key, so several gateways (or tests) can share one Redis. */
  prefix?: string;
}

export class RedisRateLimiter implements RateLimiter {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisRateLimiterOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'gw:';
  }

  private window(tenantId: string, nowMs: number): { key: string; resetMs: number } {
    const start = nowMs - (nowMs % WINDOW_MS);
    return { key: `${this.prefix}rl:${tenantId}:${start}`, resetMs: start + WINDOW_MS - nowMs };
  }

  async consumeRequest(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    const { key, resetMs } = this.window(tenantId, nowMs);
    const out = await this.redis.eval(CONSUME, 1, `${key}:req`, limitPerMinute, KEEP_MS);
    if (!Array.isArray(out) || out.length !== 2) throw new Error('unexpected reply from the rate-limit script');
    const [admitted, count] = out.map(Number) as [number, number];
    return { allowed: admitted === 1, limit: limitPerMinute, remaining: admitted === 1 ? Math.max(0, limitPerMinute - count) : 0, resetMs };
  }

  async checkTokens(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    const { key, resetMs } = this.window(tenantId, nowMs);
    const used = Number((await this.redis.get(`${key}:tok`)) ?? 0);
    return { allowed: used < limitPerMinute, limit: limitPerMinute, remaining: Math.max(0, limitPerMinute - used), resetMs };
  }

  async addTokens(tenantId: string, tokens: number, nowMs: number): Promise<void> {
    const key = `${this.window(tenantId, nowMs).key}:tok`;
    // MULTI: both commands in one round trip, and the counter never lives without an expiry.
    const out = await this.redis.multi().incrby(key, tokens).pexpire(key, KEEP_MS).exec();
    const failed = out?.find(([err]) => err !== null);
    if (out === null || failed) throw failed?.[0] ?? new Error('the token counter transaction was aborted');
  }
}
