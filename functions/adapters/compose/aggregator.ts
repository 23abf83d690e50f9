// The usage aggregator function's composition: the usage store it applies events to, the alert
// claims that keep a budget alert from being sent twice, and where alerts are published.
import { BudgetAlerter } from '../../core/budget-alerts';
import type { GatewayConfig } from '../../config';
import type { Logger } from '../../core/logger';
import { UsageAggregator } from '../../core/usage-aggregator';
import { selectBackends, type Backends } from '../backends';
import { createAlertPublishers, createUsageStores, type UsageStores } from '../usage/backends';
import { closeRedis, redisFor } from './shared-redis';

export interface ComposedAggregator {
  aggregator: UsageAggregator;
  usage: UsageStores;
  backends: Backends;
  close(): Promise<void>;
}

export async function composeAggregator(config: GatewayConfig, logger: Logger, opts: { now?: () => number } = {}): Promise<ComposedAggregator> {
  const now = opts.now ?? Date.now;
  const backends = selectBackends(config);
  const redis = await redisFor(config, [backends.usage, backends.alertClaims]);
  const [usage, publishers] = await Promise.all([createUsageStores(config, { redis }, now, backends), createAlertPublishers(config)]);
  const aggregator = new UsageAggregator(usage.store, new BudgetAlerter(usage.claims, publishers, logger), logger);
  return { aggregator, usage, backends, close: () => closeRedis(redis) };
}
