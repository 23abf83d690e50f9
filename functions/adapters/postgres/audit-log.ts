// The audit trail in PostgreSQL: one row per admin write, read newest first (by time, then id,
// as every backend orders it), optionally one tenant's.
import type { AuditEntry, AuditLog } from '../../core/ports';
import type { PgDatabase } from './pool';

const DEFAULT_LIST_LIMIT = 100;

interface Row {
  id: string;
  at: string;
  actor: string;
  action: string;
  tenant_id: string | null;
  details: Record<string, unknown> | null;
}

function toEntry(r: Row): AuditEntry {
  const entry: AuditEntry = { id: r.id, at: r.at, actor: r.actor, action: r.action };
  if (r.tenant_id !== null) entry.tenant_id = r.tenant_id;
  if (r.details !== null) entry.details = r.details;
  return entry;
}

export class PgAuditLog implements AuditLog {
  constructor(private readonly db: PgDatabase) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.db.query({ text: 'INSERT INTO audit_log (id, at, actor, action, tenant_id, details) VALUES ($1, $2, $3, $4, $5, $6)' }, [
      entry.id,
      entry.at,
      entry.actor,
      entry.action,
      entry.tenant_id ?? null,
      entry.details === undefined ? null : JSON.stringify(entry.details),
    ]);
  }

  async list(query: { tenant_id?: string; limit?: number }): Promise<AuditEntry[]> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const columns = 'id, at, actor, action, tenant_id, details';
    const rows =
      query.tenant_id === undefined
        ? await this.db.query<Row>({ text: `SELECT ${columns} FROM audit_log ORDER BY at DESC, id DESC LIMIT $1` }, [limit])
        : await this.db.query<Row>({ text: `SELECT ${columns} FROM audit_log WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2` }, [
            query.tenant_id,
            limit,
          ]);
    return rows.map(toEntry);
  }
}
