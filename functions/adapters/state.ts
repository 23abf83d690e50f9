// Builds the request-path state stores (rate-limit windows, cached responses, budget accounts,
// circuit-breaker state, deployments' cooldowns, stored responses of the Responses API) on the backends selectBackends
// chose (see backends.ts for the precedence). Shared backends are imported only when selected.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { openRedis } from './compose/shared-redis';
import type { BudgetLedger } from '../core/ports';
import { CachedBreakerStore } from '../core/breaker-cache';
import type { RoutingSettings, StoreSettings } from '../config';
import type { Logger } from '../core/logger';
import type { BreakerStateStore, CooldownStore, RateLimiter, ResponseCache, ResponseStore } from '../core/ports';
import type { Backends, StoreBackend } from './backends';
import type { DatabaseStores } from './database';
import { ResilientBreakerStore } from '../core/resilience/breaker-store';
import { ResilientCooldownStore } from '../core/resilience/cooldown-store';
import { ResilientRateLimiter } from '../core/resilience/rate-limiter';
import { ResilientResponseCache } from '../core/resilience/response-cache';
import { ResilientResponseStore } from '../core/resilience/response-store';
import type { StoreGuard, StoreGuards } from '../core/store-guard';
import { MemoryBreakerStore } from './memory/breaker-store';
import { MemoryCooldownStore } from './memory/cooldown-store';
import { MemoryBudgetLedger } from './memory/budget-ledger';
import { MemoryRateLimiter } from './memory/rate-limiter';
import { MemoryResponseCache } from './memory/response-cache';
import { MemoryResponseStore } from './memory/response-store';

/** How long an instance trusts breaker state it read from a shared store. */
const BREAKER_CACHE_MS = 1000;

export interface StateStores {
  limiter: RateLimiter;
  cache: ResponseCache;
  /** Stored responses: a failing put is logged and skipped, a failing read is 503 (core/resilience). */
  responses: ResponseStore;
  breakerStore: BreakerStateStore;
  /** Deployments' cooldowns, with the rate-limit windows (the request-path state backend); per instance while that store is down. */
  cooldownStore: CooldownStore;
  /** The shared ledger as it is (budget leases and degraded admission sit above it), or memory. */
  budgetLedger: BudgetLedger;
  /** The guard of the budget ledger's store; absent for memory. */
  budgetGuard?: StoreGuard;
  /** The shared clients, for other stores on the same backends (usage). */
  redis?: Redis;
  dynamo?: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * `shared`: a request-path DynamoDB client already open (the tenant lookup's), to use instead of a
 * new one; the PostgreSQL stores, when the budget ledger and stored responses live there. Every
 * shared store is wrapped so that its failure degrades (see core/resilience) under the guard of
 * its backend; `logger` hears of responses the store could not keep.
 */
export async function createStateStores(
  config: StoreSettings & RoutingSettings,
  backends: Backends,
  now: () => number,
  guards: StoreGuards,
  logger: Logger,
  shared: { dynamo?: DynamoDBDocumentClient; database?: DatabaseStores } = {},
): Promise<StateStores> {
  const { redisUrl, stateTable } = config.state;
  const { timeoutMs, failureMode } = config.stores;
  const families = [backends.limiter, backends.cache, backends.responses, backends.breaker, backends.budget];
  const redis = families.includes('redis') && redisUrl ? await openRedis(redisUrl, timeoutMs) : undefined;
  const dynamo =
    families.includes('dynamodb') && config.storage.kind === 'dynamodb'
      ? await dynamoState(config.storage.endpoint, stateTable, now, timeoutMs, shared.dynamo)
      : undefined;
  // The open shared backends, each with its stores and the guard they run under.
  const open: Partial<Record<StoreBackend, { stores: SharedState; guard: StoreGuard }>> = {};
  if (redis) open.redis = { stores: await redisState(redis), guard: pinged(guards.for('redis'), () => redis.ping()) };
  if (dynamo) open.dynamodb = { stores: dynamo, guard: pinged(guards.for('dynamodb'), dynamo.ping) };
  // PostgreSQL holds only the durable families here: the budget ledger and stored responses.
  const database = shared.database;
  const onDatabase = database ? { stores: database, guard: pinged(guards.for('postgres'), database.ping) } : undefined;
  const durable = (family: StoreBackend) => (family === 'postgres' ? onDatabase : undefined);

  // Each family on its chosen backend; memory where that is the choice.
  const limiterOn = open[backends.limiter];
  const cacheOn = open[backends.cache];
  const responsesOn = open[backends.responses];
  const budgetOn = open[backends.budget];
  const breakerOn = open[backends.breaker];
  const memoryLimiter = new MemoryRateLimiter();
  const limiter: RateLimiter = limiterOn ? new ResilientRateLimiter(limiterOn.stores.limiter, memoryLimiter, limiterOn.guard, failureMode) : memoryLimiter;
  const cache: ResponseCache = cacheOn
    ? new ResilientResponseCache(cacheOn.stores.cache, cacheOn.guard)
    : new MemoryResponseCache(config.routing.cache.max_bytes);
  const responsesIn = durable(backends.responses) ?? responsesOn;
  const responses = responsesIn
    ? new ResilientResponseStore(responsesIn.stores.responses, logger, responsesIn.guard)
    : new ResilientResponseStore(new MemoryResponseStore(), logger);
  const budgetIn = durable(backends.budget) ?? budgetOn;
  const budgetLedger: BudgetLedger = budgetIn ? budgetIn.stores.budgetLedger : new MemoryBudgetLedger();
  const breakerStore: BreakerStateStore = breakerOn ? sharedBreaker(breakerOn.stores.breakerStore, breakerOn.guard, now) : new MemoryBreakerStore();
  const cooldownStore: CooldownStore = limiterOn
    ? new ResilientCooldownStore(limiterOn.stores.cooldownStore, new MemoryCooldownStore(), limiterOn.guard)
    : new MemoryCooldownStore();
  const budgetGuard = budgetIn?.guard;
  return {
    limiter,
    cache,
    responses,
    breakerStore,
    cooldownStore,
    budgetLedger,
    budgetGuard,
    redis,
    dynamo: dynamo?.doc,
    async close() {
      if (redis) await redis.quit().catch(() => undefined);
    },
  };
}

type SharedState = Pick<StateStores, 'limiter' | 'cache' | 'responses' | 'breakerStore' | 'cooldownStore' | 'budgetLedger'>;

async function redisState(redis: Redis): Promise<SharedState> {
  const [{ RedisRateLimiter }, { RedisResponseCache }, { RedisResponseStore }, { RedisBudgetLedger }, { RedisBreakerStore }, { RedisCooldownStore }] =
    await Promise.all([
      import('./redis/rate-limiter'),
      import('./redis/response-cache'),
      import('./redis/response-store'),
      import('./redis/budget-ledger'),
      import('./redis/breaker-store'),
      import('./redis/cooldown-store'),
    ]);
  return {
    limiter: new RedisRateLimiter(redis),
    cache: new RedisResponseCache(redis),
    responses: new RedisResponseStore(redis),
    budgetLedger: new RedisBudgetLedger(redis),
    breakerStore: new RedisBreakerStore(redis),
    cooldownStore: new RedisCooldownStore(redis),
  };
}

/** The guard, probing the store with `ping` while it is marked down. */
function pinged(guard: StoreGuard, ping: () => Promise<unknown>): StoreGuard {
  guard.setPing(ping);
  return guard;
}

/** Read through a short in-process cache; this instance's own copy decides while the store is away. */
function sharedBreaker(store: BreakerStateStore, guard: StoreGuard, now: () => number): BreakerStateStore {
  return new CachedBreakerStore(new ResilientBreakerStore(store, new MemoryBreakerStore(), guard), BREAKER_CACHE_MS, now);
}

type DynamoState = SharedState & {
  doc: DynamoDBDocumentClient;
  /** One read of an item that does not exist: the guard's probe when no request makes one. */
  ping: () => Promise<unknown>;
};

async function dynamoState(
  endpoint: string | undefined,
  tableName: string,
  now: () => number,
  timeoutMs: number,
  shared?: DynamoDBDocumentClient,
): Promise<DynamoState> {
  const [
    { createDocumentClient },
    { ensureTables },
    { DynamoRateLimiter },
    { DynamoResponseCache },
    { DynamoResponseStore },
    { DynamoBreakerStore },
    { DynamoCooldownStore },
    { DynamoBudgetLedger },
    { GetCommand },
  ] = await Promise.all([
    import('./dynamodb/client'),
    import('./dynamodb/tables'),
    import('./dynamodb/rate-limiter'),
    import('./dynamodb/response-cache'),
    import('./dynamodb/response-store'),
    import('./dynamodb/breaker-store'),
    import('./dynamodb/cooldown-store'),
    import('./dynamodb/budget-ledger'),
    import('@aws-sdk/lib-dynamodb'),
  ]);
  const doc = shared ?? createDocumentClient({ endpoint, timeoutMs });
  if (endpoint) await ensureTables(doc, { state: tableName });
  return {
    doc,
    ping: () => doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'PING', sk: 'PING' } })),
    limiter: new DynamoRateLimiter(doc, { tableName }),
    cache: new DynamoResponseCache(doc, { tableName }),
    responses: new DynamoResponseStore(doc, { tableName }),
    breakerStore: new DynamoBreakerStore(doc, { tableName }),
    cooldownStore: new DynamoCooldownStore(doc, { tableName }),
    budgetLedger: new DynamoBudgetLedger(doc, { tableName, now }),
  };
}
