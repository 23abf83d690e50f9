// Who a request is: tenants, found by an API key's hash on the request path, and their records
// with keys as the admin API manages them.

export interface Tenant {
  id: string;
  name: string;
  enabled: boolean;
  /** Requests per minute; 0 means unlimited. */
  rate_limit_rpm: number;
  /** Tokens per minute; 0 means unlimited. */
  rate_limit_tpm: number;
  budget_usd: number;
  allow_overage: boolean;
  /** Empty means every model is allowed. */
  allowed_models: string[];
  default_provider?: string;
  fallback_providers?: string[];
}

/** Auth step: resolves a presented API key's SHA-256 hash to its tenant. */
export interface TenantStore {
  findByKeyHash(keyHash: string): Promise<Tenant | null>;
}

/** One API key of a tenant. The key itself is never stored: only its SHA-256 hash. */
export interface ApiKeyRecord {
  /** SHA-256 of the key, hex. */
  hash: string;
  /** The key's first characters, enough to tell keys apart in a listing ("gw-3fK9a…"). */
  prefix: string;
  created_at: string;
  /** Set on a rotated-out key that still works during its grace period; absent = no expiry. */
  expires_at?: string;
}

/** A tenant as stored: the fields the gateway enforces, timestamps, keys and a version for conditional writes. */
export interface TenantRecord extends Tenant {
  created_at: string;
  updated_at: string;
  keys: ApiKeyRecord[];
  /** Incremented on every write; updates are conditional on the version read. */
  version: number;
}

/** A write lost a race (the version or the id changed meanwhile) or would duplicate an id. */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/**
 * Tenant records. findByKeyHash (the hot path's auth lookup) returns a tenant only while the
 * key is one of its keys and not past its expires_at.
 */
export interface TenantRepository extends TenantStore {
  list(): Promise<TenantRecord[]>;
  get(id: string): Promise<TenantRecord | null>;
  /** Stores a new tenant (version 1); StoreConflictError if the id or a key hash is taken. */
  create(record: TenantRecord): Promise<void>;
  /**
   * Replaces the record if the stored version is still `record.version - 1`; the keys in the
   * record are the tenant's keys from then on (added ones start working, removed ones stop).
   * StoreConflictError on a lost race; returns false if the tenant does not exist.
   */
  update(record: TenantRecord): Promise<boolean>;
  /** Removes the tenant and its keys; false if it did not exist. */
  delete(id: string): Promise<boolean>;
}
