// The audit trail in PostgreSQL: one row per admin write, read newest first (by time, then id,
// as every backend orders it), filtered as the query asks.
import type { AuditEntry, AuditLog, AuditQuery } from '../../core/ports';
import type { PgDatabase } from './pool';

const DEFAULT_LIST_LIMIT = 100;
const COLUMNS = 'id, at, actor, action, tenant_id, details';

/**
 * Each condition a query may set, as SQL on its parameter. `at` is ISO text in the "C" collation,
 * so the bounds compare byte by byte, as auditMatches compares them.
 */
const FILTERS: ReadonlyArray<{ field: Exclude<keyof AuditQuery, 'limit'>; test: (param: string) => string }> = [
  { field: 'tenant_id', test: (p) => `tenant_id = ${p}` },
  { field: 'actor', test: (p) => `actor = ${p}` },
  { field: 'action', test: (p) => `action = ${p}` },
  { field: 'from', test: (p) => `at >= ${p}` },
  { field: 'to', test: (p) => `at <= ${p}` },
];

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

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const values: unknown[] = [];
    const conditions = FILTERS.flatMap(({ field, test }) => {
      const value = query[field];
      if (value === undefined) return [];
      values.push(value);
      return [test(`$${values.length}`)];
    });
    values.push(query.limit ?? DEFAULT_LIST_LIMIT);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')} ` : '';
    const rows = await this.db.query<Row>({ text: `SELECT ${COLUMNS} FROM audit_log ${where}ORDER BY at DESC, id DESC LIMIT $${values.length}` }, values);
    return rows.map(toEntry);
  }
}
