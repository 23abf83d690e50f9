// Gateway configuration: environment variables (the seed's names) plus the optional
// GATEWAY_CONFIG JSON file. Every bad value fails at start with a message naming its source.

export const PROVIDER_NAMES = ['openai', 'anthropic', 'bedrock', 'ollama'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface RouteTarget {
  provider: string;
  model: string;
}

export interface PriceOverride {
  input_per_mtok: number;
  output_per_mtok: number;
  cache_read_per_mtok?: number;
  cache_write_per_mtok?: number;
}

export interface BreakerSettings {
  failure_threshold: number;
  success_threshold: number;
  open_seconds: number;
}

export interface RoutingFile {
  routes: Record<string, { targets: RouteTarget[] }>;
  providers: Record<string, { default_model?: string }>;
  fallback_providers?: string[];
  prices: Record<string, PriceOverride>;
  circuit_breaker: BreakerSettings;
  cache: { default_ttl_seconds: number; max_bytes: number };
}

export interface GatewayConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  openai: { apiKey?: string; baseUrl: string; explicitBaseUrl: boolean };
  anthropic: { apiKey?: string; baseUrl: string; explicitBaseUrl: boolean };
  /** Bedrock is configured when a region is known; credentials come from the AWS SDK's default chain. */
  bedrock: { region?: string };
  ollama: { baseUrl: string };
  defaultProvider: string;
  routing: RoutingFile;
  /** Whether the documented local key gw-default-key works (never in a deployed stack). */
  defaultTenantEnabled: boolean;
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
  admin: { authEnabled: boolean; password?: string };
  /**
   * TRUST_PROXY: how many reverse proxies in front of the gateway append to X-Forwarded-For.
   * 0 (default): the header is ignored, the peer address is the client (anyone can forge it).
   */
  trustProxy: number;
  /** Limits a tenant created through the admin API gets when the request does not set them. */
  tenantDefaults: TenantDefaults;
  /**
   * Usage accounting: USAGE_TABLE (DynamoDB usage totals; used when set, or when tenants are in
   * DynamoDB) and USAGE_QUEUE_URL (SQS; unset = the in-process queue).
   */
  usage: { table: string; tableSet: boolean; queueUrl?: string };
  /** Budget alerts: ALERT_TOPIC_ARN (SNS) and ALERT_WEBHOOK_URL, besides the log. */
  alerts: { topicArn?: string; webhookUrl?: string };
  /**
   * Secrets Manager secrets (deployed stack): provider API keys, read at start and re-read every
   * refreshMs; the generated first admin credential.
   */
  secrets: { providerSecretArn?: string; providerSecretRefreshMs: number; adminSecretArn?: string };
  maxBodyBytes: number;
  /** MAX_RESPONSE_BYTES: cap on a provider's sync answer and on one stream event (over it: retryable 502). */
  maxResponseBytes: number;
  /**
   * REQUEST_TIMEOUT: the local server's deadline for receiving a request's headers and body
   * (not for sending the response, so long streams are not cut).
   */
  requestTimeoutMs: number;
  upstreamTimeoutMs: number;
  /** No new fallback attempt starts after this long since the request began. */
  requestDeadlineMs: number;
  shutdownTimeoutMs: number;
  drainTimeoutMs: number;
  version: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type StoreFailureMode = 'open' | 'closed';

/** A new tenant's limits unless its creation sets them (0: unlimited / no budget). */
export interface TenantDefaults {
  rate_limit_rpm: number;
  rate_limit_tpm: number;
  budget_usd: number;
}
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export const DEFAULT_BREAKER: BreakerSettings = { failure_threshold: 5, success_threshold: 3, open_seconds: 30 };

/** Parses the environment; `readText` loads the GATEWAY_CONFIG file (kept injectable for tests). */
export function loadConfig(env: Env, readText: (path: string) => string, version = '0.0.0'): GatewayConfig {
  const { host, port } = parseListen(env);
  const logLevel = (nonEmpty(env.LOG_LEVEL) ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${env.LOG_LEVEL}"`);
  }
  const defaultProvider = (nonEmpty(env.DEFAULT_PROVIDER) ?? 'ollama').toLowerCase();
  if (!(PROVIDER_NAMES as readonly string[]).includes(defaultProvider)) {
    throw new ConfigError(`DEFAULT_PROVIDER must be one of ${PROVIDER_NAMES.join(', ')}; got "${env.DEFAULT_PROVIDER}"`);
  }
  return {
    host,
    port,
    logLevel: logLevel as LogLevel,
    openai: {
      apiKey: nonEmpty(env.OPENAI_API_KEY),
      baseUrl: parseUrl(env, 'OPENAI_BASE_URL', 'https://api.openai.com/v1'),
      explicitBaseUrl: nonEmpty(env.OPENAI_BASE_URL) !== undefined,
    },
    anthropic: {
      apiKey: nonEmpty(env.ANTHROPIC_API_KEY),
      baseUrl: parseUrl(env, 'ANTHROPIC_BASE_URL', 'https://api.anthropic.com'),
      explicitBaseUrl: nonEmpty(env.ANTHROPIC_BASE_URL) !== undefined,
    },
    bedrock: { region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) },
    ollama: { baseUrl: parseUrl(env, 'OLLAMA_BASE_URL', 'http://localhost:11434') },
    defaultProvider,
    routing: parseRouting(env, readText),
    defaultTenantEnabled: parseBoolean(env, 'DEFAULT_TENANT_ENABLED', true),
    storage: parseStorage(env),
    tenantCacheTtlMs: parsePositiveInt(env, 'TENANT_CACHE_TTL', 5, 3600) * 1000,
    stores: {
      timeoutMs: parsePositiveInt(env, 'STORE_TIMEOUT', 150, 60_000),
      failureMode: parseStoreFailureMode(env),
      tenantStaleTtlMs: parseNonNegativeInt(env, 'TENANT_STALE_TTL', 900, MAX_TIMEOUT_SECONDS) * 1000,
    },
    state: {
      redisUrl: nonEmpty(env.REDIS_URL) === undefined ? undefined : parseRedisUrl(env),
      distributedBreaker: parseBoolean(env, 'USE_DISTRIBUTED_CB', false),
      stateTable: nonEmpty(env.STATE_TABLE) ?? 'ai-gateway-state',
    },
    admin: { authEnabled: parseBoolean(env, 'ADMIN_AUTH_ENABLED', false), password: nonEmpty(env.ADMIN_PASSWORD) },
    trustProxy: parseTrustProxy(env),
    tenantDefaults: {
      rate_limit_rpm: parseNonNegativeInt(env, 'TENANT_DEFAULT_RPM', 0),
      rate_limit_tpm: parseNonNegativeInt(env, 'TENANT_DEFAULT_TPM', 0),
      budget_usd: parseNonNegativeNumber(env, 'TENANT_DEFAULT_BUDGET_USD', 1000),
    },
    usage: {
      table: parseTableName(env, 'USAGE_TABLE', 'ai-gateway-usage'),
      tableSet: nonEmpty(env.USAGE_TABLE) !== undefined,
      queueUrl: nonEmpty(env.USAGE_QUEUE_URL) === undefined ? undefined : parseUrl(env, 'USAGE_QUEUE_URL', ''),
    },
    alerts: {
      topicArn: parseTopicArn(env, 'ALERT_TOPIC_ARN'),
      webhookUrl: nonEmpty(env.ALERT_WEBHOOK_URL) === undefined ? undefined : parseUrl(env, 'ALERT_WEBHOOK_URL', ''),
    },
    secrets: {
      providerSecretArn: parseSecretArn(env, 'PROVIDER_SECRET_ARN'),
      providerSecretRefreshMs: parsePositiveInt(env, 'PROVIDER_SECRET_REFRESH', 300, MAX_TIMEOUT_SECONDS) * 1000,
      adminSecretArn: parseSecretArn(env, 'ADMIN_SECRET_ARN'),
    },
    maxBodyBytes: parsePositiveInt(env, 'MAX_BODY_BYTES', 6 * 1024 * 1024),
    maxResponseBytes: parsePositiveInt(env, 'MAX_RESPONSE_BYTES', 32 * 1024 * 1024, 256 * 1024 * 1024),
    requestTimeoutMs: parsePositiveInt(env, 'REQUEST_TIMEOUT', 30, MAX_TIMEOUT_SECONDS) * 1000,
    upstreamTimeoutMs: parsePositiveInt(env, 'UPSTREAM_TIMEOUT', 120, MAX_TIMEOUT_SECONDS) * 1000,
    requestDeadlineMs: parsePositiveInt(env, 'REQUEST_DEADLINE', 180, MAX_TIMEOUT_SECONDS) * 1000,
    shutdownTimeoutMs: parsePositiveInt(env, 'SHUTDOWN_TIMEOUT', 30, MAX_TIMEOUT_SECONDS) * 1000,
    drainTimeoutMs: parsePositiveInt(env, 'DRAIN_TIMEOUT', 15, MAX_TIMEOUT_SECONDS) * 1000,
    version,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

const DEFAULT_HOST = '127.0.0.1';

function parseListen(env: Env): { host: string; port: number } {
  const addr = nonEmpty(env.ADDR);
  if (addr) {
    const match = /^(.*):(\d{1,5})$/.exec(addr);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port > 65535) throw new ConfigError(`ADDR must look like ":8080" or "127.0.0.1:8080"; got "${addr}"`);
    // ":8080" (no host) is the explicit way to listen on every interface.
    return { host: match[1] === '' ? '0.0.0.0' : (match[1] ?? '0.0.0.0').replace(/^\[|\]$/g, ''), port };
  }
  // Loopback unless ADDR names a host, as Ollama does: a fresh `npm start` with the admin API
  // open and the documented default key must not be reachable from the LAN.
  const port = nonEmpty(env.PORT);
  if (port === undefined) return { host: DEFAULT_HOST, port: 8080 };
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`PORT must be an integer between 0 and 65535; got "${port}"`);
  return { host: DEFAULT_HOST, port: n };
}

function parseUrl(env: Env, name: string, fallback: string): string {
  const raw = nonEmpty(env[name]) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL; got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must use http or https; got "${url.protocol}"`);
  }
  return raw.replace(/\/+$/, '');
}

/** DYNAMODB_ENDPOINT (local DynamoDB, e.g. dynalite) or TENANTS_TABLE (deployed) selects DynamoDB. */
function parseStorage(env: Env): GatewayConfig['storage'] {
  const endpoint = nonEmpty(env.DYNAMODB_ENDPOINT);
  const table = nonEmpty(env.TENANTS_TABLE);
  if (endpoint === undefined && table === undefined) return { kind: 'memory' };
  if (endpoint !== undefined) parseUrl(env, 'DYNAMODB_ENDPOINT', endpoint);
  if (table !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(table)) throw new ConfigError(`TENANTS_TABLE must be a DynamoDB table name; got "${table}"`);
  return { kind: 'dynamodb', endpoint, tenantsTable: table ?? 'ai-gateway-tenants' };
}

function parseRedisUrl(env: Env): string {
  const raw = (env.REDIS_URL ?? '').trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`REDIS_URL must look like redis://host:6379; got "${raw}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError(`REDIS_URL must use redis:// or rediss://; got "${url.protocol}"`);
  return raw;
}

function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env[name])?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false; got "${env[name]}"`);
}

/** A hop count; true/false are accepted as 1/0, the common single-proxy and no-proxy cases. */
function parseTrustProxy(env: Env): number {
  const raw = nonEmpty(env.TRUST_PROXY)?.toLowerCase();
  if (raw === undefined || raw === 'false') return 0;
  if (raw === 'true') return 1;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 10) throw new ConfigError(`TRUST_PROXY must be false, true or a proxy count from 0 to 10; got "${env.TRUST_PROXY}"`);
  return n;
}

/** Timeouts are capped at one day: longer ones overflow Node's timers, which then fire at once. */
const MAX_TIMEOUT_SECONDS = 86_400;

function parseNonNegativeInt(env: Env, name: string, fallback: number, max?: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number ≥ 0 (0: unlimited); got "${raw}"`);
  if (max !== undefined && n > max) throw new ConfigError(`${name} must be a whole number from 0 to ${max}; got "${raw}"`);
  return n;
}

function parseStoreFailureMode(env: Env): StoreFailureMode {
  const raw = nonEmpty(env.STORE_FAILURE_MODE)?.toLowerCase() ?? 'open';
  if (raw !== 'open' && raw !== 'closed') throw new ConfigError(`STORE_FAILURE_MODE must be open or closed; got "${env.STORE_FAILURE_MODE}"`);
  return raw;
}

function parseNonNegativeNumber(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a number ≥ 0 (0: no budget); got "${raw}"`);
  return n;
}

function parsePositiveInt(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new ConfigError(`${name} must be a positive integer up to ${max}; got "${raw}"`);
  return n;
}

function parseTableName(env: Env, name: string, fallback: string): string {
  const raw = nonEmpty(env[name]) ?? fallback;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(raw)) throw new ConfigError(`${name} must be a DynamoDB table name; got "${raw}"`);
  return raw;
}

function parseTopicArn(env: Env, name: string): string | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/.test(raw)) {
    throw new ConfigError(`${name} must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>); got "${raw}"`);
  }
  return raw;
}

/** A Secrets Manager secret ARN (the deployed stack passes ARNs; a bare name is refused so a typo fails at start). */
function parseSecretArn(env: Env, name: string): string | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/.test(raw)) {
    throw new ConfigError(`${name} must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>); got "${raw}"`);
  }
  return raw;
}

/**
 * The routing config comes from the GATEWAY_CONFIG file or, where no file can be shipped (the
 * Lambda functions), from the GATEWAY_CONFIG_JSON text; both at once would be ambiguous.
 */
function parseRouting(env: Env, readText: (path: string) => string): RoutingFile {
  const path = nonEmpty(env.GATEWAY_CONFIG);
  const inline = nonEmpty(env.GATEWAY_CONFIG_JSON);
  if (path !== undefined && inline !== undefined) throw new ConfigError('GATEWAY_CONFIG and GATEWAY_CONFIG_JSON are both set; set only one');
  if (inline !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(inline);
    } catch (err) {
      throw new ConfigError(`GATEWAY_CONFIG_JSON is not valid JSON: ${(err as Error).message}`);
    }
    return parseRoutingJson(json, 'GATEWAY_CONFIG_JSON');
  }
  return path !== undefined ? parseRoutingFile(path, readText) : parseRoutingJson({}, 'GATEWAY_CONFIG');
}

function parseRoutingFile(path: string, readText: (path: string) => string): RoutingFile {
  let text: string;
  try {
    text = readText(path);
  } catch (err) {
    throw new ConfigError(`GATEWAY_CONFIG: cannot read "${path}": ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`GATEWAY_CONFIG: "${path}" is not valid JSON: ${(err as Error).message}`);
  }
  return parseRoutingJson(json, `GATEWAY_CONFIG (${path})`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates the routing JSON; exported so the same rules apply wherever the config comes from. */
export function parseRoutingJson(json: unknown, source: string): RoutingFile {
  const fail = (field: string, why: string): never => {
    throw new ConfigError(`${source}: ${field} ${why}`);
  };
  if (!isObject(json)) fail('the document', 'must be a JSON object');
  const doc = json as Record<string, unknown>;
  const known = ['routes', 'providers', 'fallback_providers', 'prices', 'circuit_breaker', 'cache'];
  for (const key of Object.keys(doc)) if (!known.includes(key)) fail(key, `is not a known field (known: ${known.join(', ')})`);

  const routes: RoutingFile['routes'] = {};
  if (doc.routes !== undefined) {
    if (!isObject(doc.routes)) fail('routes', 'must be an object');
    for (const [alias, route] of Object.entries(doc.routes as Record<string, unknown>)) {
      if (!isObject(route) || !Array.isArray(route.targets) || route.targets.length === 0) {
        fail(`routes.${alias}.targets`, 'must be a non-empty array');
      }
      const targets = ((route as Record<string, unknown>).targets as unknown[]).map((t, i) => {
        const where = `routes.${alias}.targets[${i}]`;
        if (!isObject(t) || typeof t.provider !== 'string' || typeof t.model !== 'string' || t.model === '') {
          return fail(where, 'must be {"provider": string, "model": string}');
        }
        if (!(PROVIDER_NAMES as readonly string[]).includes(t.provider)) fail(`${where}.provider`, `must be one of ${PROVIDER_NAMES.join(', ')}`);
        return { provider: t.provider as string, model: t.model as string };
      });
      routes[alias] = { targets };
    }
  }

  const providers: RoutingFile['providers'] = {};
  if (doc.providers !== undefined) {
    if (!isObject(doc.providers)) fail('providers', 'must be an object');
    for (const [name, p] of Object.entries(doc.providers as Record<string, unknown>)) {
      if (!(PROVIDER_NAMES as readonly string[]).includes(name)) fail(`providers.${name}`, `is not a provider (${PROVIDER_NAMES.join(', ')})`);
      if (!isObject(p)) fail(`providers.${name}`, 'must be an object');
      const dm = (p as Record<string, unknown>).default_model;
      if (dm !== undefined && (typeof dm !== 'string' || dm === '')) fail(`providers.${name}.default_model`, 'must be a non-empty string');
      providers[name] = dm === undefined ? {} : { default_model: dm as string };
    }
  }

  let fallbackProviders: string[] | undefined;
  if (doc.fallback_providers !== undefined) {
    const fp = doc.fallback_providers;
    if (!Array.isArray(fp) || fp.some((p) => !(PROVIDER_NAMES as readonly string[]).includes(p as string))) {
      fail('fallback_providers', `must be an array of ${PROVIDER_NAMES.join(', ')}`);
    }
    fallbackProviders = fp as string[];
  }

  const prices: RoutingFile['prices'] = {};
  if (doc.prices !== undefined) {
    if (!isObject(doc.prices)) fail('prices', 'must be an object');
    for (const [model, p] of Object.entries(doc.prices as Record<string, unknown>)) {
      if (!isObject(p)) fail(`prices.${model}`, 'must be an object');
      const entry = p as Record<string, unknown>;
      for (const f of ['input_per_mtok', 'output_per_mtok', 'cache_read_per_mtok', 'cache_write_per_mtok']) {
        const v = entry[f];
        const required = f === 'input_per_mtok' || f === 'output_per_mtok';
        if ((v === undefined && required) || (v !== undefined && (typeof v !== 'number' || !(v >= 0)))) {
          fail(`prices.${model}.${f}`, 'must be a non-negative number');
        }
      }
      prices[model] = entry as unknown as PriceOverride;
    }
  }

  const circuit = { ...DEFAULT_BREAKER };
  if (doc.circuit_breaker !== undefined) {
    if (!isObject(doc.circuit_breaker)) fail('circuit_breaker', 'must be an object');
    for (const [k, v] of Object.entries(doc.circuit_breaker as Record<string, unknown>)) {
      if (!Object.hasOwn(circuit, k)) fail(`circuit_breaker.${k}`, 'is not a known field');
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(`circuit_breaker.${k}`, 'must be a positive integer');
      circuit[k as keyof BreakerSettings] = v as number;
    }
  }

  const cache = { default_ttl_seconds: 300, max_bytes: 64 * 1024 * 1024 };
  if (doc.cache !== undefined) {
    if (!isObject(doc.cache)) fail('cache', 'must be an object');
    for (const [k, v] of Object.entries(doc.cache as Record<string, unknown>)) {
      if (!Object.hasOwn(cache, k)) fail(`cache.${k}`, 'is not a known field');
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`cache.${k}`, 'must be a non-negative integer');
      cache[k as keyof typeof cache] = v as number;
    }
  }

  return { routes, providers, fallback_providers: fallbackProviders, prices, circuit_breaker: circuit, cache };
}
