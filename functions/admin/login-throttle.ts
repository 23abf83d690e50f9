// Failed-login throttling, per username and per source IP: after `maxFailures` failures within
// `windowMs`, further attempts for that username or from that IP get 429 until the oldest of
// those failures leaves the window. A success clears the username's counter (not the IP's: one
// valid account must not let an IP reset its own guessing budget for other accounts).
//
// State lives in memory, per process / Lambda instance: an attacker spread over several warm
// instances gets up to `maxFailures` per instance per window. That is a speed bump for online
// guessing, on top of scrypt's cost, not a global lockout; a shared store could replace it.

export interface ThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  /** Upper bound on tracked usernames + IPs, so random usernames cannot grow memory without end. */
  maxEntries?: number;
}

export type ThrottleDecision = { blocked: false } | { blocked: true; retryAfterSeconds: number };

export class LoginThrottle {
  readonly maxFailures: number;
  readonly windowMs: number;
  private readonly maxEntries: number;
  /** key → failure times (ms), oldest first, at most maxFailures of them. */
  private readonly failures = new Map<string, number[]>();

  constructor(opts: ThrottleOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Whether an attempt for `username` from `ip` may proceed now. An empty ip is not tracked. */
  check(username: string, ip: string, nowMs: number): ThrottleDecision {
    let until = 0;
    for (const key of keysOf(username, ip)) until = Math.max(until, this.blockedUntil(key, nowMs));
    if (until <= nowMs) return { blocked: false };
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((until - nowMs) / 1000)) };
  }

  recordFailure(username: string, ip: string, nowMs: number): void {
    for (const key of keysOf(username, ip)) {
      const times = this.recent(key, nowMs);
      times.push(nowMs);
      if (times.length > this.maxFailures) times.splice(0, times.length - this.maxFailures);
      this.failures.delete(key); // re-insert: Map order doubles as least-recently-failed order
      this.failures.set(key, times);
    }
    this.evict(nowMs);
  }

  recordSuccess(username: string): void {
    this.failures.delete(`user:${username}`);
  }

  private recent(key: string, nowMs: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => nowMs - t < this.windowMs);
  }

  private blockedUntil(key: string, nowMs: number): number {
    const times = this.recent(key, nowMs);
    if (times.length < this.maxFailures) return 0;
    // Blocked until the failure that completed the count (the oldest kept) leaves the window.
    return (times[0] as number) + this.windowMs;
  }

  private evict(nowMs: number): void {
    if (this.failures.size <= this.maxEntries) return;
    for (const [key, times] of this.failures) {
      if (times.every((t) => nowMs - t >= this.windowMs)) this.failures.delete(key);
    }
    // Still full of live entries: drop the least recently failing ones.
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.maxEntries) break;
      this.failures.delete(key);
    }
  }
}

function keysOf(username: string, ip: string): string[] {
  return ip === '' ? [`user:${username}`] : [`user:${username}`, `ip:${ip}`];
}
