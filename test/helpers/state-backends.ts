// The state backends a store suite runs against: one embedded dynalite and one redis-server per
// test file (started before its tests, stopped after), real SDK clients on them, and a fresh
// "state" table or Redis key prefix per test so no test sees another's records.
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { ensureTables, localTableNames } from '../../functions/adapters/dynamodb/tables';
import { connectRedis } from '../../functions/adapters/redis/client';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from './dynalite';
import { startRedis, type RunningRedis } from './redis';

export interface StateBackends {
  /** The suite's document client (valid once its tests run). */
  readonly doc: DynamoDBDocumentClient;
  /** The suite's Redis connection (valid once its tests run). */
  readonly redis: Redis;
  /** A "state" table of its own, and a cleanup that drops it. */
  freshStateTable(): Promise<{ tableName: string; cleanup: () => Promise<void> }>;
  /** A key prefix no other test uses. */
  redisPrefix(): string;
  /** A document client of its own, as another gateway instance has; the caller destroys it. */
  ownDocumentClient(): DynamoDBDocumentClient;
  /** A Redis connection of its own, as another gateway instance has; the caller quits it. */
  ownRedis(): Promise<Redis>;
  /** Where dynalite listens and the redis-server's URL, for what builds its own clients (a configuration). */
  readonly dynamoEndpoint: string;
  readonly redisUrl: string;
  /** A table name no other test uses (the table itself is not made). */
  uniqueTableName(label: string): string;
}

/** Starts both backends around the calling test file's tests; `name` keeps its table names apart. */
export function useStateBackends(name: string): StateBackends {
  let dynalite: RunningDynalite | undefined;
  let redisServer: RunningRedis | undefined;
  let doc: DynamoDBDocumentClient | undefined;
  let redis: Redis | undefined;
  const prefix = uniqueTablePrefix(name);
  let tables = 0;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the state backends start before the tests run');
    return value;
  };

  beforeAll(async () => {
    [dynalite, redisServer] = await Promise.all([startDynalite(), startRedis()]);
    doc = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
    redis = await connectRedis({ url: redisServer.url });
  });
  afterAll(async () => {
    doc?.destroy();
    await redis?.quit();
    await dynalite?.close();
    await redisServer?.stop();
  });

  return {
    get doc() {
      return started(doc);
    },
    get redis() {
      return started(redis);
    },
    async freshStateTable() {
      const client = started(doc);
      const tableName = localTableNames(`${prefix}${++tables}-`).state;
      await ensureTables(client, { state: tableName });
      return { tableName, cleanup: async () => void (await client.send(new DeleteTableCommand({ TableName: tableName }))) };
    },
    redisPrefix: () => `test:${randomBytes(6).toString('hex')}:`,
    ownDocumentClient: () => createDocumentClient({ endpoint: started(dynalite).endpoint, region: 'us-east-1' }),
    ownRedis: () => connectRedis({ url: started(redisServer).url }),
    get dynamoEndpoint() {
      return started(dynalite).endpoint;
    },
    get redisUrl() {
      return started(redisServer).url;
    },
    uniqueTableName: (label) => `${prefix}${label}-${++tables}`,
  };
}
