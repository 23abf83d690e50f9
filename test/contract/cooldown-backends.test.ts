// Runs the CooldownStore contract against memory, DynamoDB (real SDK clients on an embedded
// dynalite, a "state" table per test) and Redis (ioredis on a redis-server this file starts, a key
// prefix per test). Peers are separate clients on the same backend, as separate instances are.
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { DynamoCooldownStore } from '../../functions/adapters/dynamodb/cooldown-store';
import { ensureTables, localTableNames } from '../../functions/adapters/dynamodb/tables';
import { MemoryCooldownStore } from '../../functions/adapters/memory/cooldown-store';
import { connectRedis } from '../../functions/adapters/redis/client';
import { RedisCooldownStore } from '../../functions/adapters/redis/cooldown-store';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { cooldownStoreContract } from './cooldown-store.contract';

let dynalite: RunningDynalite;
let doc: DynamoDBDocumentClient;
let redisServer: RunningRedis;
let redis: Redis;
const prefix = uniqueTablePrefix('cool');
let tables = 0;

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

cooldownStoreContract('memory', async () => {
  const store = new MemoryCooldownStore();
  return { repo: store, peer: async () => store, cleanup: async () => {} };
});

cooldownStoreContract('dynamodb (dynalite)', async () => {
  const tableName = localTableNames(`${prefix}${++tables}-`).state;
  await ensureTables(doc, { state: tableName });
  const own = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
  return {
    repo: new DynamoCooldownStore(doc, { tableName }),
    peer: async () => new DynamoCooldownStore(own, { tableName }),
    cleanup: async () => {
      own.destroy();
      await doc.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
});

cooldownStoreContract('redis', async () => {
  const keyPrefix = `test:${randomBytes(6).toString('hex')}:`;
  const own = await connectRedis({ url: redisServer.url });
  return {
    repo: new RedisCooldownStore(redis, { prefix: keyPrefix }),
    peer: async () => new RedisCooldownStore(own, { prefix: keyPrefix }),
    cleanup: async () => void (await own.quit()),
  };
});
