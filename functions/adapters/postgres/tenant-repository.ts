// Tenant records in PostgreSQL: the whole record as JSON in `tenants` (its `version` guards
// updates) and one `tenant_keys` row per key hash, written in the same transaction, so the
// index never disagrees with the record and a key hash belongs to one tenant at most.
import { StoreConflictError, type Tenant, type TenantRecord, type TenantRepository } from '../../core/ports';
import { keyExpiryMs, tenantOf } from '../tenant-record';
import { isUniqueViolation, type PgDatabase, type Queryable } from './pool';

const FIND_BY_KEY = {
  name: 'tenant_by_key',
  text: 'SELECT t.record FROM tenant_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = $1',
};

export interface PgTenantRepositoryOptions {
  now?: () => number;
}

export class PgTenantRepository implements TenantRepository {
  private readonly now: () => number;

  constructor(
    private readonly db: PgDatabase,
    opts: PgTenantRepositoryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The hot path's lookup: one round trip (the caller caches in process). */
  async findByKeyHash(keyHash: string): Promise<Tenant | null> {
    const [row] = await this.db.query<{ record: TenantRecord }>(FIND_BY_KEY, [keyHash]);
    const key = row?.record.keys.find((k) => k.hash === keyHash);
    if (!row || !key || keyExpiryMs(key) <= this.now()) return null;
    return tenantOf(row.record);
  }

  async list(): Promise<TenantRecord[]> {
    return (await this.db.query<{ record: TenantRecord }>({ text: 'SELECT record FROM tenants ORDER BY id' })).map((r) => r.record);
  }

  async get(id: string): Promise<TenantRecord | null> {
    const [row] = await this.db.query<{ record: TenantRecord }>({ name: 'tenant_get', text: 'SELECT record FROM tenants WHERE id = $1' }, [id]);
    return row?.record ?? null;
  }

  async create(record: TenantRecord): Promise<void> {
    const stored: TenantRecord = { ...record, version: 1 };
    try {
      await this.db.transaction(async (tx) => {
        await tx.query({ text: 'INSERT INTO tenants (id, version, record) VALUES ($1, 1, $2)' }, [record.id, JSON.stringify(stored)]);
        await insertKeys(tx, stored);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`tenant "${record.id}" or one of its API keys already exists`);
      throw err;
    }
  }

  async update(record: TenantRecord): Promise<boolean> {
    try {
      return await this.db.transaction(async (tx) => {
        const updated = await tx.query({ text: 'UPDATE tenants SET version = $2, record = $3 WHERE id = $1 AND version = $2 - 1 RETURNING id' }, [
          record.id,
          record.version,
          JSON.stringify(record),
        ]);
        if (updated.length === 0) {
          const [current] = await tx.query<{ version: number }>({ text: 'SELECT version FROM tenants WHERE id = $1' }, [record.id]);
          if (!current) return false;
          throw new StoreConflictError(`tenant "${record.id}" changed meanwhile (version ${current.version}, expected ${record.version - 1})`);
        }
        await tx.query({ text: 'DELETE FROM tenant_keys WHERE tenant_id = $1' }, [record.id]);
        await insertKeys(tx, record);
        return true;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`an API key of tenant "${record.id}" is already in use`);
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    // The keys go with it (ON DELETE CASCADE).
    return (await this.db.query({ text: 'DELETE FROM tenants WHERE id = $1 RETURNING id' }, [id])).length > 0;
  }
}

async function insertKeys(tx: Queryable, record: TenantRecord): Promise<void> {
  if (record.keys.length === 0) return;
  await tx.query({ text: 'INSERT INTO tenant_keys (hash, tenant_id) SELECT unnest($1::text[]), $2' }, [record.keys.map((k) => k.hash), record.id]);
}
