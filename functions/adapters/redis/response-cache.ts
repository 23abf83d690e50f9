// The response cache in Redis: <prefix>cache:<key> holds the entry as JSON with its expiry in ms.
// Redis expires the key itself (SET ... PX); get() also checks the stored expiry against the
// caller's nowMs, so every backend honours the port's clock the same way.
import type { Redis } from 'ioredis';
import type { CachedCompletion, ResponseCache } from '../../core/ports';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface RedisResponseCacheOptions {
  prefix?: string;
  /** Entries whose body has more UTF-8 bytes than this are not cached. */
  maxBodyBytes?: number;
}

interface StoredEntry extends CachedCompletion {
  expiresAtMs: number;
}

function parse(raw: string): StoredEntry | null {
  try {
    const v = JSON.parse(raw) as Partial<StoredEntry>;
    if (
      typeof v.body !== 'string' ||
      typeof v.provider !== 'string' ||
      typeof v.model !== 'string' ||
      typeof v.storedAtMs !== 'number' ||
      typeof v.expiresAtMs !== 'number'
    )
      return null;
    return v as StoredEntry;
  } catch {
    return null;
  }
}

export class RedisResponseCache implements ResponseCache {
  private readonly prefix: string;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly redis: Redis,
    opts: RedisResponseCacheOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'gw:';
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  async get(key: string, nowMs: number): Promise<CachedCompletion | null> {
    const raw = await this.redis.get(`${this.prefix}cache:${key}`);
    const entry = raw === null ? null : parse(raw);
    if (!entry || entry.expiresAtMs <= nowMs) return null;
    return { body: entry.body, provider: entry.provider, model: entry.model, storedAtMs: entry.storedAtMs };
  }

  async set(key: string, value: CachedCompletion, ttlSeconds: number, nowMs: number): Promise<void> {
    if (ttlSeconds <= 0 || Buffer.byteLength(value.body, 'utf8') > this.maxBodyBytes) return;
    const entry: StoredEntry = {
      body: value.body,
      provider: value.provider,
      model: value.model,
      storedAtMs: value.storedAtMs,
      expiresAtMs: nowMs + ttlSeconds * 1000,
    };
    await this.redis.set(`${this.prefix}cache:${key}`, JSON.stringify(entry), 'PX', ttlSeconds * 1000);
  }
}
