// The Redis connection the adapters share, one per process (ioredis multiplexes every command
// over it). REDIS_URL: redis://[user:password@]host:port[/db], or rediss:// for TLS.
import { Redis } from 'ioredis';

export interface RedisClientOptions {
  /** Defaults to REDIS_URL. */
  url?: string;
}

export function createRedisClient(opts: RedisClientOptions = {}): Redis {
  const url = opts.url ?? process.env.REDIS_URL;
  if (!url) throw new Error('Redis is selected but no URL is set: set REDIS_URL (redis://host:port)');
  return new Redis(url, {
    // Fail a request after one retry instead of queueing it for ever while Redis is away: the
    // gateway's request path should error out fast, not hang.
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
  });
}
