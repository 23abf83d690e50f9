// Stored responses in Redis: <prefix>resp:<tenant>#<id> (both URI-encoded) holds the record as
// JSON with its expiry in ms, written with SET ... EX so Redis drops it itself; reads also check
// the stored expiry against the caller's nowMs, as every backend does.
import type { Redis } from 'ioredis';
import { storedResponseBytes, storedResponseKey, StoredResponseTooLarge, type ResponseStore, type StoredResponse } from '../../core/ports';

/** Far below Redis's 512 MB string limit: one record must still travel within a store deadline. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

export interface RedisResponseStoreOptions {
  prefix?: string;
  maxRecordBytes?: number;
}

interface StoredEntry extends StoredResponse {
  expires_at_ms: number;
}

function parse(raw: string): StoredEntry | null {
  try {
    const v = JSON.parse(raw) as Partial<StoredEntry>;
    if (
      typeof v.tenant_id !== 'string' ||
      typeof v.id !== 'string' ||
      typeof v.created_at !== 'number' ||
      typeof v.response_json !== 'string' ||
      typeof v.messages_json !== 'string' ||
      typeof v.expires_at_ms !== 'number'
    )
      return null;
    return v as StoredEntry;
  } catch {
    return null;
  }
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
    const entry: StoredEntry = {
      tenant_id: record.tenant_id,
      id: record.id,
      created_at: record.created_at,
      response_json: record.response_json,
      messages_json: record.messages_json,
      expires_at_ms: nowMs + ttlSeconds * 1000,
    };
    await this.redis.set(this.key(record.tenant_id, record.id), JSON.stringify(entry), 'EX', ttlSeconds);
  }

  async get(tenantId: string, id: string, nowMs: number): Promise<StoredResponse | null> {
    const raw = await this.redis.get(this.key(tenantId, id));
    const entry = raw === null ? null : parse(raw);
    if (!entry || entry.expires_at_ms <= nowMs) return null;
    return { tenant_id: entry.tenant_id, id: entry.id, created_at: entry.created_at, response_json: entry.response_json, messages_json: entry.messages_json };
  }

  async delete(tenantId: string, id: string, nowMs: number): Promise<boolean> {
    // GETDEL: one atomic step that also tells whether what it removed had expired by nowMs.
    const raw = await this.redis.getdel(this.key(tenantId, id));
    const entry = raw === null ? null : parse(raw);
    return entry !== null && entry.expires_at_ms > nowMs;
  }

  private key(tenantId: string, id: string): string {
    return `${this.prefix}resp:${storedResponseKey(tenantId, id)}`;
  }
}
