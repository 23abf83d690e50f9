// Chooses where rate-limit windows, cached responses and circuit-breaker state live: Redis when
// REDIS_URL is set (the breaker only with USE_DISTRIBUTED_CB), else the DynamoDB state table when
// tenants are in DynamoDB, else memory. Shared backends are imported only when selected.
import { CachedBreakerStore } from '../core/breaker-cache';
import type { GatewayConfig } from '../core/config';
import type { BreakerStateStore, RateLimiter, ResponseCache } from '../core/ports';
import { MemoryBreakerStore } from './memory/breaker-store';
import { MemoryRateLimiter } from './memory/rate-limiter';
import { MemoryResponseCache } from './memory/response-cache';

/** How long an instance trusts breaker state it read from a shared store. */
const BREAKER_CACHE_MS = 1000;

export interface StateStores {
  limiter: RateLimiter;
  cache: ResponseCache;
  breakerStore: BreakerStateStore;
  /** Which backend serves each, for the start-up log. */
  backends: { limiter: string; cache: string; breaker: string };
  close(): Promise<void>;
}

export async function createStateStores(config: GatewayConfig, now: () => number): Promise<StateStores> {
  const { redisUrl, distributedBreaker, stateTable } = config.state;
  const redis = redisUrl ? (await import('./redis/client')).createRedisClient({ url: redisUrl }) : undefined;
  const dynamo = config.storage.kind === 'dynamodb' ? await dynamoState(config.storage.endpoint, stateTable) : undefined;

  let limiter: RateLimiter = new MemoryRateLimiter();
  let cache: ResponseCache = new MemoryResponseCache(config.routing.cache.max_bytes);
  let breakerStore: BreakerStateStore = new MemoryBreakerStore();
  const backends = { limiter: 'memory', cache: 'memory', breaker: 'memory' };
  if (redis) {
    const [{ RedisRateLimiter }, { RedisResponseCache }] = await Promise.all([import('./redis/rate-limiter'), import('./redis/response-cache')]);
    limiter = new RedisRateLimiter(redis);
    cache = new RedisResponseCache(redis);
    backends.limiter = backends.cache = 'redis';
  } else if (dynamo) {
    limiter = dynamo.limiter;
    cache = dynamo.cache;
    backends.limiter = backends.cache = 'dynamodb';
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
    limiter, cache, breakerStore, backends,
    async close() {
      if (redis) await redis.quit().catch(() => undefined);
    },
  };
}

async function dynamoState(endpoint: string | undefined, tableName: string): Promise<Pick<StateStores, 'limiter' | 'cache' | 'breakerStore'>> {
  const [{ createDocumentClient }, { ensureTables }, { DynamoRateLimiter }, { DynamoResponseCache }, { DynamoBreakerStore }] = await Promise.all([
    import('./dynamodb/client'), import('./dynamodb/tables'), import('./dynamodb/rate-limiter'),
    import('./dynamodb/response-cache'), import('./dynamodb/breaker-store'),
  ]);
  const doc = createDocumentClient({ endpoint });
  if (endpoint) await ensureTables(doc, { state: tableName });
  return {
    limiter: new DynamoRateLimiter(doc, { tableName }),
    cache: new DynamoResponseCache(doc, { tableName }),
    breakerStore: new DynamoBreakerStore(doc, { tableName }),
  };
}
