// Stored responses in Redis: <prefix>resp:<tenant>#<id> (both URI-encoded) is a hash of the
// record's fields and its expiry in ms, given an EXPIRE of the TTL in the same MULTI, so Redis drops
// it itself and it never exists without one. A hash rather than one JSON string: the two JSON texts
// (up to 16 MiB) travel and rest as they are, not escaped into an envelope that every read must
// parse. Reads also check the stored expiry against the caller's nowMs, as every backend does.
import type { Redis } from 'ioredis';
import { storedResponseBytes, storedResponseKey, StoredResponseTooLarge, type ResponseStore, type StoredResponse } from '../../core/ports';

/** Far below Redis's 512 MB limit: one record must still travel within a store deadline. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

export interface RedisResponseStoreOptions {
  prefix?: string;
  maxRecordBytes?: number;
}

const FIELDS = ['tenant_id', 'id', 'created_at', 'response_json', 'messages_json', 'expires_at_ms'] as const;

type Replies = Array<[Error | null, unknown]> | null;

/** A MULTI's replies, or its first error: an aborted or partly failed transaction is a failed call. */
function replies(out: Replies, what: string): unknown[] {
  const failed = out?.find(([err]) => err !== null);
  if (out === null || failed) throw failed?.[0] ?? new Error(`the ${what} transaction was aborted`);
  return out.map(([, value]) => value);
}

export class RedisResponseStore implements ResponseStore {
  readonly maxRecordBytes: number;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisResponseStoreOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'gw:';
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  async put(record: StoredResponse, ttlSeconds: number, nowMs: number): Promise<void> {
    const bytes = storedResponseBytes(record);
    if (bytes > this.maxRecordBytes) throw new StoredResponseTooLarge(bytes, this.maxRecordBytes);
    const key = this.key(record.tenant_id, record.id);
    const fields: Record<(typeof FIELDS)[number], string> = {
      tenant_id: record.tenant_id,
      id: record.id,
      created_at: String(record.created_at),
      response_json: record.response_json,
      messages_json: record.messages_json,
      expires_at_ms: String(nowMs + ttlSeconds * 1000),
    };
    replies(await this.redis.multi().del(key).hset(key, fields).expire(key, ttlSeconds).exec(), 'response write');
  }

  async get(tenantId: string, id: string, nowMs: number): Promise<StoredResponse | null> {
    const [tenant_id, storedId, createdAt, response_json, messages_json, expiresAtMs] = await this.redis.hmget(this.key(tenantId, id), ...FIELDS);
    if (tenant_id == null || storedId == null || createdAt == null || response_json == null || messages_json == null || expiresAtMs == null) return null;
    if (Number(expiresAtMs) <= nowMs) return null;
    return { tenant_id, id: storedId, created_at: Number(createdAt), response_json, messages_json };
  }

  async delete(tenantId: string, id: string, nowMs: number): Promise<boolean> {
    const key = this.key(tenantId, id);
    // One atomic step that also tells whether what it removed had expired by nowMs, without
    // fetching the record itself.
    const [expiresAtMs] = replies(await this.redis.multi().hget(key, 'expires_at_ms').del(key).exec(), 'response delete');
    return typeof expiresAtMs === 'string' && Number(expiresAtMs) > nowMs;
  }

  private key(tenantId: string, id: string): string {
    return `${this.prefix}resp:${storedResponseKey(tenantId, id)}`;
  }
}
