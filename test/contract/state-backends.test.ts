// Runs the request-path state contracts (rate limiter, response cache, breaker store) against
// memory, DynamoDB (real SDK clients on an embedded dynalite) and Redis (ioredis on a redis-server
// this file starts). Every DynamoDB test gets a "state" table of its own, every Redis test its
// own key prefix; "peers" are separate clients on the same backend, as separate instances are.
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { DynamoBreakerStore } from '../../functions/adapters/dynamodb/breaker-store';
import { DynamoRateLimiter } from '../../functions/adapters/dynamodb/rate-limiter';
import { DEFAULT_MAX_BODY_BYTES as DYNAMO_MAX_BODY, DynamoResponseCache } from '../../functions/adapters/dynamodb/response-cache';
import { MemoryBreakerStore } from '../../functions/adapters/memory/breaker-store';
import { MemoryRateLimiter } from '../../functions/adapters/memory/rate-limiter';
import { MemoryResponseCache } from '../../functions/adapters/memory/response-cache';
import { RedisBreakerStore } from '../../functions/adapters/redis/breaker-store';
import { createRedisClient } from '../../functions/adapters/redis/client';
import { RedisRateLimiter } from '../../functions/adapters/redis/rate-limiter';
import { DEFAULT_MAX_BODY_BYTES as REDIS_MAX_BODY, RedisResponseCache } from '../../functions/adapters/redis/response-cache';
import { useStateBackends } from '../helpers/state-backends';
import { startRedis } from '../helpers/redis';
import { breakerStoreContract } from './breaker-store.contract';
import { rateLimiterContract } from './rate-limiter.contract';
import { responseCacheContract } from './response-cache.contract';

const backends = useStateBackends('state');

const noCleanup = async (): Promise<void> => {};

// ---- rate limiter
rateLimiterContract('memory', async () => {
  const limiter = new MemoryRateLimiter();
  return { repo: limiter, cleanup: noCleanup, peers: async (n) => Array.from({ length: n }, () => limiter) };
});
rateLimiterContract('dynamodb (dynalite)', async () => {
  const { tableName, cleanup } = await backends.freshStateTable();
  const clients: DynamoDBDocumentClient[] = [];
  return {
    repo: new DynamoRateLimiter(backends.doc, { tableName }),
    peers: async (n) =>
      Array.from({ length: n }, () => {
        const own = backends.ownDocumentClient();
        clients.push(own);
        return new DynamoRateLimiter(own, { tableName });
      }),
    cleanup: async () => {
      for (const c of clients) c.destroy();
      await cleanup();
    },
  };
});
rateLimiterContract('redis', async () => {
  const keyPrefix = backends.redisPrefix();
  const clients: Redis[] = [];
  return {
    repo: new RedisRateLimiter(backends.redis, { prefix: keyPrefix }),
    peers: async (n) =>
      Promise.all(
        Array.from({ length: n }, async () => {
          const own = await backends.ownRedis();
          clients.push(own);
          return new RedisRateLimiter(own, { prefix: keyPrefix });
        }),
      ),
    cleanup: async () => void (await Promise.all(clients.map((c) => c.quit()))),
  };
});

// ---- response cache
const MEMORY_MAX = 1024 * 1024;
responseCacheContract('memory', async () => ({
  repo: new MemoryResponseCache(MEMORY_MAX),
  // The memory cache counts two bytes per UTF-16 unit, key included.
  sizes: { tooLarge: 'x'.repeat(MEMORY_MAX / 2), largest: 'x'.repeat(MEMORY_MAX / 2 - 16) },
  cleanup: noCleanup,
}));
responseCacheContract('dynamodb (dynalite)', async () => {
  const { tableName, cleanup } = await backends.freshStateTable();
  return {
    repo: new DynamoResponseCache(backends.doc, { tableName }),
    // Measured in UTF-8: 'é' is two bytes, so this is over the limit in half as many characters.
    sizes: { tooLarge: 'é'.repeat(DYNAMO_MAX_BODY / 2 + 1), largest: 'x'.repeat(DYNAMO_MAX_BODY) },
    cleanup,
  };
});
responseCacheContract('redis', async () => ({
  repo: new RedisResponseCache(backends.redis, { prefix: backends.redisPrefix() }),
  sizes: { tooLarge: 'é'.repeat(REDIS_MAX_BODY / 2 + 1), largest: 'x'.repeat(REDIS_MAX_BODY) },
  cleanup: noCleanup,
}));

// ---- breaker store
breakerStoreContract('memory', async () => ({ repo: new MemoryBreakerStore(), cleanup: noCleanup }));
breakerStoreContract('dynamodb (dynalite)', async () => {
  const { tableName, cleanup } = await backends.freshStateTable();
  return { repo: new DynamoBreakerStore(backends.doc, { tableName }), cleanup };
});
breakerStoreContract('redis', async () => ({ repo: new RedisBreakerStore(backends.redis, { prefix: backends.redisPrefix() }), cleanup: noCleanup }));

describe('state backend specifics', () => {
  it("DynamoDB items carry a ttl in epoch seconds for the table's TTL deletion", async () => {
    const { tableName, cleanup } = await backends.freshStateTable();
    const nowMs = Date.UTC(2030, 0, 1, 12, 0, 30);
    await new DynamoRateLimiter(backends.doc, { tableName }).consumeRequest('t', 5, nowMs);
    await new DynamoResponseCache(backends.doc, { tableName }).set('k', { body: '{}', provider: 'p', model: 'm', storedAtMs: nowMs }, 90, nowMs);
    const raw = new DynamoDBClient({ endpoint: backends.dynamoEndpoint, region: 'us-east-1' });
    const ttlOf = async (pk: string, sk: string): Promise<string | undefined> =>
      (await raw.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item?.ttl?.N;
    expect(await ttlOf(`RL#t#${Date.UTC(2030, 0, 1, 12, 0)}`, 'REQ')).toBe(String(Date.UTC(2030, 0, 1, 12, 2) / 1000));
    expect(await ttlOf('CACHE#k', 'CACHE')).toBe(String(Date.UTC(2030, 0, 1, 12, 2) / 1000));
    raw.destroy();
    await cleanup();
  });

  it('the DynamoDB breaker store reads only breaker items from the shared state table', async () => {
    const { tableName, cleanup } = await backends.freshStateTable();
    await new DynamoRateLimiter(backends.doc, { tableName }).consumeRequest('t', 5, Date.now());
    await new DynamoResponseCache(backends.doc, { tableName }).set('k', { body: '{}', provider: 'p', model: 'm', storedAtMs: 0 }, 60, Date.now());
    const store = new DynamoBreakerStore(backends.doc, { tableName });
    await store.put('openai', { phase: 'open', consecutiveFailures: 3, consecutiveSuccesses: 0, openedAtMs: 1 });
    expect(Object.keys(await store.all())).toEqual(['openai']);
    await cleanup();
  });

  it('Redis keys expire on their own: the cache entry and the window counters', async () => {
    const keyPrefix = backends.redisPrefix();
    const nowMs = Date.now();
    await new RedisResponseCache(backends.redis, { prefix: keyPrefix }).set('k', { body: '{}', provider: 'p', model: 'm', storedAtMs: nowMs }, 30, nowMs);
    const limiter = new RedisRateLimiter(backends.redis, { prefix: keyPrefix });
    await limiter.consumeRequest('t', 5, nowMs);
    await limiter.addTokens('t', 7, nowMs);
    const keys = await backends.redis.keys(`${keyPrefix}*`);
    expect(keys).toHaveLength(3);
    for (const key of keys) {
      const pttl = await backends.redis.pttl(key);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(120_000);
    }
    expect(await backends.redis.pttl(`${keyPrefix}cache:k`)).toBeLessThanOrEqual(30_000);
  });

  it('a missing redis-server fails loudly instead of skipping the Redis tests', async () => {
    const saved = process.env.REDIS_SERVER_BIN;
    process.env.REDIS_SERVER_BIN = '/nonexistent/redis-server';
    try {
      await expect(startRedis()).rejects.toThrow(/redis-server not found: install it/);
    } finally {
      if (saved === undefined) delete process.env.REDIS_SERVER_BIN;
      else process.env.REDIS_SERVER_BIN = saved;
    }
  });

  it('createRedisClient demands a URL', () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      expect(() => createRedisClient()).toThrow(/REDIS_URL/);
    } finally {
      if (saved !== undefined) process.env.REDIS_URL = saved;
    }
  });
});
