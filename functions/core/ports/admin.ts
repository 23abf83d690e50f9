// The management side besides tenants: admin users and the audit trail.

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
