// The local admin API's tenant store: every write that can change which key opens which tenant
// (update, key rotation, delete; create for a key already remembered as unknown) forgets the
// request path's cached lookups, so this instance sees its own admin writes at once rather than
// after TENANT_CACHE_TTL. Other instances sharing the store still see them within that TTL.
import type { TenantRecord, TenantRepository } from '../core/ports';
import type { Tenant } from '../core/ports';

/** What is forgotten: the whole cache; admin writes are rare and a lookup is one read. */
export interface TenantCacheInvalidation {
  invalidate(): void;
}

export function invalidatingTenants(inner: TenantRepository, cache: TenantCacheInvalidation): TenantRepository {
  /** Forgets after the write, and also when it failed: it may have been applied before the failure. */
  const writing = async <T>(write: Promise<T>): Promise<T> => {
    try {
      return await write;
    } finally {
      cache.invalidate();
    }
  };
  return {
    findByKeyHash: (keyHash: string): Promise<Tenant | null> => inner.findByKeyHash(keyHash),
    list: () => inner.list(),
    get: (id: string) => inner.get(id),
    create: (record: TenantRecord) => writing(inner.create(record)),
    update: (record: TenantRecord) => writing(inner.update(record)),
    delete: (id: string) => writing(inner.delete(id)),
  };
}
