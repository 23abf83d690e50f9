// Helpers shared by every TenantRepository implementation, so the backends agree on what a
// stored record exposes to the hot path and on when a key stops working.
import type { ApiKeyRecord, TenantRecord } from '../core/ports';
import type { Tenant } from '../core/ports';

/** The Tenant the pipeline sees: the record without its keys and bookkeeping fields. */
export function tenantOf(record: TenantRecord): Tenant {
  const { created_at, updated_at, keys, version, ...tenant } = record;
  return tenant;
}

/**
 * When the key stops working (ms since epoch); Infinity without expires_at. An unparseable
 * expires_at counts as already expired: a key whose grace period cannot be read fails closed.
 */
export function keyExpiryMs(key: ApiKeyRecord): number {
  if (key.expires_at === undefined) return Infinity;
  const ms = Date.parse(key.expires_at);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/** The part of a key shown in listings (the admin API shows the same 10 characters). */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}
