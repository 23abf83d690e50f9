// Where state lives: tenants, admin users and the audit trail (memory, DynamoDB or, with
// DATABASE_URL, PostgreSQL with every other durable store); shared request-path state (Redis, the
// DynamoDB state table); and how the request path treats a slow or failing store; how long stored
// responses (the Responses API) are kept.
import * as v from 'valibot';
import { ConfigError } from './error';
import { boolean, httpUrl, MAX_TIMEOUT_SECONDS, nonNegativeInt, oneOf, positiveInt, readEnv, redisUrl, tableName, type Env } from './env';

export type StoreFailureMode = 'open' | 'closed';

export interface StoreSettings {
  /** Where tenants, admin users and the audit trail live: memory, or DynamoDB (endpoint for local use). */
  storage: { kind: 'memory' } | { kind: 'dynamodb'; endpoint?: string; tenantsTable: string } | { kind: 'postgres' };
  /** PostgreSQL (DATABASE_URL): set exactly when storage is 'postgres'. */
  database?: DatabaseSettings;
  /** ENCRYPTION_KEY, decoded: 32 bytes (AES-256), validated at start. */
  encryptionKey?: Buffer;
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

/** The PostgreSQL pool: one per process, shared by every store on it. */
export interface DatabaseSettings {
  /** postgres://user:password@host:5432/db?sslmode=require — TLS as `sslmode` says. */
  url: string;
  /** Connections the pool may open (per process). */
  poolMax: number;
  /** How long opening a connection, or waiting for a free one, may take. */
  connectTimeoutMs: number;
  /** The server's statement_timeout for calls off the request path (admin writes, usage). */
  statementTimeoutMs: number;
  /** An idle connection is closed after this long. */
  idleTimeoutMs: number;
  /** Apply pending migrations at start (true), or only check that none is pending (`npm run migrate` applies them). */
  migrateAtStart: boolean;
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
  DATABASE_URL: v.optional(
    v.pipe(
      v.string(),
      v.url('must look like postgres://user:password@host:5432/database'),
      v.check((raw) => ['postgres:', 'postgresql:'].includes(new URL(raw).protocol), 'must use postgres:// or postgresql://'),
    ),
  ),
  DATABASE_POOL_MAX: v.optional(positiveInt(1000), '10'),
  DATABASE_CONNECT_TIMEOUT: v.optional(positiveInt(MAX_TIMEOUT_SECONDS * 1000), '5000'),
  DATABASE_STATEMENT_TIMEOUT: v.optional(positiveInt(MAX_TIMEOUT_SECONDS * 1000), '10000'),
  DATABASE_IDLE_TIMEOUT: v.optional(positiveInt(MAX_TIMEOUT_SECONDS * 1000), '30000'),
  DATABASE_MIGRATE: v.optional(boolean, 'true'),
  ENCRYPTION_KEY: v.optional(v.string()),
});

/**
 * ENCRYPTION_KEY: 32 bytes, as 64 hex characters or as base64 (`openssl rand -base64 32`).
 * Hex is tried first: 64 hex characters are never meant as base64 (that would be 48 bytes).
 */
export function parseEncryptionKey(raw: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : /^[A-Za-z0-9+/]{43}=?$/.test(raw) ? Buffer.from(raw, 'base64') : undefined;
  if (key?.length !== 32)
    throw new ConfigError('ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64 (openssl rand -base64 32); got a value of another shape');
  return key;
}

export function loadStoreSettings(env: Env): StoreSettings {
  const e = readEnv(env, StoreEnv);
  // DYNAMODB_ENDPOINT (local DynamoDB, e.g. dynalite) or TENANTS_TABLE (deployed) selects DynamoDB.
  // DATABASE_URL selects PostgreSQL; it and DynamoDB together would split the durable state.
  const dynamo = e.DYNAMODB_ENDPOINT !== undefined || e.TENANTS_TABLE !== undefined;
  if (e.DATABASE_URL !== undefined && dynamo) {
    throw new ConfigError('DATABASE_URL (PostgreSQL) and DYNAMODB_ENDPOINT/TENANTS_TABLE (DynamoDB) select different stores: set one of them');
  }
  const storage: StoreSettings['storage'] =
    e.DATABASE_URL !== undefined
      ? { kind: 'postgres' }
      : dynamo
        ? { kind: 'dynamodb', endpoint: e.DYNAMODB_ENDPOINT, tenantsTable: e.TENANTS_TABLE ?? 'ai-gateway-tenants' }
        : { kind: 'memory' };
  const database: DatabaseSettings | undefined =
    e.DATABASE_URL === undefined
      ? undefined
      : {
          url: e.DATABASE_URL,
          poolMax: e.DATABASE_POOL_MAX,
          connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT,
          idleTimeoutMs: e.DATABASE_IDLE_TIMEOUT,
          migrateAtStart: e.DATABASE_MIGRATE,
        };
  return {
    storage,
    database,
    encryptionKey: e.ENCRYPTION_KEY === undefined ? undefined : parseEncryptionKey(e.ENCRYPTION_KEY),
    state: { redisUrl: e.REDIS_URL, distributedBreaker: e.USE_DISTRIBUTED_CB, stateTable: e.STATE_TABLE },
    tenantCacheTtlMs: e.TENANT_CACHE_TTL * 1000,
    stores: { timeoutMs: e.STORE_TIMEOUT, failureMode: e.STORE_FAILURE_MODE, tenantStaleTtlMs: e.TENANT_STALE_TTL * 1000 },
    responses: { ttlSeconds: e.RESPONSES_TTL },
  };
}
