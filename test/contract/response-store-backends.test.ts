// Runs the ResponseStore contract against memory, DynamoDB (real SDK clients on an embedded
// dynalite) and Redis (ioredis on a redis-server this file starts), then what only one backend
// does: memory's eviction, DynamoDB's split over items under its 400 KB limit, Redis's own expiry;
// and the state stores as the gateway composes them, on the backend the configuration selects.
// Every DynamoDB test gets a "state" table of its own, every Redis test its own key prefix.
import { randomBytes } from 'node:crypto';
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { selectBackends } from '../../functions/adapters/backends';
import { DynamoResponseStore, PART_BYTES } from '../../functions/adapters/dynamodb/response-store';
import { MemoryResponseStore } from '../../functions/adapters/memory/response-store';
import { RedisResponseStore } from '../../functions/adapters/redis/response-store';
import { createStateStores, type StateStores } from '../../functions/adapters/state';
import { loadConfig, type Env } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { StoreGuards } from '../../functions/core/store-guard';
import { useStateBackends } from '../helpers/state-backends';
import { recordOfBytes, responseStoreContract, storedResponse } from './response-store.contract';

const backends = useStateBackends('responses');
const noCleanup = async (): Promise<void> => {};

/** Four items' worth at the real part size: the contract's large records must be split to be stored. */
const DYNAMO_TEST_MAX = 4 * PART_BYTES - 1000;

responseStoreContract('memory', async () => ({ repo: new MemoryResponseStore(256 * 1024), cleanup: noCleanup }));
responseStoreContract('dynamodb (dynalite)', async () => {
  const { tableName, cleanup } = await backends.freshStateTable();
  return { repo: new DynamoResponseStore(backends.doc, { tableName, maxRecordBytes: DYNAMO_TEST_MAX }), cleanup };
});
responseStoreContract('redis', async () => ({
  repo: new RedisResponseStore(backends.redis, { prefix: backends.redisPrefix(), maxRecordBytes: 1024 * 1024 }),
  cleanup: noCleanup,
}));

const T0 = 1_767_225_600_000;

describe('memory response store', () => {
  it('evicts the oldest records past its byte cap; a replaced record counts as new', async () => {
    const store = new MemoryResponseStore(3000);
    const put = (id: string) => store.put(recordOfBytes('t', id, 1000), 60, T0);
    await put('a');
    await put('b');
    await put('c');
    await put('a'); // replaced: now the newest
    await put('d'); // over the cap: the oldest (b) goes
    expect(await store.get('t', 'b', T0)).toBeNull();
    expect(await store.get('t', 'c', T0)).not.toBeNull();
    expect(await store.get('t', 'a', T0)).not.toBeNull();
    expect(await store.get('t', 'd', T0)).not.toBeNull();
    expect(store.sizeBytes).toBe(3000);
  });

  it('frees the bytes of deleted and expired records', async () => {
    const store = new MemoryResponseStore(3000);
    await store.put(recordOfBytes('t', 'a', 1000), 60, T0);
    await store.put(recordOfBytes('t', 'b', 1000), 10, T0);
    await store.delete('t', 'a', T0);
    expect(await store.get('t', 'b', T0 + 10_000)).toBeNull();
    expect(store.sizeBytes).toBe(0);
  });
});

describe('DynamoDB response store: records over the 400 KB item limit', () => {
  const itemsOf = async (tableName: string, tenantId: string, id: string) =>
    (
      await backends.doc.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `RESP#${tenantId}#${id}` },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];

  it('the local DynamoDB refuses an item over 400 KB, as DynamoDB does (so the split below is needed)', async () => {
    const { tableName, cleanup } = await backends.freshStateTable();
    const unsplit = new DynamoResponseStore(backends.doc, { tableName, partBytes: 450 * 1024 });
    await expect(unsplit.put(recordOfBytes('t', 'r', 450 * 1024), 60, T0)).rejects.toThrow(/size/i);
    await cleanup();
  });

  it('splits a 1 MB record over items under the limit, each with the ttl DynamoDB sweeps by', async () => {
    const { tableName, cleanup } = await backends.freshStateTable();
    const store = new DynamoResponseStore(backends.doc, { tableName });
    const record = recordOfBytes('t', 'resp_big', 1024 * 1024);
    await store.put(record, 90, T0);
    const items = await itemsOf(tableName, 't', 'resp_big');
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect((item.data as Uint8Array).length).toBeLessThanOrEqual(PART_BYTES);
      expect(item.ttl).toBe(T0 / 1000 + 90);
    }
    expect(await store.get('t', 'resp_big', T0)).toEqual(record);
    await cleanup();
  });

  it('reads an expired record that the TTL sweep has not yet deleted as absent', async () => {
    const { tableName, cleanup } = await backends.freshStateTable();
    const store = new DynamoResponseStore(backends.doc, { tableName });
    await store.put(storedResponse('t', 'resp_1'), 90, T0);
    expect(await store.get('t', 'resp_1', T0 + 90_000)).toBeNull();
    expect(await itemsOf(tableName, 't', 'resp_1')).toHaveLength(1); // still in the table
    await cleanup();
  });

  it('reads a record whose part the TTL sweep took first as absent, not as a truncated record', async () => {
    const { tableName, cleanup } = await backends.freshStateTable();
    const store = new DynamoResponseStore(backends.doc, { tableName });
    await store.put(recordOfBytes('t', 'resp_big', 1024 * 1024), 90, T0);
    const part = (await itemsOf(tableName, 't', 'resp_big')).find((i) => String(i.sk).startsWith('PART#'));
    await backends.doc.send(new DeleteCommand({ TableName: tableName, Key: { pk: part?.pk, sk: part?.sk } }));
    expect(await store.get('t', 'resp_big', T0)).toBeNull();
    await cleanup();
  });

  it('leaves no parts behind when a split record is replaced or deleted', async () => {
    const { tableName, cleanup } = await backends.freshStateTable();
    const store = new DynamoResponseStore(backends.doc, { tableName });
    await store.put(recordOfBytes('t', 'resp_big', 1024 * 1024), 90, T0);
    await store.put(storedResponse('t', 'resp_big'), 90, T0);
    expect(await itemsOf(tableName, 't', 'resp_big')).toHaveLength(1);
    await store.put(recordOfBytes('t', 'resp_big', 1024 * 1024), 90, T0);
    expect(await store.delete('t', 'resp_big', T0)).toBe(true);
    expect(await itemsOf(tableName, 't', 'resp_big')).toHaveLength(0);
    await cleanup();
  });
});

describe('Redis response store', () => {
  it('gives the key an expiry of the TTL, so Redis drops the record itself when it runs out', async () => {
    // A redis-server's clock cannot be moved: the contract proves expiry by the caller's clock;
    // here the key's own TTL proves Redis will drop it at the same moment.
    const keyPrefix = backends.redisPrefix();
    const store = new RedisResponseStore(backends.redis, { prefix: keyPrefix });
    await store.put(storedResponse('tenant-a', 'resp_1'), 2_592_000, Date.now());
    const keys = await backends.redis.keys(`${keyPrefix}*`);
    expect(keys).toEqual([`${keyPrefix}resp:tenant-a#resp_1`]);
    const ttl = await backends.redis.ttl(keys[0] as string);
    expect(ttl).toBeGreaterThan(2_592_000 - 5);
    expect(ttl).toBeLessThanOrEqual(2_592_000);
  });
});

describe('composed state stores: stored responses on the selected backend', () => {
  /** One instance's state stores, built as the chat gateway's composition builds them. */
  async function instance(env: Env): Promise<StateStores> {
    const config = loadConfig(env, () => '{}', 'test');
    const now = () => T0;
    return createStateStores(config, selectBackends(config), now, new StoreGuards({ now, logger: silentLogger }), silentLogger);
  }

  const shared: Array<[string, () => Env]> = [
    ['redis (REDIS_URL)', () => ({ REDIS_URL: backends.redisUrl })],
    ['the DynamoDB state table', () => ({ DYNAMODB_ENDPOINT: backends.dynamoEndpoint, STATE_TABLE: backends.uniqueTableName('composed') })],
  ];

  it.each(shared)('%s: a response one instance stores, another reads and deletes', async (_name, env) => {
    const config = env();
    const [a, b] = [await instance(config), await instance(config)];
    try {
      const record = storedResponse('tenant-a', `resp_${randomBytes(4).toString('hex')}`);
      await a.responses.put(record, 60, T0);
      expect(await b.responses.get('tenant-a', record.id, T0)).toEqual(record);
      expect(await b.responses.delete('tenant-a', record.id, T0)).toBe(true);
      expect(await a.responses.get('tenant-a', record.id, T0)).toBeNull();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('nothing set: each instance keeps its own, in memory', async () => {
    const [a, b] = [await instance({}), await instance({})];
    await a.responses.put(storedResponse('tenant-a', 'resp_1'), 60, T0);
    expect(await a.responses.get('tenant-a', 'resp_1', T0)).not.toBeNull();
    expect(await b.responses.get('tenant-a', 'resp_1', T0)).toBeNull();
  });
});
