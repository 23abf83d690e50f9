// Opening the shared Redis client: for the request-path state (state.ts), and for the functions that build none but keep usage in Redis.
import type { Redis } from 'ioredis';
import type { StoreSettings } from '../../config';
import type { StoreBackend } from '../backends';

/** Opens Redis only when one of `families` was chosen for it. */
export async function redisFor(config: StoreSettings, families: StoreBackend[]): Promise<Redis | undefined> {
  const url = config.state.redisUrl;
  return url && families.includes('redis') ? openRedis(url, config.stores.timeoutMs) : undefined;
}

export async function closeRedis(redis: Redis | undefined): Promise<void> {
  if (redis) await redis.quit().catch(() => undefined);
}

/** Waits briefly for the connection at start; a Redis that is down then is a degraded start, not a failed one. */
export async function openRedis(url: string, timeoutMs: number): Promise<Redis> {
  const { connectRedis } = await import('../redis/client');
  return connectRedis({ url, commandTimeoutMs: timeoutMs, readyWithinMs: 2_000 });
}
