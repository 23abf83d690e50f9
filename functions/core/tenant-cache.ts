// The hot path's tenant lookup, read through a short in-process cache so a request does not pay
// a database round trip. A change to a tenant (disabled, deleted, key rotated out) reaches every
// instance within the cache's TTL: that bound is documented as TENANT_CACHE_TTL.
import type { Tenant, TenantStore } from './ports';

interface Entry {
  tenant: Tenant | null;
  expiresAtMs: number;
}

export interface TenantCacheOptions {
  ttlMs: number;
  /** Unknown keys are remembered more briefly: enough to absorb a burst of bad-key retries. */
  negativeTtlMs: number;
  maxEntries: number;
  now: () => number;
}

export class CachedTenantStore implements TenantStore {
  private readonly entries = new Map<string, Entry>();
  /** Lookups in flight, so a burst of requests with one key makes one store read. */
  private readonly pending = new Map<string, Promise<Tenant | null>>();

  constructor(private readonly inner: TenantStore, private readonly opts: TenantCacheOptions) {}

  findByKeyHash(keyHash: string): Promise<Tenant | null> {
    const entry = this.entries.get(keyHash);
    if (entry && entry.expiresAtMs > this.opts.now()) return Promise.resolve(entry.tenant);
    let lookup = this.pending.get(keyHash);
    if (!lookup) {
      lookup = this.inner.findByKeyHash(keyHash).then((tenant) => {
        this.remember(keyHash, tenant);
        return tenant;
      }).finally(() => this.pending.delete(keyHash));
      this.pending.set(keyHash, lookup);
    }
    return lookup;
  }

  /** Forgets one key (or all): the local instance sees its own admin writes at once. */
  invalidate(keyHash?: string): void {
    if (keyHash === undefined) this.entries.clear();
    else this.entries.delete(keyHash);
  }

  private remember(keyHash: string, tenant: Tenant | null): void {
    if (this.entries.size >= this.opts.maxEntries) {
      // Drop the oldest insertion: a Map iterates in insertion order.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const ttl = tenant ? this.opts.ttlMs : this.opts.negativeTtlMs;
    this.entries.set(keyHash, { tenant, expiresAtMs: this.opts.now() + ttl });
  }
}
