// The ResponseCache contract, run against every backend. Expiry follows the caller's nowMs on
// every backend (Redis also expires keys itself, later, by wall clock).
import type { CachedCompletion, ResponseCache } from '../../functions/core/ports';
import type { StoreUnderTest } from './tenant-repository.contract';

const T0 = Date.now();

export interface CacheUnderTest extends StoreUnderTest<ResponseCache> {
  /** A body the backend must refuse to cache (too large for it), and one it must still take. */
  sizes: { tooLarge: string; largest: string };
}

const entry = (body: string, extra: Partial<CachedCompletion> = {}): CachedCompletion => ({
  body,
  provider: 'openai',
  model: 'gpt-4o-mini',
  storedAtMs: T0,
  ...extra,
});

export function responseCacheContract(name: string, makeCache: () => Promise<CacheUnderTest>): void {
  describe(`ResponseCache contract: ${name}`, () => {
    let cache: ResponseCache;
    let under: CacheUnderTest;

    beforeEach(async () => {
      under = await makeCache();
      cache = under.repo;
    });
    afterEach(async () => {
      await under.cleanup();
    });

    it('misses an unknown key', async () => {
      expect(await cache.get('tenant-a:nothing', T0)).toBeNull();
    });

    it('returns what was stored, per key, until the TTL runs out', async () => {
      const a = entry('{"id":"a","text":"héllo ✓"}');
      const b = entry('{"id":"b"}', { provider: 'anthropic', model: 'claude', storedAtMs: T0 + 1 });
      await cache.set('tenant-a:k', a, 60, T0);
      await cache.set('tenant-b:k', b, 60, T0);
      expect(await cache.get('tenant-a:k', T0)).toEqual(a);
      expect(await cache.get('tenant-b:k', T0 + 59_999)).toEqual(b);
      expect(await cache.get('tenant-a:k', T0 + 60_000)).toBeNull();
    });

    it('replaces an entry, with the new TTL', async () => {
      await cache.set('k', entry('old'), 10, T0);
      await cache.set('k', entry('new'), 60, T0 + 5_000);
      expect((await cache.get('k', T0 + 30_000))?.body).toBe('new');
    });

    it('does not store an entry with no TTL', async () => {
      await cache.set('k', entry('x'), 0, T0);
      expect(await cache.get('k', T0)).toBeNull();
    });

    it('skips entries too large for the backend and keeps those that fit', async () => {
      await cache.set('big', entry(under.sizes.tooLarge), 60, T0);
      expect(await cache.get('big', T0)).toBeNull();
      await cache.set('fits', entry(under.sizes.largest), 60, T0);
      expect((await cache.get('fits', T0))?.body).toBe(under.sizes.largest);
    });
  });
}
