// The degradation wrappers of core/resilience, over real memory stores behind an outage switch
// (the contract tests do the same with a real redis-server and dynalite): what each returns or
// throws while its shared store fails, in open and closed mode, and that they use the shared
// store again once it answers.
import { MemoryBreakerStore } from '../../functions/adapters/memory/breaker-store';
import { MemoryRateLimiter } from '../../functions/adapters/memory/rate-limiter';
import { MemoryResponseCache } from '../../functions/adapters/memory/response-cache';
import { MemoryUsageStore } from '../../functions/adapters/memory/usage';
import { GatewayError, toGatewayError } from '../../functions/core/errors';
import { silentLogger } from '../../functions/core/logger';
import type { BreakerState, CachedCompletion } from '../../functions/core/ports';
import { ResilientBreakerStore } from '../../functions/core/resilience/breaker-store';
import { ResilientRateLimiter } from '../../functions/core/resilience/rate-limiter';
import { ResilientResponseCache } from '../../functions/core/resilience/response-cache';
import { GuardedUsageReader } from '../../functions/core/resilience/usage-reader';
import { StoreGuard, StoreUnavailableError } from '../../functions/core/store-guard';

/**
 * A real store whose every method fails while `down` (as a client does when its server is gone),
 * counting the calls that reached it.
 */
function switchable<T extends object>(inner: T): { store: T; down: boolean; calls: number } {
  const ctl = { down: false, calls: 0, store: undefined as unknown as T };
  ctl.store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        ctl.calls += 1;
        if (ctl.down) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return ctl;
}

const T0 = 1_700_000_001_000;
let now = T0;
const guard = (): StoreGuard => new StoreGuard({ store: 'redis', now: () => now, logger: silentLogger, failureThreshold: 3, probeIntervalMs: 500 });

beforeEach(() => {
  now = T0;
});

describe('ResilientRateLimiter', () => {
  test('open mode: while the store fails, requests are admitted and counted in the instance, up to the whole limit', async () => {
    const shared = switchable(new MemoryRateLimiter());
    const limiter = new ResilientRateLimiter(shared.store, new MemoryRateLimiter(), guard(), 'open');
    expect((await limiter.consumeRequest('t', 3, now)).allowed).toBe(true); // shared: 1 of 3
    shared.down = true;
    const during = [];
    for (let i = 0; i < 4; i++) during.push(await limiter.consumeRequest('t', 3, now));
    // The instance's own count starts at zero: 3 admitted, then refused, with honest headers.
    expect(during.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(during[3]).toMatchObject({ limit: 3, remaining: 0 });
  });

  test('open mode: tokens are counted in the instance meanwhile, and the token limit holds there', async () => {
    const shared = switchable(new MemoryRateLimiter());
    const limiter = new ResilientRateLimiter(shared.store, new MemoryRateLimiter(), guard(), 'open');
    shared.down = true;
    await limiter.addTokens('t', 900, now);
    expect((await limiter.checkTokens('t', 1000, now)).allowed).toBe(true);
    await limiter.addTokens('t', 200, now);
    expect((await limiter.checkTokens('t', 1000, now)).allowed).toBe(false);
  });

  test('closed mode: a limited request is refused with 503 store_unavailable, retryable, without the store error text', async () => {
    const shared = switchable(new MemoryRateLimiter());
    const limiter = new ResilientRateLimiter(shared.store, new MemoryRateLimiter(), guard(), 'closed');
    shared.down = true;
    for (const call of [() => limiter.consumeRequest('t', 3, now), () => limiter.checkTokens('t', 1000, now)]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      const g = err as GatewayError;
      expect(g.status).toBe(503);
      expect(g.toBody().error.code).toBe('store_unavailable');
      expect(g.retryable).toBe(true);
      expect(g.headers['retry-after']).toBe('1');
      expect(JSON.stringify(g.toBody())).not.toContain('ECONNREFUSED');
    }
    // Adding a finished request's tokens never fails the request: kept in the instance instead.
    await expect(limiter.addTokens('t', 10, now)).resolves.toBeUndefined();
  });

  test('while the store is marked down, the limiter does not call it; once a probe succeeds it counts there again', async () => {
    const shared = switchable(new MemoryRateLimiter());
    const limiter = new ResilientRateLimiter(shared.store, new MemoryRateLimiter(), guard(), 'open');
    shared.down = true;
    for (let i = 0; i < 3; i++) await limiter.consumeRequest('t', 100, now);
    const calls = shared.calls;
    for (let i = 0; i < 20; i++) await limiter.consumeRequest('t', 100, now);
    expect(shared.calls).toBe(calls);
    shared.down = false;
    now += 500;
    await limiter.consumeRequest('t', 100, now); // the probe: counted in the shared window
    await limiter.consumeRequest('t', 100, now);
    expect(shared.calls).toBe(calls + 2);
    const inShared = await shared.store.consumeRequest('t', 100, now);
    expect(inShared.remaining).toBe(100 - 3); // the two after recovery, and this one
  });
});

describe('ResilientResponseCache', () => {
  const entry: CachedCompletion = { body: '{"id":"x"}', provider: 'openai', model: 'gpt-4o', storedAtMs: T0 };

  test('a failing store is a miss on get and a skipped write on set, never an error', async () => {
    const shared = switchable(new MemoryResponseCache(1 << 20));
    const cache = new ResilientResponseCache(shared.store, guard());
    await cache.set('k', entry, 60, now);
    expect(await cache.get('k', now)).toEqual(entry);
    shared.down = true;
    await expect(cache.get('k', now)).resolves.toBeNull();
    await expect(cache.set('k2', entry, 60, now)).resolves.toBeUndefined();
    shared.down = false;
    now += 500;
    expect(await cache.get('k2', now)).toBeNull(); // the write during the outage was skipped, not queued
    expect(await cache.get('k', now)).toEqual(entry); // and the shared entries are served again
  });
});

describe('ResilientBreakerStore', () => {
  const open: BreakerState = { phase: 'open', consecutiveFailures: 5, consecutiveSuccesses: 0, openedAtMs: T0 };
  const closed: BreakerState = { phase: 'closed', consecutiveFailures: 0, consecutiveSuccesses: 0, openedAtMs: 0 };

  test("while the store fails, the instance's own copy decides: the last state it read or wrote", async () => {
    const shared = switchable(new MemoryBreakerStore());
    await shared.store.put('openai', open); // another instance opened it
    const store = new ResilientBreakerStore(shared.store, new MemoryBreakerStore(), guard());
    expect(await store.get('openai')).toEqual(open);
    shared.down = true;
    expect(await store.get('openai')).toEqual(open); // as last read
    await expect(store.put('openai', closed)).resolves.toBeUndefined();
    expect(await store.get('openai')).toEqual(closed); // as this instance last wrote
    expect(await store.all()).toEqual({ openai: closed });
  });

  test('once the store answers again, its state is used (and what others wrote meanwhile is seen)', async () => {
    const shared = switchable(new MemoryBreakerStore());
    const store = new ResilientBreakerStore(shared.store, new MemoryBreakerStore(), guard());
    shared.down = true;
    for (let i = 0; i < 3; i++) await store.put('openai', open);
    shared.down = false;
    await shared.store.put('openai', closed); // written by another instance meanwhile
    now += 500;
    expect(await store.get('openai')).toEqual(closed);
    expect(await store.all()).toEqual({ openai: closed });
  });
});

describe('GuardedUsageReader', () => {
  test('a failing store answers StoreUnavailableError, which the client sees as 503 store_unavailable', async () => {
    const shared = switchable(new MemoryUsageStore());
    const reader = new GuardedUsageReader(shared.store, guard());
    await expect(reader.totals('t', '2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z')).resolves.toBeDefined();
    shared.down = true;
    for (const call of [() => reader.totals('t', 'a', 'b'), () => reader.totalsByModel('t', 'a', 'b')]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      const g = toGatewayError(err);
      expect(g.status).toBe(503);
      expect(g.toBody().error.code).toBe('store_unavailable');
    }
  });
});
