// functions/adapters/memory — in-process implementations of every port: the embedded default of
// `npm start`, exact for one instance and run by every contract suite, and the local copies the
// resilience wrappers fall back on; also the Prometheus registry behind /metrics. State shared by
// several instances belongs in dynamodb/ or redis/.
//
// In-process tenant records (the embedded default): one map by id, one index by key hash for the
// hot path's lookup. Records are copied in and out so a caller cannot change the store by mutation.
import { StoreConflictError, type TenantRecord, type TenantRepository } from '../../core/ports';
import type { Tenant } from '../../core/ports';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY, hashApiKey } from '../../core/tenants';
import { keyExpiryMs, keyPrefix, tenantOf } from '../tenant-record';

interface KeyEntry {
  tenantId: string;
  /**
   * Built once per write and returned by every lookup: no copy per request, and the routing
   * memo (a WeakMap on the tenant object) stays warm until the tenant changes.
   */
  tenant: Tenant;
  expiresAtMs: number;
}

export interface MemoryTenantRepositoryOptions {
  now?: () => number;
}

export class MemoryTenantRepository implements TenantRepository {
  private readonly records = new Map<string, TenantRecord>();
  private readonly byKeyHash = new Map<string, KeyEntry>();
  private readonly now: () => number;

  constructor(seed: Array<{ key: string; tenant: Tenant }> = [{ key: DEFAULT_TENANT_KEY, tenant: DEFAULT_TENANT }], opts: MemoryTenantRepositoryOptions = {}) {
    this.now = opts.now ?? Date.now;
    for (const { key, tenant } of seed) this.put(key, tenant);
  }

  async findByKeyHash(keyHash: string): Promise<Tenant | null> {
    const entry = this.byKeyHash.get(keyHash);
    if (!entry) return null;
    if (entry.expiresAtMs !== Infinity && entry.expiresAtMs <= this.now()) return null;
    return entry.tenant;
  }

  async list(): Promise<TenantRecord[]> {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  async get(id: string): Promise<TenantRecord | null> {
    const record = this.records.get(id);
    return record ? structuredClone(record) : null;
  }

  async create(record: TenantRecord): Promise<void> {
    if (this.records.has(record.id)) throw new StoreConflictError(`tenant "${record.id}" already exists`);
    this.checkKeysFree(record);
    this.store({ ...structuredClone(record), version: 1 });
  }

  async update(record: TenantRecord): Promise<boolean> {
    const current = this.records.get(record.id);
    if (!current) return false;
    if (current.version !== record.version - 1) {
      throw new StoreConflictError(`tenant "${record.id}" changed meanwhile (version ${current.version}, expected ${record.version - 1})`);
    }
    this.checkKeysFree(record);
    this.unindex(current);
    this.store(structuredClone(record));
    return true;
  }

  async delete(id: string): Promise<boolean> {
    const current = this.records.get(id);
    if (!current) return false;
    this.unindex(current);
    this.records.delete(id);
    return true;
  }

  /**
   * Stores or replaces the tenant's record with exactly this one key (tests and local seeding).
   * A key that belonged to another tenant moves to this one.
   */
  put(key: string, tenant: Tenant): void {
    const at = new Date(this.now()).toISOString();
    const hash = hashApiKey(key);
    const previousOwner = this.byKeyHash.get(hash)?.tenantId;
    if (previousOwner !== undefined && previousOwner !== tenant.id) {
      const other = this.records.get(previousOwner);
      if (other) {
        this.unindex(other);
        this.store({ ...other, keys: other.keys.filter((k) => k.hash !== hash), version: other.version + 1 });
      }
    }
    const current = this.records.get(tenant.id);
    if (current) this.unindex(current);
    this.store({
      ...structuredClone(tenant),
      created_at: current?.created_at ?? at,
      updated_at: at,
      keys: [{ hash, prefix: keyPrefix(key), created_at: at }],
      version: (current?.version ?? 0) + 1,
    });
  }

  private checkKeysFree(record: TenantRecord): void {
    for (const key of record.keys) {
      const owner = this.byKeyHash.get(key.hash)?.tenantId;
      if (owner !== undefined && owner !== record.id) {
        throw new StoreConflictError(`an API key of tenant "${record.id}" is already in use`);
      }
    }
  }

  private store(record: TenantRecord): void {
    this.records.set(record.id, record);
    const tenant = tenantOf(record);
    for (const key of record.keys) {
      this.byKeyHash.set(key.hash, { tenantId: record.id, tenant, expiresAtMs: keyExpiryMs(key) });
    }
  }

  private unindex(record: TenantRecord): void {
    for (const key of record.keys) {
      if (this.byKeyHash.get(key.hash)?.tenantId === record.id) this.byKeyHash.delete(key.hash);
    }
  }
}
