import type { Tenant, TenantStore } from '../../core/ports';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY, hashApiKey } from '../../core/tenants';

/** In-process tenants keyed by key hash; seeded with the default tenant. */
export class MemoryTenantStore implements TenantStore {
  private readonly byKeyHash = new Map<string, Tenant>();

  constructor(seed: Array<{ key: string; tenant: Tenant }> = [{ key: DEFAULT_TENANT_KEY, tenant: DEFAULT_TENANT }]) {
    for (const { key, tenant } of seed) this.byKeyHash.set(hashApiKey(key), { ...tenant });
  }

  async findByKeyHash(keyHash: string): Promise<Tenant | null> {
    return this.byKeyHash.get(keyHash) ?? null;
  }

  /** Adds or replaces a tenant key (used by tests and, later, the admin API). */
  put(key: string, tenant: Tenant): void {
    this.byKeyHash.set(hashApiKey(key), { ...tenant });
  }
}
