// Where state lives: tenants, admin users and the audit trail (memory or DynamoDB); shared
// request-path state (Redis, the DynamoDB state table); and how the request path treats a slow
// or failing store; how long stored responses (the Responses API) are kept.
import * as v from 'valibot';
import { boolean, httpUrl, MAX_TIMEOUT_SECONDS, nonNegativeInt, oneOf, positiveInt, readEnv, redisUrl, tableName, type Env } from './env';

export type StoreFailureMode = 'open' | 'closed';

export interface StoreSettings {
  /** Where tenants, admin users and the audit trail live: memory, or DynamoDB (endpoint for local use). */
  storage: { kind: 'memory' } | { kind: 'dynamodb'; endpoint?: string; tenantsTable: string };
  /** Where rate-limit windows, cached responses and breaker state live when shared. */
  state: { redisUrl?: string; distributedBreaker: boolean; stateTable: string };
  /** How long an instance may serve a tenant record it read (the bound on disable/delete/rotate taking effect). */
  tenantCacheTtlMs: number;
  /**
   * The request path's shared stores (Redis, DynamoDB): the deadline of each call, what a failing
   * store means (open: degrade; closed: refuse limited and budgeted tenants with 503), and how long
   * a tenant record read earlier may still be served while the tenant store is down.
   */
  stores: { timeoutMs: number; failureMode: StoreFailureMode; tenantStaleTtlMs: number };
  /** Stored responses live this long after they are answered (RESPONSES_TTL), on the state backend. */
  responses: { ttlSeconds: number };
}

/** 30 days, as OpenAI keeps stored responses. */
const DEFAULT_RESPONSES_TTL_SECONDS = 30 * 86_400;
/** One year: longer would keep conversations far past any use, in DynamoDB at a cost. */
const MAX_RESPONSES_TTL_SECONDS = 365 * 86_400;

const StoreEnv = v.object({
  DYNAMODB_ENDPOINT: v.optional(httpUrl),
  TENANTS_TABLE: v.optional(tableName),
  REDIS_URL: v.optional(redisUrl),
  USE_DISTRIBUTED_CB: v.optional(boolean, 'false'),
  STATE_TABLE: v.optional(v.string(), 'ai-gateway-state'),
  TENANT_CACHE_TTL: v.optional(positiveInt(3600), '5'),
  STORE_TIMEOUT: v.optional(positiveInt(60_000), '150'),
  STORE_FAILURE_MODE: v.optional(oneOf(['open', 'closed'], 'must be open or closed'), 'open'),
  TENANT_STALE_TTL: v.optional(nonNegativeInt(MAX_TIMEOUT_SECONDS), '900'),
  RESPONSES_TTL: v.optional(positiveInt(MAX_RESPONSES_TTL_SECONDS), String(DEFAULT_RESPONSES_TTL_SECONDS)),
});

export function loadStoreSettings(env: Env): StoreSettings {
  const e = readEnv(env, StoreEnv);
  // DYNAMODB_ENDPOINT (local DynamoDB, e.g. dynalite) or TENANTS_TABLE (deployed) selects DynamoDB.
  const storage: StoreSettings['storage'] =
    e.DYNAMODB_ENDPOINT === undefined && e.TENANTS_TABLE === undefined
      ? { kind: 'memory' }
      : { kind: 'dynamodb', endpoint: e.DYNAMODB_ENDPOINT, tenantsTable: e.TENANTS_TABLE ?? 'ai-gateway-tenants' };
  return {
    storage,
    state: { redisUrl: e.REDIS_URL, distributedBreaker: e.USE_DISTRIBUTED_CB, stateTable: e.STATE_TABLE },
    tenantCacheTtlMs: e.TENANT_CACHE_TTL * 1000,
    stores: { timeoutMs: e.STORE_TIMEOUT, failureMode: e.STORE_FAILURE_MODE, tenantStaleTtlMs: e.TENANT_STALE_TTL * 1000 },
    responses: { ttlSeconds: e.RESPONSES_TTL },
  };
}
