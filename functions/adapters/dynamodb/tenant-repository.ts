// Tenant records in DynamoDB, built only on single-item conditional writes (no transactions:
// dynalite, our test backend, has none). Items in the "tenants" table:
//
//   tenant       pk TENANT#<id>   sk TENANT   the whole TenantRecord, `version` guards updates
//   key pointer  pk KEY#<hash>    sk KEY      tenant_id, version (the tenant version that wrote it)
//
// A key's pointer is written BEFORE the tenant write that adds the key and removed AFTER the
// tenant write that drops it. findByKeyHash follows the pointer and then accepts the key only if
// the tenant record itself still lists it, unexpired. The record is the truth; a pointer is only
// an index. So a dangling pointer (a crash between the two writes, a lost update race, a deleted
// tenant, a failed best-effort removal) can never authenticate anyone, and a claim that finds one
// whose tenant no longer holds the key takes it over.
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreConflictError, type TenantRecord, type TenantRepository } from '../../core/ports';
import type { Tenant } from '../../core/ports';
import { keyExpiryMs, tenantOf } from '../tenant-record';
import { isConditionFailed, scanBySortKey } from './client';

const TENANT_SK = 'TENANT';
const KEY_SK = 'KEY';
const tenantKey = (id: string) => ({ pk: `TENANT#${id}`, sk: TENANT_SK });
const pointerKey = (hash: string) => ({ pk: `KEY#${hash}`, sk: KEY_SK });

export interface DynamoTenantRepositoryOptions {
  tableName: string;
  now?: () => number;
}

function toRecord(item: Record<string, unknown>): TenantRecord {
  const { pk, sk, ...record } = item;
  if (typeof record.id !== 'string' || typeof record.version !== 'number' || !Array.isArray(record.keys)) {
    throw new Error(`malformed tenant item ${String(pk)}`);
  }
  return record as unknown as TenantRecord;
}

export class DynamoTenantRepository implements TenantRepository {
  private readonly table: string;
  private readonly now: () => number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    opts: DynamoTenantRepositoryOptions,
  ) {
    this.table = opts.tableName;
    this.now = opts.now ?? Date.now;
  }

  /** The hot path's lookup: two consistent reads (the caller caches in process). */
  async findByKeyHash(keyHash: string): Promise<Tenant | null> {
    const owner = await this.pointerOwner(keyHash);
    if (owner === undefined) return null;
    const record = await this.get(owner);
    const key = record?.keys.find((k) => k.hash === keyHash);
    if (!record || !key || keyExpiryMs(key) <= this.now()) return null;
    return tenantOf(record);
  }

  async get(id: string): Promise<TenantRecord | null> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: tenantKey(id), ConsistentRead: true }));
    return out.Item ? toRecord(out.Item) : null;
  }

  /** A filtered Scan over the whole table: fine for an admin listing, never used on the hot path. */
  async list(): Promise<TenantRecord[]> {
    return (await scanBySortKey(this.doc, this.table, TENANT_SK)).map(toRecord);
  }

  async create(record: TenantRecord): Promise<void> {
    const stored: TenantRecord = { ...record, version: 1 };
    await this.claimKeys(stored);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...stored, ...tenantKey(record.id) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new StoreConflictError(`tenant "${record.id}" already exists`);
      throw err;
    }
  }

  async update(record: TenantRecord): Promise<boolean> {
    // Pointers for every key, not only new ones: cheap (a tenant has one or two keys) and it
    // repairs a pointer lost to an earlier failure.
    await this.claimKeys(record);
    let old: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...record, ...tenantKey(record.id) },
          ConditionExpression: '#v = :expected',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':expected': record.version - 1 },
          ReturnValues: 'ALL_OLD',
        }),
      );
      old = out.Attributes;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // The failed condition does not say why (and dynalite omits the old item): read it.
      if (!(await this.get(record.id))) return false;
      throw new StoreConflictError(`tenant "${record.id}" changed meanwhile (expected version ${record.version - 1})`);
    }
    if (old) {
      const kept = new Set(record.keys.map((k) => k.hash));
      const dropped = toRecord(old)
        .keys.map((k) => k.hash)
        .filter((h) => !kept.has(h));
      await this.releaseKeys(record.id, dropped, record.version);
    }
    return true;
  }

  async delete(id: string): Promise<boolean> {
    const out = await this.doc.send(new DeleteCommand({ TableName: this.table, Key: tenantKey(id), ReturnValues: 'ALL_OLD' }));
    if (!out.Attributes) return false;
    const old = toRecord(out.Attributes);
    await this.releaseKeys(
      id,
      old.keys.map((k) => k.hash),
      old.version + 1,
    );
    return true;
  }

  private async pointerOwner(keyHash: string): Promise<string | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: pointerKey(keyHash), ConsistentRead: true }));
    const owner = out.Item?.tenant_id;
    return typeof owner === 'string' ? owner : undefined;
  }

  private async claimKeys(record: TenantRecord): Promise<void> {
    await Promise.all(record.keys.map((k) => this.claimKey(record.id, k.hash, record.version)));
  }

  /**
   * Points the key at the tenant, unless another tenant's record still lists it. A pointer whose
   * tenant does not hold the key is stale and is taken over, conditional on its owner not having
   * changed meanwhile.
   */
  private async claimKey(id: string, keyHash: string, version: number): Promise<void> {
    let condition = 'attribute_not_exists(pk) OR tenant_id = :owner';
    let owner = id;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...pointerKey(keyHash), tenant_id: id, version },
            ConditionExpression: condition,
            ExpressionAttributeValues: { ':owner': owner },
          }),
        );
        return;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const current = await this.pointerOwner(keyHash);
      if (current === undefined || current === id) {
        condition = 'attribute_not_exists(pk) OR tenant_id = :owner';
        owner = id;
        continue;
      }
      const holder = await this.get(current);
      if (holder?.keys.some((k) => k.hash === keyHash)) {
        throw new StoreConflictError(`an API key of tenant "${id}" is already in use`);
      }
      condition = 'tenant_id = :owner';
      owner = current;
    }
    throw new StoreConflictError(`an API key of tenant "${id}" is being claimed concurrently`);
  }

  /**
   * Best effort: a pointer left behind is harmless (see the top of the file). Only pointers
   * written before `belowVersion` go, so a later write that re-adds the key keeps its pointer.
   * (Pointer versions restart at 1 when a tenant id is deleted and created again, so reusing the
   * very same key in that instant could lose its pointer; keys are random, so it is not guarded.)
   */
  private async releaseKeys(id: string, hashes: string[], belowVersion: number): Promise<void> {
    await Promise.allSettled(
      hashes.map((hash) =>
        this.doc.send(
          new DeleteCommand({
            TableName: this.table,
            Key: pointerKey(hash),
            ConditionExpression: 'tenant_id = :id AND #v < :below',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':id': id, ':below': belowVersion },
          }),
        ),
      ),
    );
  }
}
