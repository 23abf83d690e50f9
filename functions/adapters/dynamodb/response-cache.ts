// The response cache in the "state" table: pk CACHE#<key>, sk CACHE. Expiry is kept to the
// millisecond in expiresAtMs and checked against the caller's nowMs on every read (DynamoDB's TTL
// deletion, driven by `ttl` in epoch seconds, runs up to days late and dynalite never runs it).
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CachedCompletion, ResponseCache } from '../../core/ports';

/** DynamoDB items are capped at 400 KB; the rest is headroom for the key and other attributes. */
export const DEFAULT_MAX_BODY_BYTES = 350 * 1024;

export interface DynamoResponseCacheOptions {
  tableName: string;
  /** Entries whose body has more UTF-8 bytes than this are not cached. */
  maxBodyBytes?: number;
}

export class DynamoResponseCache implements ResponseCache {
  private readonly maxBodyBytes: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoResponseCacheOptions,
  ) {
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  async get(key: string, nowMs: number): Promise<CachedCompletion | null> {
    // Eventually consistent: a just-written entry missed once costs only one provider call.
    const out = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: { pk: `CACHE#${key}`, sk: 'CACHE' } }));
    const item = out.Item;
    if (!item || typeof item.expiresAtMs !== 'number' || item.expiresAtMs <= nowMs) return null;
    if (typeof item.body !== 'string' || typeof item.provider !== 'string' || typeof item.model !== 'string' || typeof item.storedAtMs !== 'number')
      return null;
    return { body: item.body, provider: item.provider, model: item.model, storedAtMs: item.storedAtMs };
  }

  async set(key: string, value: CachedCompletion, ttlSeconds: number, nowMs: number): Promise<void> {
    if (ttlSeconds <= 0 || Buffer.byteLength(value.body, 'utf8') > this.maxBodyBytes) return;
    const expiresAtMs = nowMs + ttlSeconds * 1000;
    await this.doc.send(
      new PutCommand({
        TableName: this.opts.tableName,
        Item: {
          pk: `CACHE#${key}`,
          sk: 'CACHE',
          body: value.body,
          provider: value.provider,
          model: value.model,
          storedAtMs: value.storedAtMs,
          expiresAtMs,
          ttl: Math.ceil(expiresAtMs / 1000),
        },
      }),
    );
  }
}
