// Runs the accounting contracts (usage store, budget ledger, alert claims) against memory,
// DynamoDB (real SDK clients on an embedded dynalite) and Redis (ioredis on a redis-server this
// file starts). Tests use unique tenant ids, so one table (or key prefix) per backend serves all;
// "peers" are separate clients on the same backend, as separate instances are.
import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { DynamoAlertClaims } from '../../functions/adapters/dynamodb/alert-claims';
import { DynamoBudgetLedger } from '../../functions/adapters/dynamodb/budget-ledger';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { ensureTables, localTableNames } from '../../functions/adapters/dynamodb/tables';
import { DynamoUsageStore } from '../../functions/adapters/dynamodb/usage-store';
import { MemoryAlertClaims } from '../../functions/adapters/memory/alert-claims';
import { MemoryBudgetLedger } from '../../functions/adapters/memory/budget-ledger';
import { MemoryUsageStore } from '../../functions/adapters/memory/usage';
import { RedisAlertClaims } from '../../functions/adapters/redis/alert-claims';
import { RedisBudgetLedger } from '../../functions/adapters/redis/budget-ledger';
import { connectRedis } from '../../functions/adapters/redis/client';
import { RedisUsageStore } from '../../functions/adapters/redis/usage-store';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { alertClaimsContract } from './alert-claims.contract';
import { budgetLedgerContract } from './budget-ledger.contract';
import { usageStoreContract } from './usage-store.contract';

let dynalite: RunningDynalite;
let doc: DynamoDBDocumentClient;
let redisServer: RunningRedis;
let redis: Redis;
const names = localTableNames(uniqueTablePrefix('usage'));
const peerClients: Array<{ close(): void | Promise<unknown> }> = [];

beforeAll(async () => {
  [dynalite, redisServer] = await Promise.all([startDynalite(), startRedis()]);
  doc = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
  redis = await connectRedis({ url: redisServer.url });
  await ensureTables(doc, { usage: names.usage, state: names.state });
});

afterAll(async () => {
  for (const c of peerClients) await c.close();
  doc?.destroy();
  await redis?.quit();
  await dynalite?.close();
  await redisServer?.stop();
});

const noCleanup = async (): Promise<void> => {};
const prefix = (): string => `test:${randomBytes(6).toString('hex')}:`;

/** `n` document clients of their own, as `n` instances have. */
function dynamoPeers(n: number): DynamoDBDocumentClient[] {
  return Array.from({ length: n }, () => {
    const own = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
    peerClients.push({ close: () => own.destroy() });
    return own;
  });
}

async function redisPeers(n: number): Promise<Redis[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const own = await connectRedis({ url: redisServer.url });
      peerClients.push({ close: () => own.quit() });
      return own;
    }),
  );
}

// ---- usage store
usageStoreContract('memory', async () => {
  const store = new MemoryUsageStore();
  return { repo: store, cleanup: noCleanup, peers: async (n) => Array.from({ length: n }, () => store) };
});
usageStoreContract('dynamodb (dynalite)', async () => ({
  repo: new DynamoUsageStore(doc, { tableName: names.usage }),
  cleanup: noCleanup,
  peers: async (n) => dynamoPeers(n).map((c) => new DynamoUsageStore(c, { tableName: names.usage })),
}));
usageStoreContract('redis', async () => {
  const p = prefix();
  return {
    repo: new RedisUsageStore(redis, { prefix: p }),
    cleanup: noCleanup,
    peers: async (n) => (await redisPeers(n)).map((c) => new RedisUsageStore(c, { prefix: p })),
  };
});

// ---- budget ledger
budgetLedgerContract('memory', async () => {
  const ledger = new MemoryBudgetLedger();
  return { repo: ledger, cleanup: noCleanup, peers: async (n) => Array.from({ length: n }, () => ledger) };
});
budgetLedgerContract('dynamodb (dynalite)', async () => ({
  repo: new DynamoBudgetLedger(doc, { tableName: names.state }),
  cleanup: noCleanup,
  peers: async (n) => dynamoPeers(n).map((c) => new DynamoBudgetLedger(c, { tableName: names.state })),
}));
budgetLedgerContract('redis', async () => {
  const p = prefix();
  return {
    repo: new RedisBudgetLedger(redis, { prefix: p }),
    cleanup: noCleanup,
    peers: async (n) => (await redisPeers(n)).map((c) => new RedisBudgetLedger(c, { prefix: p })),
  };
});

// ---- alert claims
alertClaimsContract('memory', async () => {
  const claims = new MemoryAlertClaims();
  return { repo: claims, cleanup: noCleanup, peers: async (n) => Array.from({ length: n }, () => claims) };
});
alertClaimsContract('dynamodb (dynalite)', async () => ({
  repo: new DynamoAlertClaims(doc, { tableName: names.usage }),
  cleanup: noCleanup,
  peers: async (n) => dynamoPeers(n).map((c) => new DynamoAlertClaims(c, { tableName: names.usage })),
}));
alertClaimsContract('redis', async () => {
  const p = prefix();
  return {
    repo: new RedisAlertClaims(redis, { prefix: p }),
    cleanup: noCleanup,
    peers: async (n) => (await redisPeers(n)).map((c) => new RedisAlertClaims(c, { prefix: p })),
  };
});
