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
import { ResilientBreakerStore } from '../core/resilience/breaker-store';
import { ResilientRateLimiter } from '../core/resilience/rate-limiter';
import { ResilientResponseCache } from '../core/resilience/response-cache';
import type { StoreGuard, StoreGuards } from '../core/store-guard';
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
  /** The shared ledger as it is (budget leases and degraded admission sit above it), or memory. */
  budgetLedger: BudgetLedger;
  /** The guard of the budget ledger's store; absent for memory. */
  budgetGuard?: StoreGuard;
  /** Which backend serves each, for the start-up log. */
  backends: { limiter: string; cache: string; breaker: string; budget: string };
  /** The shared clients, for other stores on the same backends (usage). */
  redis?: Redis;
  dynamo?: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * `shared`: a request-path DynamoDB client already open (the tenant lookup's), to use instead of a
 * new one. Every shared store is wrapped so that its failure degrades (see core/resilience) under
 * the guard of its backend.
 */
export async function createStateStores(config: GatewayConfig, now: () => number, guards: StoreGuards, shared: { dynamo?: DynamoDBDocumentClient } = {}): Promise<StateStores> {
  const { redisUrl, distributedBreaker, stateTable } = config.state;
  const { timeoutMs, failureMode } = config.stores;
  const redis = redisUrl ? await openRedis(redisUrl, timeoutMs) : undefined;
  const dynamo = config.storage.kind === 'dynamodb' ? await dynamoState(config.storage.endpoint, stateTable, now, timeoutMs, shared.dynamo) : undefined;

  let limiter: RateLimiter = new MemoryRateLimiter();
  let cache: ResponseCache = new MemoryResponseCache(config.routing.cache.max_bytes);
  let breakerStore: BreakerStateStore = new MemoryBreakerStore();
  let budgetLedger: BudgetLedger = new MemoryBudgetLedger();
  let budgetGuard: StoreGuard | undefined;
  const backends = { limiter: 'memory', cache: 'memory', breaker: 'memory', budget: 'memory' };
  if (redis) {
    const [{ RedisRateLimiter }, { RedisResponseCache }, { RedisBudgetLedger }] = await Promise.all([
      import('./redis/rate-limiter'), import('./redis/response-cache'), import('./redis/budget-ledger'),
    ]);
    const guard = guards.for('redis');
    guard.setPing(() => redis.ping());
    limiter = new ResilientRateLimiter(new RedisRateLimiter(redis), limiter, guard, failureMode);
    cache = new ResilientResponseCache(new RedisResponseCache(redis), guard);
    budgetLedger = new RedisBudgetLedger(redis);
    budgetGuard = guard;
    backends.limiter = backends.cache = backends.budget = 'redis';
  } else if (dynamo) {
    const guard = guards.for('dynamodb');
    guard.setPing(dynamo.ping);
    limiter = new ResilientRateLimiter(dynamo.limiter, limiter, guard, failureMode);
    cache = new ResilientResponseCache(dynamo.cache, guard);
    budgetLedger = dynamo.budgetLedger;
    budgetGuard = guard;
    backends.limiter = backends.cache = backends.budget = 'dynamodb';
  }
  if (redis && distributedBreaker) {
    const { RedisBreakerStore } = await import('./redis/breaker-store');
    breakerStore = sharedBreaker(new RedisBreakerStore(redis), guards.for('redis'), now);
    backends.breaker = 'redis';
  } else if (dynamo) {
    breakerStore = sharedBreaker(dynamo.breakerStore, guards.for('dynamodb'), now);
    backends.breaker = 'dynamodb';
  }
  return {
    limiter, cache, breakerStore, budgetLedger, budgetGuard, backends, redis, dynamo: dynamo?.doc,
    async close() {
      if (redis) await redis.quit().catch(() => undefined);
    },
  };
}

/** Read through a short in-process cache; this instance's own copy decides while the store is away. */
function sharedBreaker(store: BreakerStateStore, guard: StoreGuard, now: () => number): BreakerStateStore {
  return new CachedBreakerStore(new ResilientBreakerStore(store, new MemoryBreakerStore(), guard), BREAKER_CACHE_MS, now);
}

/** Waits briefly for the connection at start; a Redis that is down then is a degraded start, not a failed one. */
async function openRedis(url: string, timeoutMs: number): Promise<Redis> {
  const { connectRedis } = await import('./redis/client');
  return connectRedis({ url, commandTimeoutMs: timeoutMs, readyWithinMs: 2_000 });
}

type DynamoState = Pick<StateStores, 'limiter' | 'cache' | 'breakerStore' | 'budgetLedger'> & {
  doc: DynamoDBDocumentClient;
  /** One read of an item that does not exist: the guard's probe when no request makes one. */
  ping: () => Promise<unknown>;
};

async function dynamoState(endpoint: string | undefined, tableName: string, now: () => number, timeoutMs: number, shared?: DynamoDBDocumentClient): Promise<DynamoState> {
  const [{ createDocumentClient }, { ensureTables }, { DynamoRateLimiter }, { DynamoResponseCache }, { DynamoBreakerStore }, { DynamoBudgetLedger }, { GetCommand }] = await Promise.all([
    import('./dynamodb/client'), import('./dynamodb/tables'), import('./dynamodb/rate-limiter'),
    import('./dynamodb/response-cache'), import('./dynamodb/breaker-store'), import('./dynamodb/budget-ledger'),
    import('@aws-sdk/lib-dynamodb'),
  ]);
  const doc = shared ?? createDocumentClient({ endpoint, timeoutMs });
  if (endpoint) await ensureTables(doc, { state: tableName });
  return {
    doc,
    ping: () => doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'PING', sk: 'PING' } })),
    limiter: new DynamoRateLimiter(doc, { tableName }),
    cache: new DynamoResponseCache(doc, { tableName }),
    breakerStore: new DynamoBreakerStore(doc, { tableName }),
    budgetLedger: new DynamoBudgetLedger(doc, { tableName, now }),
  };
}
