import type { CachedCompletion, ResponseCache } from '../../core/ports';

interface Entry {
  value: CachedCompletion;
  expiresAtMs: number;
  bytes: number;
}

/** LRU cache bounded by the bytes of its entries; a Map's insertion order is the recency order. */
export class MemoryResponseCache implements ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  async get(key: string, nowMs: number): Promise<CachedCompletion | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    this.entries.delete(key);
    if (entry.expiresAtMs <= nowMs) {
      this.bytes -= entry.bytes;
      return null;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: CachedCompletion, ttlSeconds: number, nowMs: number): Promise<void> {
    const bytes = value.body.length * 2 + key.length * 2;
    if (bytes > this.maxBytes || ttlSeconds <= 0) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, { value, expiresAtMs: nowMs + ttlSeconds * 1000, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  get sizeBytes(): number {
    return this.bytes;
  }
}
