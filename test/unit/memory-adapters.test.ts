// The in-process adapters behind the core's ports.
import { createHash } from 'node:crypto';
import { MemoryRateLimiter } from '../../functions/adapters/memory/rate-limiter';
import { MemoryResponseCache } from '../../functions/adapters/memory/response-cache';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { MemoryUsagePipeline } from '../../functions/adapters/memory/usage';
import type { CachedCompletion, UsageEvent } from '../../functions/core/ports';
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

// ---- usage pipeline ------------------------------------------------------------------------

describe('MemoryUsagePipeline', () => {
  const event = (over: Partial<UsageEvent>): UsageEvent => ({
    request_id: 'req-1', tenant_id: 'default', provider: 'openai', model: 'gpt-4o',
    prompt_tokens: 10, completion_tokens: 5, cached_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_usd: 0.1,
    latency_ms: 100, cache_hit: false, status: 200, stream: false, timestamp: '2025-01-15T12:00:00.000Z',
    ...over,
  });

  it('sums published events into the tenant\'s totals', async () => {
    const u = new MemoryUsagePipeline();
    await u.publish(event({ request_id: 'r1', prompt_tokens: 10, completion_tokens: 5, cost_usd: 0.1 }));
    await u.publish(event({ request_id: 'r2', prompt_tokens: 20, completion_tokens: 7, cost_usd: 0.2, cache_hit: true }));
    const t = await u.totals('default', '2025-01-15T00:00:00.000Z', '2025-01-15T23:59:59.999Z');
    expect(t).toMatchObject({ request_count: 2, prompt_tokens: 30, completion_tokens: 12, cache_hits: 1 });
    expect(t.cost_usd).toBeCloseTo(0.3, 10);
  });

  it('counts a repeated request_id once', async () => {
    const u = new MemoryUsagePipeline();
    await u.publish(event({ request_id: 'r1' }));
    await u.publish(event({ request_id: 'r1' }));
    await u.publish(event({ request_id: 'r1', prompt_tokens: 999 }));
    const t = await u.totals('default', '2025-01-01', '2025-12-31');
    expect(t.request_count).toBe(1);
    expect(t.prompt_tokens).toBe(10);
  });

  it('only counts the days inside the requested range, ends included', async () => {
    const u = new MemoryUsagePipeline();
    await u.publish(event({ request_id: 'd1', timestamp: '2025-01-14T23:59:59.000Z', cost_usd: 1 }));
    await u.publish(event({ request_id: 'd2', timestamp: '2025-01-15T00:00:00.000Z', cost_usd: 2 }));
    await u.publish(event({ request_id: 'd3', timestamp: '2025-01-16T10:00:00.000Z', cost_usd: 4 }));
    await u.publish(event({ request_id: 'd4', timestamp: '2025-01-17T00:00:01.000Z', cost_usd: 8 }));
    const t = await u.totals('default', '2025-01-15T00:00:00.000Z', '2025-01-16T23:59:59.999Z');
    expect(t.request_count).toBe(2);
    expect(t.cost_usd).toBeCloseTo(6, 10);
    expect((await u.totals('default', '2025-01-14', '2025-01-17')).request_count).toBe(4);
  });

  it('keeps tenants apart', async () => {
    const u = new MemoryUsagePipeline();
    await u.publish(event({ request_id: 'a', tenant_id: 'alpha', cost_usd: 0.5 }));
    await u.publish(event({ request_id: 'b', tenant_id: 'beta', cost_usd: 0.25 }));
    const alpha = await u.totals('alpha', '2025-01-01', '2025-12-31');
    expect(alpha.request_count).toBe(1);
    expect(alpha.cost_usd).toBeCloseTo(0.5, 10);
    expect(await u.totals('nobody', '2025-01-01', '2025-12-31')).toEqual({ request_count: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, cache_hits: 0 });
  });

  it('keeps many small costs exact to the 1e-10 USD', async () => {
    const u = new MemoryUsagePipeline();
    for (let i = 0; i < 1000; i++) await u.publish(event({ request_id: `r${i}`, cost_usd: 0.0000123 }));
    const t = await u.totals('default', '2025-01-15', '2025-01-15');
    expect(t.cost_usd).toBeCloseTo(0.0123, 10);
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
