// The admin API function's composition: the tenant, admin-user and audit stores, the usage
// totals /admin/tenants/{id}/usage reads (the store the aggregator writes), and the failed-login
// throttle.
import { LoginThrottle } from '../../admin/login-throttle';
import { inProcessThrottle, SharedLoginThrottle, type LoginThrottlePort } from '../../admin/shared-login-throttle';
import type { GatewayConfig } from '../../config';
import type { Logger } from '../../core/logger';
import type { AlertClaims, UsageReader } from '../../core/ports';
import type { ProviderStatusSource } from '../../admin/providers-route';
import { providerNames } from '../../core/provider-names';
import { selectBackends, type Backends } from '../backends';
import { createStores, type Stores } from '../stores';
import { createUsageStores } from '../usage/backends';
import { closeRedis, redisFor } from './shared-redis';

export interface ComposedAdminStores {
  /** Tenants, users and the audit trail. */
  stores: Stores;
  usage: UsageReader;
  /** Sent budget alerts (the aggregator's claims). */
  alertClaims: AlertClaims;
  /** Breakers and cooldowns as the chat function keeps them in the state table; absent where they are not readable from here. */
  providerStatus?: ProviderStatusSource;
  /** Failed-login counts: shared through the state table when `sharedLoginThrottle`, else this instance's. */
  throttle: LoginThrottlePort;
  backends: Backends;
  close(): Promise<void>;
}

export interface AdminStoresOptions {
  now?: () => number;
  /**
   * Count failed logins across instances in the DynamoDB state table (STATE_TABLE); the deployed
   * admin function sets it when its stack grants it that table. Needs tenants in DynamoDB.
   */
  sharedLoginThrottle?: boolean;
}

export async function composeAdminStores(config: GatewayConfig, logger: Logger, opts: AdminStoresOptions = {}): Promise<ComposedAdminStores> {
  const now = opts.now ?? Date.now;
  const backends = selectBackends(config);
  const stores = await createStores(config, now);
  const redis = await redisFor(config, [backends.usage]);
  // Admin reads are not on a client's hot path: the patient client (retries) reads the totals.
  const usage = await createUsageStores(config, { dynamo: stores.dynamo, redis }, now, backends);
  const throttle = await loginThrottle(config, stores, logger, opts.sharedLoginThrottle === true);
  const providerStatus = await sharedProviderStatus(config, stores, backends);
  return { stores, usage: usage.store, alertClaims: usage.claims, providerStatus, throttle, backends, close: () => closeRedis(redis) };
}

/**
 * The chat function's breakers and cooldowns in the DynamoDB state table. Where they live in Redis
 * (the opt-in ElastiCache, reachable only from the chat function's VPC) or only in memory, the
 * admin function cannot see them.
 */
async function sharedProviderStatus(config: GatewayConfig, stores: Stores, backends: Backends): Promise<ProviderStatusSource | undefined> {
  const doc = stores.requestPathDynamo ?? stores.dynamo;
  if (backends.breaker !== 'dynamodb' || !doc) return undefined;
  const [{ DynamoBreakerStore }, { DynamoCooldownStore }] = await Promise.all([import('../dynamodb/breaker-store'), import('../dynamodb/cooldown-store')]);
  const tableName = config.state.stateTable;
  const breakers = new DynamoBreakerStore(doc, { tableName });
  const cooldowns = new DynamoCooldownStore(doc, { tableName });
  // A local DynamoDB (DYNAMODB_ENDPOINT) has no state table until a chat path creates it: no
  // breaker has opened and no cooldown runs yet. The admin function creates no table of its own.
  return {
    names: providerNames(config.routing),
    breakers: { all: () => breakers.all().catch(noTableYet({})) },
    cooldowns: { active: (nowMs) => cooldowns.active(nowMs).catch(noTableYet({})) },
    breaker: config.routing.circuit_breaker,
  };
}

/** An empty answer when the table does not exist; any other failure is rethrown. */
const noTableYet =
  <T>(empty: T) =>
  (err: unknown): T => {
    if (err instanceof Error && err.name === 'ResourceNotFoundException') return empty;
    throw err;
  };

async function loginThrottle(config: GatewayConfig, stores: Stores, logger: Logger, shared: boolean): Promise<LoginThrottlePort> {
  const local = new LoginThrottle();
  const doc = stores.requestPathDynamo ?? stores.dynamo;
  if (!shared || !doc) return inProcessThrottle(local);
  const { DynamoRateLimiter } = await import('../dynamodb/rate-limiter');
  return new SharedLoginThrottle(new DynamoRateLimiter(doc, { tableName: config.state.stateTable }), local, logger);
}
