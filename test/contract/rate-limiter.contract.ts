// The RateLimiter contract, run against every backend. Times are explicit nowMs values, so
// windows are exact whatever the wall clock does.
import type { RateLimiter } from '../../functions/core/ports';
import type { StoreUnderTest } from './tenant-repository.contract';

const MINUTE = 60_000;
// A window start far from any real one, so shared backends never meet a live counter.
const T0 = Date.UTC(2030, 0, 1, 12, 0);

export interface LimiterUnderTest extends StoreUnderTest<RateLimiter> {
  /** `n` limiters on the same backend, each with its own client (memory: the same instance). */
  peers(n: number): Promise<RateLimiter[]>;
}

export function rateLimiterContract(name: string, makeLimiter: () => Promise<LimiterUnderTest>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let limiter: RateLimiter;
    let under: LimiterUnderTest;

    beforeEach(async () => {
      under = await makeLimiter();
      limiter = under.repo;
    });
    afterEach(async () => {
      await under.cleanup();
    });

    it('admits exactly the limit in a window, counting remaining down, then refuses', async () => {
      const decisions = [];
      for (let i = 0; i < 5; i++) decisions.push(await limiter.consumeRequest('t1', 3, T0 + 1_000 + i));
      expect(decisions.map((d) => [d.allowed, d.remaining, d.limit])).toEqual([
        [true, 2, 3],
        [true, 1, 3],
        [true, 0, 3],
        [false, 0, 3],
        [false, 0, 3],
      ]);
      expect(decisions.map((d) => d.resetMs)).toEqual([59_000, 58_999, 58_998, 58_997, 58_996]);
    });

    it('starts afresh in the next window', async () => {
      expect((await limiter.consumeRequest('t1', 1, T0)).allowed).toBe(true);
      expect((await limiter.consumeRequest('t1', 1, T0 + MINUTE - 1)).allowed).toBe(false);
      const next = await limiter.consumeRequest('t1', 1, T0 + MINUTE);
      expect(next).toEqual({ allowed: true, limit: 1, remaining: 0, resetMs: MINUTE });
    });

    it('counts each tenant on its own', async () => {
      expect((await limiter.consumeRequest('a', 1, T0)).allowed).toBe(true);
      expect((await limiter.consumeRequest('b', 1, T0)).allowed).toBe(true);
      expect((await limiter.consumeRequest('a', 1, T0)).allowed).toBe(false);
    });

    it('admits exactly the limit when several clients race for the same window', async () => {
      const limit = 20;
      const clients = await under.peers(4);
      const calls = Array.from({ length: 2 * limit }, (_, i) => clients[i % clients.length]!.consumeRequest('race', limit, T0 + 5));
      const decisions = await Promise.all(calls);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(limit);
      // Every admitted request saw a distinct count.
      expect(new Set(decisions.filter((d) => d.allowed).map((d) => d.remaining)).size).toBe(limit);
      expect((await limiter.consumeRequest('race', limit, T0 + 6)).allowed).toBe(false);
    });

    it('admits tokens while the window has spent fewer than the limit, and adds them up', async () => {
      expect(await limiter.checkTokens('t1', 100, T0 + 30_000)).toEqual({ allowed: true, limit: 100, remaining: 100, resetMs: 30_000 });
      await limiter.addTokens('t1', 60, T0 + 30_000);
      expect(await limiter.checkTokens('t1', 100, T0 + 30_000)).toMatchObject({ allowed: true, remaining: 40 });
      await limiter.addTokens('t1', 60, T0 + 31_000);
      expect(await limiter.checkTokens('t1', 100, T0 + 32_000)).toEqual({ allowed: false, limit: 100, remaining: 0, resetMs: 28_000 });
      expect(await limiter.checkTokens('other', 100, T0 + 32_000)).toMatchObject({ allowed: true, remaining: 100 });
      expect(await limiter.checkTokens('t1', 100, T0 + MINUTE)).toMatchObject({ allowed: true, remaining: 100 });
    });

    it('adds tokens from several clients at once without losing any', async () => {
      const clients = await under.peers(4);
      await Promise.all(Array.from({ length: 40 }, (_, i) => clients[i % clients.length]!.addTokens('sum', 5, T0)));
      expect(await limiter.checkTokens('sum', 1_000, T0)).toMatchObject({ remaining: 800 });
    });
  });
}
