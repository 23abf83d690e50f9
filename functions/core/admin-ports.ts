// Ports of the management side: tenant records with their API keys, admin users, and the audit
// trail. Each has a memory and a DynamoDB implementation that pass the same contract suite.
import type { Tenant, TenantStore } from './ports';

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

export type AdminRole = 'admin' | 'editor' | 'viewer';

export interface AdminUser {
  username: string;
  role: AdminRole;
  /** `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`: never the password itself. */
  password_hash: string;
  created_at: string;
  updated_at: string;
}

export interface AdminUserRepository {
  get(username: string): Promise<AdminUser | null>;
  list(): Promise<AdminUser[]>;
  /** StoreConflictError if the username exists. */
  create(user: AdminUser): Promise<void>;
  /** Replaces an existing user; false if there is none. */
  update(user: AdminUser): Promise<boolean>;
  delete(username: string): Promise<boolean>;
}

/** One admin write: who did what, when, to which tenant or user. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  tenant_id?: string;
  /** Changed fields or other non-secret details; never keys or passwords. */
  details?: Record<string, unknown>;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first; optionally only one tenant's entries; at most `limit` (default 100). */
  list(query: { tenant_id?: string; limit?: number }): Promise<AuditEntry[]>;
}
