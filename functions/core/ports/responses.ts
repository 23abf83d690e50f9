// Stored responses (the Responses API): each response a tenant asked to keep, with the
// conversation that continues it, so `previous_response_id` works on any provider and
// GET/DELETE /v1/responses/{id} can answer. Records are addressed by tenant and id together:
// no call can reach another tenant's record.

export interface StoredResponse {
  tenant_id: string;
  /** The response id the client sees (`resp_…`). */
  id: string;
  /** Unix seconds, as in the response object. */
  created_at: number;
  /** The response object as the client received it, as JSON text. */
  response_json: string;
  /** The canonical messages that continue the conversation (input history + this output), as JSON text. */
  messages_json: string;
}

export interface ResponseStore {
  /**
   * The largest record this store keeps, in UTF-8 bytes of its two JSON texts (see
   * `storedResponseBytes`); `put` rejects a larger one with StoredResponseTooLarge.
   */
  readonly maxRecordBytes: number;
  /** Keeps the record until nowMs + ttlSeconds, replacing one of the same tenant and id. */
  put(record: StoredResponse, ttlSeconds: number, nowMs: number): Promise<void>;
  /** The tenant's record, or null when there is none or it expired by nowMs. */
  get(tenantId: string, id: string, nowMs: number): Promise<StoredResponse | null>;
  /** Removes the tenant's record; false when there was none (or it had expired by nowMs). */
  delete(tenantId: string, id: string, nowMs: number): Promise<boolean>;
}

/** A record over the store's `maxRecordBytes`: refused before anything is written. */
export class StoredResponseTooLarge extends Error {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`The stored response is ${bytes} bytes; this store keeps at most ${maxBytes}.`);
    this.name = 'StoredResponseTooLarge';
  }
}

/** A record's size as every store measures it: the UTF-8 bytes of its two JSON texts. */
export function storedResponseBytes(record: StoredResponse): number {
  return Buffer.byteLength(record.response_json, 'utf8') + Buffer.byteLength(record.messages_json, 'utf8');
}

/**
 * One string per (tenant, id) that no other pair produces: both parts are URI-encoded, so neither
 * contains the separator. A client-chosen id such as "x#y" cannot reach another tenant's key.
 */
export function storedResponseKey(tenantId: string, id: string): string {
  return `${encodeURIComponent(tenantId)}#${encodeURIComponent(id)}`;
}
