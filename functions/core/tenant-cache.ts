// The hot path's tenant lookup, read through a short in-process cache so a request does not pay
// a database round trip. A change to a tenant (disabled, deleted, key rotated out) reaches every
// instance within the cache's TTL: that bound is documented as TENANT_CACHE_TTL. While the store
// fails, a tenant read within TENANT_STALE_TTL is served as last known good; a key not known
// that way gets 503 store_unavailable (never 401: the store, not the key, is in doubt).
import { storeUnavailable } from './errors';
import type { Tenant, TenantStore } from './ports';

interface Entry {
  tenant: Tenant | null;
  readAtMs: number;
  expiresAtMs: number;
}

export interface TenantCacheOptions {
  ttlMs: number;
  /** Unknown keys are remembered more briefly: enough to absorb a burst of bad-key retries. */
  negativeTtlMs: number;
  maxEntries: number;
  now: () => number;
  /** How long after it was read a tenant may still be served while the store fails (0: never). */
  staleTtlMs?: number;
}

export class CachedTenantStore implements TenantStore {
  private readonly entries = new Map<string, Entry>();
  /** Lookups in flight, so a burst of requests with one key makes one store read. */
  private readonly pending = new Map<string, Promise<Tenant | null>>();

  constructor(
    private readonly inner: TenantStore,
    private readonly opts: TenantCacheOptions,
  ) {}

  findByKeyHash(keyHash: string): Promise<Tenant | null> {
    const entry = this.entries.get(keyHash);
    if (entry && entry.expiresAtMs > this.opts.now()) return Promise.resolve(entry.tenant);
    let lookup = this.pending.get(keyHash);
    if (!lookup) {
      lookup = this.inner
        .findByKeyHash(keyHash)
        .then(
          (tenant) => {
            this.remember(keyHash, tenant);
            return tenant;
          },
          () => this.lastKnownGood(keyHash),
        )
        .finally(() => this.pending.delete(keyHash));
      this.pending.set(keyHash, lookup);
    }
    return lookup;
  }

  /**
   * The store failed: a tenant read recently enough is served as it was (disabled stays refused by
   * the gate); an unknown key, or one last seen as unknown, cannot be decided now.
   */
  private lastKnownGood(keyHash: string): Tenant {
    const entry = this.entries.get(keyHash);
    if (entry?.tenant && this.opts.now() - entry.readAtMs <= (this.opts.staleTtlMs ?? 0)) return entry.tenant;
    throw storeUnavailable();
  }

  /** Forgets one key (or all): the local instance sees its own admin writes at once. */
  invalidate(keyHash?: string): void {
    if (keyHash === undefined) this.entries.clear();
    else this.entries.delete(keyHash);
  }

  private remember(keyHash: string, tenant: Tenant | null): void {
    this.entries.delete(keyHash); // re-inserted at the end: the oldest read is evicted first
    if (this.entries.size >= this.opts.maxEntries) {
      // Drop the oldest insertion: a Map iterates in insertion order.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const now = this.opts.now();
    this.entries.set(keyHash, { tenant, readAtMs: now, expiresAtMs: now + (tenant ? this.opts.ttlMs : this.opts.negativeTtlMs) });
  }
}
