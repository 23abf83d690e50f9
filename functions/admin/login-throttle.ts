// Failed-login throttling, per source address and per (username, source address). Never per
// username alone: that would let anyone lock an admin out by failing five logins as them.
//
// - (username, address): after `maxFailures` failures within `windowMs`, that pair gets 429 until
//   the oldest of those failures leaves the window. The same admin elsewhere is unaffected.
// - address: after `maxFailuresPerAddress` failures (any usernames) within the window, every
//   login from it gets 429: guesses spread over many usernames are throttled too. It is higher
//   than the pair limit so a few admins behind one NAT can each mistype a few times.
// A success clears its pair's counter, not the address's: one valid account must not let an
// address reset its guessing budget for other accounts. An unknown address ('') is one bucket.
//
// State lives in memory, per process / Lambda instance: an attacker spread over several warm
// instances gets up to the limits per instance per window. That is a speed bump for online
// guessing, on top of scrypt's cost, not a global lockout.

export interface ThrottleOptions {
  /** Failures per (username, address) in the window before that pair is refused. */
  maxFailures?: number;
  /** Failures per address, whatever the usernames, in the window before it is refused. */
  maxFailuresPerAddress?: number;
  windowMs?: number;
  /** Upper bound on tracked keys, so random usernames cannot grow memory without end. */
  maxEntries?: number;
}

export type ThrottleDecision = { blocked: false } | { blocked: true; retryAfterSeconds: number };

export class LoginThrottle {
  readonly maxFailures: number;
  readonly maxFailuresPerAddress: number;
  readonly windowMs: number;
  private readonly maxEntries: number;
  /** key → failure times (ms), oldest first, at most that key's limit of them. */
  private readonly failures = new Map<string, number[]>();

  constructor(opts: ThrottleOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.maxFailuresPerAddress = opts.maxFailuresPerAddress ?? 20;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Whether an attempt for `username` from `address` may proceed now. */
  check(username: string, address: string, nowMs: number): ThrottleDecision {
    let until = 0;
    for (const [key, limit] of this.keysOf(username, address)) until = Math.max(until, this.blockedUntil(key, limit, nowMs));
    if (until <= nowMs) return { blocked: false };
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((until - nowMs) / 1000)) };
  }

  recordFailure(username: string, address: string, nowMs: number): void {
    for (const [key, limit] of this.keysOf(username, address)) {
      const times = this.recent(key, nowMs);
      times.push(nowMs);
      if (times.length > limit) times.splice(0, times.length - limit);
      this.failures.delete(key); // re-insert: Map order doubles as least-recently-failed order
      this.failures.set(key, times);
    }
    this.evict(nowMs);
  }

  recordSuccess(username: string, address: string): void {
    this.failures.delete(pairKey(username, address));
  }

  private keysOf(username: string, address: string): Array<[string, number]> {
    return [
      [pairKey(username, address), this.maxFailures],
      [`addr:${address}`, this.maxFailuresPerAddress],
    ];
  }

  private recent(key: string, nowMs: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => nowMs - t < this.windowMs);
  }

  private blockedUntil(key: string, limit: number, nowMs: number): number {
    const times = this.recent(key, nowMs);
    if (times.length < limit) return 0;
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

// JSON keeps any username/address pair distinct (no separator a username could contain).
const pairKey = (username: string, address: string): string => `pair:${JSON.stringify([username, address])}`;
