// functions/adapters/redis — Redis implementations of the request-path ports (rate limits, response
// cache, breaker state, budget ledger) and of usage totals and alert claims, each change one atomic
// command or Lua script, each checked by its port's contract suite on a real redis-server. Tenants,
// admin users and the audit trail have no Redis backend; adapters/backends.ts decides what Redis serves.
//
// The Redis connection the adapters share, one per process (ioredis multiplexes every command
// over it). REDIS_URL: redis://[user:password@]host:port[/db], or rediss:// for TLS.
import { Redis } from 'ioredis';

export interface RedisClientOptions {
  /** Defaults to REDIS_URL. */
  url?: string;
  /** Deadline of each command: the request path passes STORE_TIMEOUT; default 2 s (work nobody waits on). */
  commandTimeoutMs?: number;
}

/** Longest wait between reconnection attempts: a Redis that comes back is found within this. */
const MAX_RECONNECT_DELAY_MS = 500;

export function createRedisClient(opts: RedisClientOptions = {}): Redis {
  const url = opts.url ?? process.env.REDIS_URL;
  if (!url) throw new Error('Redis is selected but no URL is set: set REDIS_URL (redis://host:port)');
  const timeout = opts.commandTimeoutMs ?? 2_000;
  const redis = new Redis(url, {
    // Bounded, never queued: a command that cannot be sent now fails now, a sent one fails after
    // the deadline, and none is re-sent after a reconnect (its caller has moved on and degraded).
    commandTimeout: timeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(timeout, 1_000),
    // A connection that answers nothing for this long while commands wait is dropped and a new
    // one opened: a server that vanished without closing it (host died, failover, a NAT that
    // forgot the flow) would otherwise hold the client on a silent socket for good, every
    // command timing out, and no reconnect would ever find the server back.
    socketTimeout: Math.max(4 * timeout, 1_000),
    retryStrategy: (times) => Math.min(times * 50, MAX_RECONNECT_DELAY_MS),
  });
  // Without a listener an unreachable server would print every reconnect error; the stores'
  // guard reports failures (one line per change of state).
  redis.on('error', () => undefined);
  return redis;
}

/** Resolves once the client is ready, or after `ms` (a Redis down at start is a degraded start). */
export function redisReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onReady = (): void => done(true);
    function done(ready: boolean): void {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    }
    redis.on('ready', onReady);
  });
}

/** A client that is ready (or has given up waiting for `ms`): what a caller about to send commands at once needs. */
export async function connectRedis(opts: RedisClientOptions & { readyWithinMs?: number }): Promise<Redis> {
  const redis = createRedisClient(opts);
  await redisReady(redis, opts.readyWithinMs ?? 5_000);
  return redis;
}
