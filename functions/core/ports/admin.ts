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

/** Which entries to list: every given condition holds; `from`/`to` bound `at` (ISO, both ends included). */
export interface AuditQuery {
  tenant_id?: string;
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  /** At most this many (default 100). */
  limit?: number;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first, the entries matching the query. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
}

/** True when the entry satisfies the query's conditions (the limit aside). */
export function auditMatches(entry: AuditEntry, q: AuditQuery): boolean {
  return (
    (q.tenant_id === undefined || entry.tenant_id === q.tenant_id) &&
    (q.actor === undefined || entry.actor === q.actor) &&
    (q.action === undefined || entry.action === q.action) &&
    (q.from === undefined || entry.at >= q.from) &&
    (q.to === undefined || entry.at <= q.to)
  );
}
