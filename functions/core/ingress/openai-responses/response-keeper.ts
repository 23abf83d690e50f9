// The Responses API's stored responses as the gateway writes and reads them: each answer is written
// off the client's path (after the answer is on its way) and tracked until the store has it, so
// that `Gateway.flush()` can wait for the writes (a Lambda freezes once it returns) and a read of
// the same response on this instance waits for its write rather than missing it.
import { setImmediate } from 'node:timers';
import type { Logger } from '../../logger';
import { storedResponseKey, type ResponseStore, type StoredResponse } from '../../ports';

export class ResponseKeeper {
  /** Writes not yet answered by the store, by `storedResponseKey`. */
  private readonly pending = new Map<string, Promise<void>>();

  /** `store` logs and skips a put that fails (resilience/response-store.ts); `ttlSeconds` is RESPONSES_TTL. */
  constructor(
    private readonly store: ResponseStore,
    private readonly ttlSeconds: number,
    readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /**
   * Stores the record `build` makes, after the current turn of the event loop: the answer is
   * written to the client first, and building the record (serialising a conversation) costs the
   * client nothing.
   */
  keep(tenantId: string, id: string, build: () => StoredResponse): void {
    const key = storedResponseKey(tenantId, id);
    const write: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.store.put(build(), this.ttlSeconds, this.now()))
      .catch((err: unknown) => this.logger.warn('response not stored', { tenant_id: tenantId, response_id: id, error: String(err) }))
      .finally(() => {
        if (this.pending.get(key) === write) this.pending.delete(key);
      });
    this.pending.set(key, write);
  }

  /** The tenant's stored response, once a write of it still under way on this instance is done. */
  async get(tenantId: string, id: string, nowMs: number): Promise<StoredResponse | null> {
    await this.pending.get(storedResponseKey(tenantId, id));
    return this.store.get(tenantId, id, nowMs);
  }

  /** Removes the tenant's stored response (after a write of it under way here); false when there was none. */
  async delete(tenantId: string, id: string, nowMs: number): Promise<boolean> {
    await this.pending.get(storedResponseKey(tenantId, id));
    return this.store.delete(tenantId, id, nowMs);
  }

  /** Resolves once every write started so far (and any started meanwhile) has its answer. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending.values()]);
  }
}
