// The in-process adapters behind the core's ports.
import { createHash } from 'node:crypto';
import { MemoryRateLimiter } from '../../functions/adapters/memory/rate-limiter';
import { MemoryResponseCache } from '../../functions/adapters/memory/response-cache';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import type { CachedCompletion } from '../../functions/core/ports';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY, hashApiKey } from '../../functions/core/tenants';
import { fixtureText } from './fixture-files';

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

// ---- response cache ------------------------------------------------------------------------

describe('MemoryResponseCache', () => {
  const body = fixtureText('openai/chat-nonstream.response.json');
  const entry = (b = body): CachedCompletion => ({ body: b, provider: 'openai', model: 'gpt-4o', storedAtMs: T0 });

  /** Bytes one entry with a 1-char key takes, as the cache itself accounts it. */
  async function entryBytes(): Promise<number> {
    const probe = new MemoryResponseCache(Number.MAX_SAFE_INTEGER);
    await probe.set('a', entry(), 60, T0);
    return probe.sizeBytes;
  }

  it('returns a stored entry until its TTL has passed, then nothing', async () => {
    const cache = new MemoryResponseCache(1 << 20);
    await cache.set('k', entry(), 10, T0);
    expect(await cache.get('k', T0)).toEqual(entry());
    expect(await cache.get('k', T0 + 9_999)).toEqual(entry());
    expect(await cache.get('k', T0 + 10_001)).toBeNull();
    // and the expired entry no longer takes space
    expect(cache.sizeBytes).toBe(0);
  });

  it('does not store an entry with a TTL of 0', async () => {
    const cache = new MemoryResponseCache(1 << 20);
    await cache.set('k', entry(), 0, T0);
    expect(await cache.get('k', T0)).toBeNull();
  });

  it('misses on an unknown key', async () => {
    const cache = new MemoryResponseCache(1 << 20);
    await cache.set('k', entry(), 10, T0);
    expect(await cache.get('other', T0)).toBeNull();
  });

  it('evicts the least recently used entry when the byte budget is exceeded', async () => {
    const size = await entryBytes();
    expect(size).toBeGreaterThan(0);
    const cache = new MemoryResponseCache(Math.floor(size * 2.5)); // room for two entries, not three
    await cache.set('a', entry(), 60, T0);
    await cache.set('b', entry(), 60, T0);
    expect(await cache.get('a', T0 + 1)).not.toBeNull(); // a is now more recent than b
    await cache.set('c', entry(), 60, T0 + 2);
    expect(await cache.get('b', T0 + 3)).toBeNull();
    expect(await cache.get('a', T0 + 3)).not.toBeNull();
    expect(await cache.get('c', T0 + 3)).not.toBeNull();
    expect(cache.sizeBytes).toBeLessThanOrEqual(Math.floor(size * 2.5));
  });

  it('counts a replaced key once', async () => {
    const size = await entryBytes();
    const cache = new MemoryResponseCache(Math.floor(size * 2.5));
    await cache.set('a', entry(), 60, T0);
    await cache.set('a', entry(), 60, T0);
    await cache.set('b', entry(), 60, T0);
    expect(cache.sizeBytes).toBe(2 * size);
    expect(await cache.get('a', T0)).not.toBeNull();
    expect(await cache.get('b', T0)).not.toBeNull();
  });

  it('skips an entry larger than the whole cache without evicting anything', async () => {
    const size = await entryBytes();
    const cache = new MemoryResponseCache(Math.floor(size * 2.5));
    await cache.set('a', entry(), 60, T0);
    await cache.set('b', entry(body.repeat(10)), 60, T0);
    expect(await cache.get('b', T0)).toBeNull();
    expect(await cache.get('a', T0)).toEqual(entry());
  });
});

// ---- rate limiter --------------------------------------------------------------------------

describe('MemoryRateLimiter', () => {
  const NOW = T0 + 15_000;

  it('allows `limit` requests per minute window and counts down remaining', async () => {
    const rl = new MemoryRateLimiter();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await rl.consumeRequest('t1', 3, NOW + i));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions.every((d) => d.limit === 3)).toBe(true);
  });

  it('reports when the window resets, and the limit is back after that', async () => {
    const rl = new MemoryRateLimiter();
    await rl.consumeRequest('t1', 1, NOW);
    const refused = await rl.consumeRequest('t1', 1, NOW);
    expect(refused.allowed).toBe(false);
    expect(refused.resetMs).toBeGreaterThan(0);
    expect(refused.resetMs).toBeLessThanOrEqual(60_000);
    expect((await rl.consumeRequest('t1', 1, NOW + refused.resetMs - 1)).allowed).toBe(false);
    const next = await rl.consumeRequest('t1', 1, NOW + refused.resetMs);
    expect(next.allowed).toBe(true);
    expect(next.remaining).toBe(0);
    expect(next.resetMs).toBe(60_000);
  });

  it('starts a fresh count in a new minute window', async () => {
    const rl = new MemoryRateLimiter();
    for (let i = 0; i < 3; i++) await rl.consumeRequest('t1', 3, NOW);
    expect((await rl.consumeRequest('t1', 3, NOW)).allowed).toBe(false);
    const later = await rl.consumeRequest('t1', 3, NOW + 60_000);
    expect(later.allowed).toBe(true);
    expect(later.remaining).toBe(2);
  });

  it('counts each tenant separately', async () => {
    const rl = new MemoryRateLimiter();
    await rl.consumeRequest('t1', 1, NOW);
    expect((await rl.consumeRequest('t1', 1, NOW)).allowed).toBe(false);
    expect((await rl.consumeRequest('t2', 1, NOW)).allowed).toBe(true);
  });
});

// ---- tenant store --------------------------------------------------------------------------

describe('MemoryTenantRepository', () => {
  it('hashes keys with SHA-256 (hex)', () => {
    expect(hashApiKey(DEFAULT_TENANT_KEY)).toBe(createHash('sha256').update(DEFAULT_TENANT_KEY).digest('hex'));
  });

  it('finds the default tenant by the hash of gw-default-key', async () => {
    expect(DEFAULT_TENANT_KEY).toBe('gw-default-key');
    const store = new MemoryTenantRepository();
    const t = await store.findByKeyHash(hashApiKey('gw-default-key'));
    expect(t).toEqual(DEFAULT_TENANT);
  });

  it('returns null for an unknown hash, and for the raw key itself', async () => {
    const store = new MemoryTenantRepository();
    expect(await store.findByKeyHash(hashApiKey('gw-wrong-key'))).toBeNull();
    expect(await store.findByKeyHash('gw-default-key')).toBeNull();
  });

  it('finds a tenant added with put()', async () => {
    const store = new MemoryTenantRepository();
    store.put('sk-team-a', { ...DEFAULT_TENANT, id: 'team-a', name: 'Team A' });
    expect((await store.findByKeyHash(hashApiKey('sk-team-a')))?.id).toBe('team-a');
    expect((await store.findByKeyHash(hashApiKey(DEFAULT_TENANT_KEY)))?.id).toBe(DEFAULT_TENANT.id);
  });
});
