// The request path's tenant lookup, shared by every function that authenticates API keys.
import type { StoreSettings } from '../../config';
import type { TenantStore } from '../../core/ports';
import type { StoreGuard, StoreGuards } from '../../core/store-guard';
import { CachedTenantStore } from '../../core/tenant-cache';
import type { Stores } from '../stores';

export interface TenantLookup {
  /** What the gateway asks for a key's tenant. */
  tenants: TenantStore;
  /** The in-process cache in front of a shared store, so local admin writes can invalidate it; absent for memory. */
  cache?: CachedTenantStore;
}

/**
 * A shared store (DynamoDB, PostgreSQL) is read through a short in-process cache (TENANT_CACHE_TTL), and served as last
 * known good (TENANT_STALE_TTL) while it fails, under its store's guard; memory needs neither.
 */
export function tenantLookup(config: StoreSettings, stores: Stores, guards: StoreGuards, now: () => number): TenantLookup {
  if (stores.kind === 'memory') return { tenants: stores.lookup };
  const cache = new CachedTenantStore(guarded(stores.lookup, guards.for(stores.kind)), {
    ttlMs: config.tenantCacheTtlMs,
    negativeTtlMs: Math.min(1000, config.tenantCacheTtlMs),
    staleTtlMs: config.stores.tenantStaleTtlMs,
    maxEntries: 10_000,
    now,
  });
  return { tenants: cache, cache };
}

/** The tenant lookup under its store's guard (a store known down fails at once). */
function guarded(store: TenantStore, guard: StoreGuard): TenantStore {
  return { findByKeyHash: (hash) => guard.run('tenants.find', () => store.findByKeyHash(hash)) };
}
