// The hot path's tenant cache: one store read per key per TTL, changes visible after the TTL.
import { GatewayError } from '../../functions/core/errors';
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

  beforeEach(() => {
    now = 1_000_000;
  });

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

// While the tenant store fails (the lookup rejects, as the guarded DynamoDB lookup does), a tenant
// read within staleTtlMs is served as it was; anything else is 503 store_unavailable, never a 401
// (the store, not the key, is in doubt) and never a 500.
describe('CachedTenantStore while the store fails', () => {
  class FailingStore extends CountingStore {
    down = false;
    override async findByKeyHash(hash: string): Promise<Tenant | null> {
      if (this.down) {
        this.reads += 1;
        throw new Error('connect ECONNREFUSED 127.0.0.1:8000');
      }
      return super.findByKeyHash(hash);
    }
  }
  let now = 0;
  const make = (inner: TenantStore, staleTtlMs?: number) =>
    new CachedTenantStore(inner, {
      ttlMs: 5000,
      negativeTtlMs: 1000,
      maxEntries: 10,
      now: () => now,
      ...(staleTtlMs === undefined ? {} : { staleTtlMs }),
    });
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: unknown) => e,
    );

  beforeEach(() => {
    now = 1_000_000;
  });

  test('a tenant read within staleTtlMs is served past its TTL; the stale window counts from the last good read', async () => {
    const inner = new FailingStore();
    inner.tenants.set('h1', DEFAULT_TENANT);
    const cache = make(inner, 60_000);
    await cache.findByKeyHash('h1');
    inner.down = true;
    now += 5_001; // past the TTL: a store read is attempted, fails, last known good is served
    expect(await cache.findByKeyHash('h1')).toEqual(DEFAULT_TENANT);
    now += 50_000;
    expect(await cache.findByKeyHash('h1')).toEqual(DEFAULT_TENANT);
    // Failed reads do not renew it: 60 s after the last good read it is no longer served.
    now += 5_000;
    const err = await refusal(cache.findByKeyHash('h1'));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 503, code: 'store_unavailable', retryable: true });
  });

  test('a never-seen key, and a key last seen as unknown, are 503 store_unavailable, not 401 (null) and not a raw error', async () => {
    const inner = new FailingStore();
    const cache = make(inner, 60_000);
    expect(await cache.findByKeyHash('gone')).toBeNull();
    inner.down = true;
    now += 1_001;
    expect(await refusal(cache.findByKeyHash('never'))).toMatchObject({ status: 503, code: 'store_unavailable' });
    expect(await refusal(cache.findByKeyHash('gone'))).toMatchObject({ status: 503, code: 'store_unavailable' });
  });

  test('a disabled tenant is served as disabled (the gate then refuses it with 403), not as unknown', async () => {
    const inner = new FailingStore();
    inner.tenants.set('h1', { ...DEFAULT_TENANT, enabled: false });
    const cache = make(inner, 60_000);
    await cache.findByKeyHash('h1');
    inner.down = true;
    now += 5_001;
    expect(await cache.findByKeyHash('h1')).toMatchObject({ enabled: false });
  });

  test('without staleTtlMs (0), nothing is served stale', async () => {
    const inner = new FailingStore();
    inner.tenants.set('h1', DEFAULT_TENANT);
    const cache = make(inner);
    await cache.findByKeyHash('h1');
    inner.down = true;
    now += 5_001;
    expect(await refusal(cache.findByKeyHash('h1'))).toMatchObject({ status: 503 });
  });

  test('a burst of lookups of one key during the outage makes one store read, and all get the same answer', async () => {
    const inner = new FailingStore();
    inner.tenants.set('h1', DEFAULT_TENANT);
    const cache = make(inner, 60_000);
    await cache.findByKeyHash('h1');
    inner.down = true;
    now += 5_001;
    const reads = inner.reads;
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.findByKeyHash('h1')));
    expect(results.every((t) => t?.id === 'default')).toBe(true);
    expect(inner.reads).toBe(reads + 1);
  });

  test('once the store answers again, a change made meanwhile is seen (the stale copy is not kept)', async () => {
    const inner = new FailingStore();
    inner.tenants.set('h1', DEFAULT_TENANT);
    const cache = make(inner, 60_000);
    await cache.findByKeyHash('h1');
    inner.down = true;
    now += 5_001;
    expect(await cache.findByKeyHash('h1')).not.toBeNull();
    inner.tenants.set('h1', { ...DEFAULT_TENANT, enabled: false });
    inner.down = false;
    expect(await cache.findByKeyHash('h1')).toMatchObject({ enabled: false });
  });
});
