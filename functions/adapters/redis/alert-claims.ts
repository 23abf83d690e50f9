import type { Redis } from 'ioredis';
import type { AlertClaims } from '../../core/ports';

/** A claim outlives its month. */
const KEEP_SECONDS = 45 * 24 * 3600;

/** Sent budget alerts in Redis: SET NX, so of any number of aggregators exactly one sends each. */
export class RedisAlertClaims implements AlertClaims {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string } = {},
  ) {
    this.prefix = opts.prefix ?? 'gw:';
  }

  private key(tenantId: string, period: string, thresholdPct: number): string {
    return `${this.prefix}alert:${tenantId}:${period}:${thresholdPct}`;
  }

  async claim(tenantId: string, period: string, thresholdPct: number): Promise<boolean> {
    return (await this.redis.set(this.key(tenantId, period, thresholdPct), new Date().toISOString(), 'EX', KEEP_SECONDS, 'NX')) === 'OK';
  }

  async release(tenantId: string, period: string, thresholdPct: number): Promise<void> {
    await this.redis.del(this.key(tenantId, period, thresholdPct));
  }
}
