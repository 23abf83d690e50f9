// functions/adapters — what ties the core to a runtime or a backend: the port implementations
// (memory/, dynamodb/, redis/, postgres/), usage queues, alert publishers, AWS services, Bedrock, Lambda event
// conversions and one composition per function (compose/). This file picks every store family's
// backend; stores.ts and state.ts build them. Gateway rules belong in functions/core, settings
// parsing in functions/config.
//
// Where each family of stores lives, decided once from the configuration. Every builder
// (stores.ts, state.ts, usage/backends.ts) follows this decision and the start-up log prints it.
//
// Precedence, per family:
//   with DATABASE_URL                  PostgreSQL for every durable family: tenants, admin users, audit
//                                      trail, budget ledger, stored responses, usage totals, alert claims;
//                                      rate limits, cache and cooldowns in Redis when REDIS_URL is set,
//                                      else memory; breaker state in Redis with USE_DISTRIBUTED_CB, else memory.
//   tenants, admin users, audit trail  DynamoDB when DYNAMODB_ENDPOINT or TENANTS_TABLE is set, else memory.
//   rate limits, response cache,       Redis when REDIS_URL is set, else the DynamoDB state table
//   budget ledger, stored responses    when tenants are in DynamoDB, else memory (cooldowns follow
//                                      the rate limits: state.ts).
//   circuit-breaker state              Redis when REDIS_URL is set and USE_DISTRIBUTED_CB=true, else the
//                                      DynamoDB state table when tenants are in DynamoDB, else memory.
//   usage totals, alert claims         DynamoDB's usage table when USAGE_TABLE is set or tenants are in
//                                      DynamoDB, else Redis when REDIS_URL is set, else memory.
//
// Request-path state prefers Redis (every request touches it: the fastest shared store wins),
// while usage totals prefer DynamoDB: they are the durable record that the aggregator function
// writes and the admin and usage functions read, and a deployed stack always gives them a table.
import type { StoreSettings, UsageSettings } from '../config';

export type StoreBackend = 'memory' | 'redis' | 'dynamodb' | 'postgres';

export interface Backends {
  /** Tenants, admin users and the audit trail (one table, or one database). */
  tenants: 'memory' | 'dynamodb' | 'postgres';
  limiter: StoreBackend;
  cache: StoreBackend;
  /** Stored responses of the Responses API (previous_response_id, GET/DELETE /v1/responses/{id}). */
  responses: StoreBackend;
  breaker: StoreBackend;
  budget: StoreBackend;
  usage: StoreBackend;
  alertClaims: StoreBackend;
}

export type BackendSettings = Pick<StoreSettings, 'storage' | 'state'> & Pick<UsageSettings, 'usage'>;

export function selectBackends(config: BackendSettings): Backends {
  const tenants = config.storage.kind;
  const redis = config.state.redisUrl !== undefined;
  if (tenants === 'postgres') {
    const shared: StoreBackend = redis ? 'redis' : 'memory';
    const breaker: StoreBackend = redis && config.state.distributedBreaker ? 'redis' : 'memory';
    return { tenants, limiter: shared, cache: shared, responses: 'postgres', breaker, budget: 'postgres', usage: 'postgres', alertClaims: 'postgres' };
  }
  const state: StoreBackend = redis ? 'redis' : tenants === 'dynamodb' ? 'dynamodb' : 'memory';
  const breaker: StoreBackend = redis && config.state.distributedBreaker ? 'redis' : tenants === 'dynamodb' ? 'dynamodb' : 'memory';
  const usage: StoreBackend = tenants === 'dynamodb' || config.usage.tableSet ? 'dynamodb' : redis ? 'redis' : 'memory';
  return { tenants, limiter: state, cache: state, responses: state, breaker, budget: state, usage, alertClaims: usage };
}
