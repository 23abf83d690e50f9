// Stored responses (the Responses API) in PostgreSQL: one row per (tenant, id) with its expiry
// in ms. Reads and deletes check that expiry against the caller's nowMs, as every backend does;
// rows past it are pruned in the background (maintenance.ts).
import { storedResponseBytes, StoredResponseTooLarge, type ResponseStore, type StoredResponse } from '../../core/ports';
import type { PgDatabase } from './pool';

/** As in Redis: one record must still travel within a store deadline. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

const PUT = {
  name: 'response_put',
  text: `INSERT INTO stored_responses (tenant_id, id, created_at, response_json, messages_json, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, id) DO UPDATE SET created_at = EXCLUDED.created_at, response_json = EXCLUDED.response_json,
  messages_json = EXCLUDED.messages_json, expires_at_ms = EXCLUDED.expires_at_ms`,
};
const GET = {
  name: 'response_get',
  text: 'SELECT created_at::text AS created_at, response_json, messages_json FROM stored_responses WHERE tenant_id = $1 AND id = $2 AND expires_at_ms > $3',
};
const DELETE = {
  name: 'response_delete',
  text: 'DELETE FROM stored_responses WHERE tenant_id = $1 AND id = $2 RETURNING expires_at_ms > $3 AS live',
};

export class PgResponseStore implements ResponseStore {
  readonly maxRecordBytes: number;

  constructor(
    private readonly db: PgDatabase,
    opts: { maxRecordBytes?: number } = {},
  ) {
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  async put(record: StoredResponse, ttlSeconds: number, nowMs: number): Promise<void> {
    const bytes = storedResponseBytes(record);
    if (bytes > this.maxRecordBytes) throw new StoredResponseTooLarge(bytes, this.maxRecordBytes);
    await this.db.query(PUT, [record.tenant_id, record.id, record.created_at, record.response_json, record.messages_json, nowMs + ttlSeconds * 1000]);
  }

  async get(tenantId: string, id: string, nowMs: number): Promise<StoredResponse | null> {
    const [row] = await this.db.query<{ created_at: string; response_json: string; messages_json: string }>(GET, [tenantId, id, nowMs]);
    if (!row) return null;
    return { tenant_id: tenantId, id, created_at: Number(row.created_at), response_json: row.response_json, messages_json: row.messages_json };
  }

  async delete(tenantId: string, id: string, nowMs: number): Promise<boolean> {
    const [row] = await this.db.query<{ live: boolean }>(DELETE, [tenantId, id, nowMs]);
    return row?.live === true;
  }
}
