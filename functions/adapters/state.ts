// Chooses where rate-limit windows, cached responses, budget accounts and circuit-breaker state
// live: Redis when REDIS_URL is set (the breaker only with USE_DISTRIBUTED_CB), else the DynamoDB
// state table when tenants are in DynamoDB, else memory. Shared backends are imported only when
// selected.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import type { BudgetLedger } from '../core/budget';
import { CachedBreakerStore } from '../core/breaker-cache';
import type { GatewayConfig } from '../core/config';
import type { BreakerStateStore, RateLimiter, ResponseCache } from '../core/ports';
import { MemoryBreakerStore } from './memory/breaker-store';
import { MemoryBudgetLedger } from './memory/budget-ledger';
import { MemoryRateLimiter } from './memory/rate-limiter';
import { MemoryResponseCache } from './memory/response-cache';

/** How long an instance trusts breaker state it read from a shared store. */
const BREAKER_CACHE_MS = 1000;

export interface StateStores {
  limiter: RateLimiter;
  cache: ResponseCache;
  breakerStore: BreakerStateStore;
  budgetLedger: BudgetLedger;
  /** Which backend serves each, for the start-up log. */
  backends: { limiter: string; cache: string; breaker: string; budget: string };
  /** The shared clients, for other stores on the same backends (usage). */
  redis?: Redis;
  dynamo?: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/** `shared`: a DynamoDB client already open (the tenant stores'), to use instead of a new one. */
export async function createStateStores(config: GatewayConfig, now: () => number, shared: { dynamo?: DynamoDBDocumentClient } = {}): Promise<StateStores> {
  const { redisUrl, distributedBreaker, stateTable } = config.state;
  const redis = redisUrl ? (await import('./redis/client')).createRedisClient({ url: redisUrl }) : undefined;
  const dynamo = config.storage.kind === 'dynamodb' ? await dynamoState(config.storage.endpoint, stateTable, now, shared.dynamo) : undefined;

  let limiter: RateLimiter = new MemoryRateLimiter();
  let cache: ResponseCache = new MemoryResponseCache(config.routing.cache.max_bytes);
  let breakerStore: BreakerStateStore = new MemoryBreakerStore();
  let budgetLedger: BudgetLedger = new MemoryBudgetLedger();
  const backends = { limiter: 'memory', cache: 'memory', breaker: 'memory', budget: 'memory' };
  if (redis) {
    const [{ RedisRateLimiter }, { RedisResponseCache }, { RedisBudgetLedger }] = await Promise.all([
      import('./redis/rate-limiter'), import('./redis/response-cache'), import('./redis/budget-ledger'),
    ]);
    limiter = new RedisRateLimiter(redis);
    cache = new RedisResponseCache(redis);
    budgetLedger = new RedisBudgetLedger(redis);
    backends.limiter = backends.cache = backends.budget = 'redis';
  } else if (dynamo) {
    limiter = dynamo.limiter;
    cache = dynamo.cache;
    budgetLedger = dynamo.budgetLedger;
    backends.limiter = backends.cache = backends.budget = 'dynamodb';
  }
  if (redis && distributedBreaker) {
    const { RedisBreakerStore } = await import('./redis/breaker-store');
    breakerStore = new CachedBreakerStore(new RedisBreakerStore(redis), BREAKER_CACHE_MS, now);
    backends.breaker = 'redis';
  } else if (dynamo) {
    breakerStore = new CachedBreakerStore(dynamo.breakerStore, BREAKER_CACHE_MS, now);
    backends.breaker = 'dynamodb';
  }
  return {
    limiter, cache, breakerStore, budgetLedger, backends, redis, dynamo: dynamo?.doc,
    async close() {
      if (redis) await redis.quit().catch(() => undefined);
    },
  };
}

type DynamoState = Pick<StateStores, 'limiter' | 'cache' | 'breakerStore' | 'budgetLedger'> & { doc: DynamoDBDocumentClient };

async function dynamoState(endpoint: string | undefined, tableName: string, now: () => number, shared?: DynamoDBDocumentClient): Promise<DynamoState> {
  const [{ createDocumentClient }, { ensureTables }, { DynamoRateLimiter }, { DynamoResponseCache }, { DynamoBreakerStore }, { DynamoBudgetLedger }] = await Promise.all([
    import('./dynamodb/client'), import('./dynamodb/tables'), import('./dynamodb/rate-limiter'),
    import('./dynamodb/response-cache'), import('./dynamodb/breaker-store'), import('./dynamodb/budget-ledger'),
  ]);
  const doc = shared ?? createDocumentClient({ endpoint });
  if (endpoint) await ensureTables(doc, { state: tableName });
  return {
    doc,
    limiter: new DynamoRateLimiter(doc, { tableName }),
    cache: new DynamoResponseCache(doc, { tableName }),
    breakerStore: new DynamoBreakerStore(doc, { tableName }),
    budgetLedger: new DynamoBudgetLedger(doc, { tableName, now }),
  };
}
