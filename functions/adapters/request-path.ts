// The stores a request waits on, as every server reads them: the key → tenant lookup through a
// short in-process cache over the guarded shared store, and usage totals under their store's
// guard (a store known down answers 503 at once). Memory stores need neither.
import type { GatewayConfig } from '../core/config';
import type { TenantStore, UsageReader } from '../core/ports';
import { GuardedUsageReader } from '../core/resilience/usage-reader';
import type { StoreGuard, StoreGuards } from '../core/store-guard';
import { CachedTenantStore } from '../core/tenant-cache';
import type { Stores } from './stores';
import type { UsageStores } from './usage/backends';

/** The tenant lookup under its store's guard (a store known down fails at once). */
function guarded(store: TenantStore, guard: StoreGuard): TenantStore {
  return { findByKeyHash: (hash) => guard.run('tenants.find', () => store.findByKeyHash(hash)) };
}

/**
 * A shared store is read through a short in-process cache (TENANT_CACHE_TTL), and served as
 * last known good (TENANT_STALE_TTL) while it fails.
 */
export function requestPathTenants(config: GatewayConfig, stores: Stores, guards: StoreGuards, now: () => number): TenantStore {
  if (stores.kind === 'memory') return stores.tenants;
  return new CachedTenantStore(guarded(stores.lookup, guards.for('dynamodb')), {
    ttlMs: config.tenantCacheTtlMs, negativeTtlMs: Math.min(1000, config.tenantCacheTtlMs), staleTtlMs: config.stores.tenantStaleTtlMs, maxEntries: 10_000, now,
  });
}

export function requestPathUsageReader(usage: UsageStores, guards: StoreGuards): UsageReader {
  return usage.backend === 'memory' ? usage.reader : new GuardedUsageReader(usage.reader, guards.for(usage.backend));
}
