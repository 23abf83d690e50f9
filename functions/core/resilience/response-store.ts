// Stored responses while their store is failing. A put is logged and skipped: the answer has
// reached (or is reaching) the client, and only a later continuation of it is lost. A read or a
// delete fails with StoreUnavailableError, which the client sees as 503 store_unavailable: never a
// 404 for a response that may well exist. A record larger than the store keeps is skipped before
// the store is called, so it never counts as a store failure.
import type { Logger } from '../logger';
import { storedResponseBytes, type ResponseStore, type StoredResponse } from '../ports';
import type { StoreGuard } from '../store-guard';

export class ResilientResponseStore implements ResponseStore {
  readonly maxRecordBytes: number;

  /** `guard`: the shared store's; absent for a store in process memory, which cannot be down. */
  constructor(
    private readonly inner: ResponseStore,
    private readonly logger: Logger,
    private readonly guard?: StoreGuard,
  ) {
    this.maxRecordBytes = inner.maxRecordBytes;
  }

  async put(record: StoredResponse, ttlSeconds: number, nowMs: number): Promise<void> {
    const bytes = storedResponseBytes(record);
    if (bytes > this.maxRecordBytes) {
      this.logger.warn('response not stored: larger than the response store keeps', {
        tenant_id: record.tenant_id,
        response_id: record.id,
        bytes,
        max_bytes: this.maxRecordBytes,
      });
      return;
    }
    try {
      await this.run('responses.put', () => this.inner.put(record, ttlSeconds, nowMs));
    } catch (err) {
      this.logger.warn('response not stored: the response store failed', {
        tenant_id: record.tenant_id,
        response_id: record.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  get(tenantId: string, id: string, nowMs: number): Promise<StoredResponse | null> {
    return this.run('responses.get', () => this.inner.get(tenantId, id, nowMs));
  }

  delete(tenantId: string, id: string, nowMs: number): Promise<boolean> {
    return this.run('responses.delete', () => this.inner.delete(tenantId, id, nowMs));
  }

  private run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return this.guard ? this.guard.run(operation, call) : call();
  }
}
