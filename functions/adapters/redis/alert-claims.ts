import type { Redis } from 'ioredis';
import { newestClaimsFirst } from '../../core/budget-alerts';
import type { AlertClaimRecord, AlertClaims } from '../../core/ports';

/** A claim outlives its month. */
const KEEP_SECONDS = 45 * 24 * 3600;

/**
 * Sent budget alerts in Redis: SET NX, so of any number of aggregators exactly one sends each. The
 * winner then notes the claim in a per-tenant hash, which listing reads without scanning keys
 * (a separate write: should it fail, the claim still holds and only the listing misses it).
 */
export class RedisAlertClaims implements AlertClaims {
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; now?: () => number } = {},
  ) {
    this.prefix = opts.prefix ?? 'gw:';
    this.now = opts.now ?? Date.now;
  }

  private key(tenantId: string, period: string, thresholdPct: number): string {
    return `${this.prefix}alert:${tenantId}:${period}:${thresholdPct}`;
  }

  private index(tenantId: string): string {
    return `${this.prefix}alerts:${tenantId}`;
  }

  async claim(tenantId: string, period: string, thresholdPct: number): Promise<boolean> {
    const at = new Date(this.now()).toISOString();
    if ((await this.redis.set(this.key(tenantId, period, thresholdPct), at, 'EX', KEEP_SECONDS, 'NX')) !== 'OK') return false;
    const index = this.index(tenantId);
    // The claim is taken whatever happens to the note: failing here would leave it taken and unsent.
    await this.redis
      .pipeline()
      .hset(index, `${period}:${thresholdPct}`, at)
      .expire(index, KEEP_SECONDS)
      .exec()
      .catch(() => undefined);
    return true;
  }

  async release(tenantId: string, period: string, thresholdPct: number): Promise<void> {
    await this.redis.del(this.key(tenantId, period, thresholdPct));
    await this.redis.hdel(this.index(tenantId), `${period}:${thresholdPct}`);
  }

  async list(tenantId: string, limit: number): Promise<AlertClaimRecord[]> {
    const index = await this.redis.hgetall(this.index(tenantId));
    const claims = Object.entries(index).map(([field, at]): AlertClaimRecord => {
      const cut = field.lastIndexOf(':');
      return { period: field.slice(0, cut), threshold_pct: Number(field.slice(cut + 1)), claimed_at: at };
    });
    return newestClaimsFirst(claims).slice(0, limit);
  }
}
