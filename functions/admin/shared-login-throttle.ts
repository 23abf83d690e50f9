// Failed-login counts shared by every instance (Lambda instances behind one API), over the
// gateway's existing RateLimiter port (DynamoDB or Redis), so an attacker spread over warm
// instances meets the same limits. The port counts in fixed one-minute windows, so the shared
// limits are per minute; the in-process LoginThrottle (five-minute sliding window) still applies
// on top. A success cannot reset a shared count: it simply expires with its minute.
import { createHash } from 'node:crypto';
import type { Logger } from '../core/logger';
import type { RateLimiter } from '../core/ports';
import { LoginThrottle, type ThrottleDecision } from './login-throttle';

/** What authenticate() needs: this instance's counts (inProcessThrottle) or every instance's (SharedLoginThrottle). */
export interface LoginThrottlePort {
  check(username: string, address: string, nowMs: number): Promise<ThrottleDecision>;
  recordFailure(username: string, address: string, nowMs: number): Promise<void>;
  recordSuccess(username: string, address: string): Promise<void>;
}

/** The in-process counts as the port: nothing to wait for, answered at once. */
export function inProcessThrottle(local: LoginThrottle = new LoginThrottle()): LoginThrottlePort {
  return {
    check: async (username, address, nowMs) => local.check(username, address, nowMs),
    recordFailure: async (username, address, nowMs) => local.recordFailure(username, address, nowMs),
    recordSuccess: async (username, address) => local.recordSuccess(username, address),
  };
}

export class SharedLoginThrottle implements LoginThrottlePort {
  constructor(
    private readonly shared: RateLimiter,
    private readonly local: LoginThrottle,
    private readonly logger: Logger,
  ) {}

  async check(username: string, address: string, nowMs: number): Promise<ThrottleDecision> {
    const local = this.local.check(username, address, nowMs);
    let retryAfterMs = local.blocked ? local.retryAfterSeconds * 1000 : 0;
    try {
      for (const [key, limit] of this.keysOf(username, address)) {
        const d = await this.shared.checkTokens(key, limit, nowMs);
        if (!d.allowed) retryAfterMs = Math.max(retryAfterMs, d.resetMs);
      }
    } catch (err) {
      // The store is away: this instance's own counts still decide.
      this.logger.warn('login throttle store failed; counting per instance', { error: (err as Error).message });
    }
    return retryAfterMs > 0 ? { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) } : { blocked: false };
  }

  async recordFailure(username: string, address: string, nowMs: number): Promise<void> {
    this.local.recordFailure(username, address, nowMs);
    try {
      await Promise.all(this.keysOf(username, address).map(([key]) => this.shared.addTokens(key, 1, nowMs)));
    } catch (err) {
      this.logger.warn('login throttle store failed; counting per instance', { error: (err as Error).message });
    }
  }

  async recordSuccess(username: string, address: string): Promise<void> {
    this.local.recordSuccess(username, address);
  }

  /**
   * Store keys: hashed, so a 4 KB "username" cannot exceed a key size limit; the ':' keeps them
   * apart from tenant ids, which are [a-z0-9-].
   */
  private keysOf(username: string, address: string): Array<[string, number]> {
    const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
    return [
      [`login-pair:${h(JSON.stringify([username, address]))}`, this.local.maxFailures],
      [`login-addr:${h(address)}`, this.local.maxFailuresPerAddress],
    ];
  }
}
