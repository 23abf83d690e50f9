// The exact-match response cache.

export interface CachedCompletion {
  /** The completion JSON as the provider produced it, without gateway metadata. */
  body: string;
  provider: string;
  model: string;
  storedAtMs: number;
}

/** Cache step: exact-match response cache with a TTL per entry. */
export interface ResponseCache {
  get(key: string, nowMs: number): Promise<CachedCompletion | null>;
  set(key: string, value: CachedCompletion, ttlSeconds: number, nowMs: number): Promise<void>;
}
