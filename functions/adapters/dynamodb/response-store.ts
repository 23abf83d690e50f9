// Stored responses in the "state" table, split over as many items as DynamoDB's 400 KB item limit
// needs (a conversation with images or long tool outputs outgrows one item within a few turns):
//   RESP#<tenant>#<id>   RESPONSE              the head: the record's fields, its first part, and
//                                              how many parts there are under which generation
//   RESP#<tenant>#<id>   PART#<gen>#<n>        part n ≥ 1 of the UTF-8 bytes of response_json
//                                              followed by messages_json
// A put writes the parts first and the head last, so a reader that finds a head finds its parts:
// a record appears whole or not at all without a transaction (which dynalite lacks and which
// would cap a record at 4 MB). Each put has a fresh generation, so replacing a record never mixes
// its parts with the old one's; the old parts are deleted once the new head is in. Every item
// carries `ttl` (epoch seconds) for DynamoDB's TTL deletion, and the head's expires_at_ms is
// checked against the caller's clock on every read: an expired head not yet swept reads as
// absent, and a head whose parts were swept first reads as absent too.
import { randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { storedResponseBytes, storedResponseKey, StoredResponseTooLarge, type ResponseStore, type StoredResponse } from '../../core/ports';

/** Bytes of the record per item: 400 KB less room for the keys and the head's other attributes. */
export const PART_BYTES = 380 * 1024;
/** 44 parts: each a single-item call, so one record stays within the request path's deadlines. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Part reads and writes in flight at once for one record. */
const PART_CONCURRENCY = 8;
const HEAD = 'RESPONSE';

export interface DynamoResponseStoreOptions {
  tableName: string;
  maxRecordBytes?: number;
  /** Bytes per item (tests use a small value to exercise splitting cheaply); default PART_BYTES. */
  partBytes?: number;
}

interface Head {
  tenant_id: string;
  id: string;
  created_at: number;
  /** Where response_json ends in the record's bytes. */
  response_bytes: number;
  total_bytes: number;
  /** Items the bytes span, the head included. */
  parts: number;
  gen: string;
  data: Uint8Array;
  expires_at_ms: number;
}

function asHead(item: Record<string, unknown> | undefined): Head | null {
  if (!item) return null;
  const { tenant_id, id, created_at, response_bytes, total_bytes, parts, gen, data, expires_at_ms } = item;
  if (
    typeof tenant_id !== 'string' ||
    typeof id !== 'string' ||
    typeof created_at !== 'number' ||
    typeof response_bytes !== 'number' ||
    typeof total_bytes !== 'number' ||
    typeof parts !== 'number' ||
    typeof gen !== 'string' ||
    !(data instanceof Uint8Array) ||
    typeof expires_at_ms !== 'number'
  )
    return null;
  return { tenant_id, id, created_at, response_bytes, total_bytes, parts, gen, data, expires_at_ms };
}

const partKey = (gen: string, n: number): string => `PART#${gen}#${n}`;

/** Runs `work` for 0..count-1 with at most PART_CONCURRENCY in flight; rejects on the first failure. */
async function forEachPart<T>(count: number, work: (n: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      results[n] = await work(n);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, count) }, worker));
  return results;
}

export class DynamoResponseStore implements ResponseStore {
  readonly maxRecordBytes: number;
  private readonly partBytes: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoResponseStoreOptions,
  ) {
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.partBytes = opts.partBytes ?? PART_BYTES;
  }

  async put(record: StoredResponse, ttlSeconds: number, nowMs: number): Promise<void> {
    const bytes = storedResponseBytes(record);
    if (bytes > this.maxRecordBytes) throw new StoredResponseTooLarge(bytes, this.maxRecordBytes);
    const response = Buffer.from(record.response_json, 'utf8');
    const all = Buffer.concat([response, Buffer.from(record.messages_json, 'utf8')]);
    const parts = Math.max(1, Math.ceil(all.length / this.partBytes));
    const slice = (n: number): Uint8Array => all.subarray(n * this.partBytes, (n + 1) * this.partBytes);
    const gen = randomBytes(6).toString('hex');
    const expiresAtMs = nowMs + ttlSeconds * 1000;
    const ttl = Math.ceil(expiresAtMs / 1000);
    const pk = this.pk(record.tenant_id, record.id);
    await forEachPart(parts - 1, (i) =>
      this.doc.send(new PutCommand({ TableName: this.opts.tableName, Item: { pk, sk: partKey(gen, i + 1), data: slice(i + 1), ttl } })),
    );
    const out = await this.doc.send(
      new PutCommand({
        TableName: this.opts.tableName,
        Item: {
          pk,
          sk: HEAD,
          tenant_id: record.tenant_id,
          id: record.id,
          created_at: record.created_at,
          response_bytes: response.length,
          total_bytes: all.length,
          parts,
          gen,
          data: slice(0),
          expires_at_ms: expiresAtMs,
          ttl,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const replaced = asHead(out.Attributes);
    if (replaced && replaced.gen !== gen) await this.deleteParts(pk, replaced);
  }

  async get(tenantId: string, id: string, nowMs: number): Promise<StoredResponse | null> {
    const pk = this.pk(tenantId, id);
    // Strongly consistent: a client continues a conversation right after the answer that stored it.
    const out = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: { pk, sk: HEAD }, ConsistentRead: true }));
    const head = asHead(out.Item);
    if (!head || head.expires_at_ms <= nowMs) return null;
    const rest = await forEachPart(head.parts - 1, async (i) => {
      const part = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: { pk, sk: partKey(head.gen, i + 1) }, ConsistentRead: true }));
      const data = part.Item?.data;
      return data instanceof Uint8Array ? data : null;
    });
    if (rest.some((p) => p === null)) return null;
    const all = Buffer.concat([head.data, ...(rest as Uint8Array[])]);
    if (all.length !== head.total_bytes) return null;
    return {
      tenant_id: head.tenant_id,
      id: head.id,
      created_at: head.created_at,
      response_json: all.subarray(0, head.response_bytes).toString('utf8'),
      messages_json: all.subarray(head.response_bytes).toString('utf8'),
    };
  }

  async delete(tenantId: string, id: string, nowMs: number): Promise<boolean> {
    const pk = this.pk(tenantId, id);
    const out = await this.doc.send(new DeleteCommand({ TableName: this.opts.tableName, Key: { pk, sk: HEAD }, ReturnValues: 'ALL_OLD' }));
    const head = asHead(out.Attributes);
    if (!head) return false;
    // Parts left behind by a failure here are unreachable without their head; their ttl sweeps them.
    await this.deleteParts(pk, head);
    return head.expires_at_ms > nowMs;
  }

  private deleteParts(pk: string, head: Head): Promise<unknown> {
    return forEachPart(head.parts - 1, (i) => this.doc.send(new DeleteCommand({ TableName: this.opts.tableName, Key: { pk, sk: partKey(head.gen, i + 1) } })));
  }

  private pk(tenantId: string, id: string): string {
    return `RESP#${storedResponseKey(tenantId, id)}`;
  }
}
