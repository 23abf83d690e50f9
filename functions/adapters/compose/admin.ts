// The admin API function's composition: the tenant, admin-user and audit stores, and the usage
// totals /admin/tenants/{id}/usage reads (the store the aggregator writes).
import type { GatewayConfig } from '../../core/config';
import type { UsageReader } from '../../core/ports';
import { selectBackends, type Backends } from '../backends';
import { createStores, type Stores } from '../stores';
import { createUsageStores } from '../usage/backends';
import { closeRedis, redisFor } from './shared-redis';

export interface ComposedAdminStores {
  /** Tenants, users and the audit trail, with their DynamoDB clients (for a shared login throttle). */
  stores: Stores;
  usage: UsageReader;
  backends: Backends;
  close(): Promise<void>;
}

export async function composeAdminStores(config: GatewayConfig, opts: { now?: () => number } = {}): Promise<ComposedAdminStores> {
  const now = opts.now ?? Date.now;
  const backends = selectBackends(config);
  const stores = await createStores(config, now);
  const redis = await redisFor(config, [backends.usage]);
  // Admin reads are not on a client's hot path: the patient client (retries) reads the totals.
  const usage = await createUsageStores(config, { dynamo: stores.dynamo, redis }, now, backends);
  return { stores, usage: usage.store, backends, close: () => closeRedis(redis) };
}
