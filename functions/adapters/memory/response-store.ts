// Stored responses in process memory (the local server): bounded by the bytes of the records,
// evicting the oldest first; expiry follows the caller's clock.
import { storedResponseBytes, storedResponseKey, StoredResponseTooLarge, type ResponseStore, type StoredResponse } from '../../core/ports';

/** What the local server keeps before evicting the oldest responses. */
export const DEFAULT_MEMORY_RESPONSES_BYTES = 64 * 1024 * 1024;

interface Entry {
  record: StoredResponse;
  expiresAtMs: number;
  bytes: number;
}

export class MemoryResponseStore implements ResponseStore {
  /** Insertion order is age order: a replaced record moves to the end. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(readonly maxRecordBytes: number = DEFAULT_MEMORY_RESPONSES_BYTES) {}

  async put(record: StoredResponse, ttlSeconds: number, nowMs: number): Promise<void> {
    const bytes = storedResponseBytes(record);
    if (bytes > this.maxRecordBytes) throw new StoredResponseTooLarge(bytes, this.maxRecordBytes);
    const key = storedResponseKey(record.tenant_id, record.id);
    this.remove(key);
    this.entries.set(key, { record: { ...record }, expiresAtMs: nowMs + ttlSeconds * 1000, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxRecordBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  async get(tenantId: string, id: string, nowMs: number): Promise<StoredResponse | null> {
    const key = storedResponseKey(tenantId, id);
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAtMs <= nowMs) {
      this.remove(key);
      return null;
    }
    return { ...entry.record };
  }

  async delete(tenantId: string, id: string, nowMs: number): Promise<boolean> {
    const entry = this.remove(storedResponseKey(tenantId, id));
    return entry !== undefined && entry.expiresAtMs > nowMs;
  }

  /** The bytes of the records held (expired ones count until they are read or evicted). */
  get sizeBytes(): number {
    return this.bytes;
  }

  private remove(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
    return entry;
  }
}
