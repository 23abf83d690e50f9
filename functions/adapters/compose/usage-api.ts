// The usage API function's composition (GET /v1/usage): only what the route needs, the tenant
// lookup, the usage totals and the guards of their stores; no providers, limits, cache, breaker
// or budgets.
import type { GatewayConfig } from '../../config';
import type { Logger } from '../../core/logger';
import type { Metrics } from '../../core/metrics';
import type { TenantStore, UsageReader } from '../../core/ports';
import { StoreGuards } from '../../core/store-guard';
import { noMetrics } from '../../core/metrics';
import { selectBackends, type Backends } from '../backends';
import { createStores } from '../stores';
import { createUsageStores } from '../usage/backends';
import { closeRedis, redisFor } from './shared-redis';
import { tenantLookup } from './tenant-lookup';
import { guardedUsageReader } from './usage-reader';

export interface ComposedUsageApi {
  /** A key's tenant: cached and guarded as the chat gateway reads it. */
  tenants: TenantStore;
  /** The totals, through the request path's client under their store's guard. */
  usage: UsageReader;
  guards: StoreGuards;
  backends: Backends;
  now: () => number;
  close(): Promise<void>;
}

export interface UsageApiOptions {
  now?: () => number;
  /** Receives the store guards' metrics (CloudWatch EMF in Lambda). */
  metrics?: Metrics;
}

export async function composeUsageApi(config: GatewayConfig, logger: Logger, opts: UsageApiOptions = {}): Promise<ComposedUsageApi> {
  const now = opts.now ?? Date.now;
  const backends = selectBackends(config);
  const guards = new StoreGuards({ now, logger, metrics: opts.metrics ?? noMetrics });
  const stores = await createStores(config, now);
  const { tenants } = tenantLookup(config, stores, guards, now);
  const redis = await redisFor(config, [backends.usage]);
  if (redis) guards.for('redis').setPing(() => redis.ping());
  const usage = await createUsageStores(config, { dynamo: stores.dynamo, requestPathDynamo: stores.requestPathDynamo, redis }, now, backends);
  return { tenants, usage: guardedUsageReader(usage, guards), guards, backends, now, close: () => closeRedis(redis) };
}
