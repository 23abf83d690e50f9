// The Redis client of a function that builds no request-path state (where state.ts opens it).
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../../core/config';
import type { StoreBackend } from '../backends';
import { openRedis } from '../state';

/** Opens Redis only when one of `families` was chosen for it. */
export async function redisFor(config: GatewayConfig, families: StoreBackend[]): Promise<Redis | undefined> {
  const url = config.state.redisUrl;
  return url && families.includes('redis') ? openRedis(url, config.stores.timeoutMs) : undefined;
}

export async function closeRedis(redis: Redis | undefined): Promise<void> {
  if (redis) await redis.quit().catch(() => undefined);
}
