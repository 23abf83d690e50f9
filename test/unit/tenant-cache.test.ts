// The hot path's tenant cache: one store read per key per TTL, changes visible after the TTL.
import { CachedTenantStore } from '../../functions/core/tenant-cache';
import type { Tenant, TenantStore } from '../../functions/core/ports';
import { DEFAULT_TENANT } from '../../functions/core/tenants';

class CountingStore implements TenantStore {
  reads = 0;
  tenants = new Map<string, Tenant>();
  async findByKeyHash(hash: string): Promise<Tenant | null> {
    this.reads += 1;
    await new Promise((r) => setTimeout(r, 5));
    return this.tenants.get(hash) ?? null;
  }
}

describe('CachedTenantStore', () => {
  let now = 0;
  const make = (inner: TenantStore) => new CachedTenantStore(inner, { ttlMs: 5000, negativeTtlMs: 1000, maxEntries: 2, now: () => now });

  beforeEach(() => { now = 1_000_000; });

  it('reads the store once per key per TTL, and once for a burst of concurrent lookups', async () => {
    const inner = new CountingStore();
    inner.tenants.set('h1', DEFAULT_TENANT);
    const cache = make(inner);
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.findByKeyHash('h1')));
    expect(results.every((t) => t?.id === 'default')).toBe(true);
    expect(inner.reads).toBe(1);
    now += 4999;
    await cache.findByKeyHash('h1');
    expect(inner.reads).toBe(1);
    now += 2;
    await cache.findByKeyHash('h1');
    expect(inner.reads).toBe(2);
  });

  it('sees a disabled or deleted tenant once the TTL has passed', async () => {
    const inner = new CountingStore();
    inner.tenants.set('h1', DEFAULT_TENANT);
    const cache = make(inner);
    expect(await cache.findByKeyHash('h1')).not.toBeNull();
    inner.tenants.delete('h1');
    expect(await cache.findByKeyHash('h1')).not.toBeNull(); // still within the TTL
    now += 5001;
    expect(await cache.findByKeyHash('h1')).toBeNull();
  });

  it('remembers unknown keys only briefly, and invalidate() forgets at once', async () => {
    const inner = new CountingStore();
    const cache = make(inner);
    expect(await cache.findByKeyHash('nope')).toBeNull();
    await cache.findByKeyHash('nope');
    expect(inner.reads).toBe(1);
    now += 1001;
    inner.tenants.set('nope', DEFAULT_TENANT);
    expect(await cache.findByKeyHash('nope')).not.toBeNull();
    inner.tenants.delete('nope');
    cache.invalidate('nope');
    expect(await cache.findByKeyHash('nope')).toBeNull();
  });

  it('stays within maxEntries', async () => {
    const inner = new CountingStore();
    const cache = make(inner);
    for (const k of ['a', 'b', 'c']) await cache.findByKeyHash(k);
    const reads = inner.reads;
    await cache.findByKeyHash('a'); // evicted as the oldest
    expect(inner.reads).toBe(reads + 1);
  });
});
