// The gateway core's ports: each pipeline step depends on one of these interfaces, never on a
// concrete store. Memory implementations live in functions/adapters/memory; shared backends
// (DynamoDB, Redis, SQS) implement the same interfaces.

export interface Tenant {
  id: string;
  name: string;
  enabled: boolean;
  /** Requests per minute; 0 means unlimited. */
  rate_limit_rpm: number;
  /** Tokens per minute; 0 means unlimited. */
  rate_limit_tpm: number;
  budget_usd: number;
  allow_overage: boolean;
  /** Empty means every model is allowed. */
  allowed_models: string[];
  default_provider?: string;
  fallback_providers?: string[];
}

/** Auth step: resolves a presented API key's SHA-256 hash to its tenant. */
export interface TenantStore {
  findByKeyHash(keyHash: string): Promise<Tenant | null>;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/**
 * Rate-limit step, in fixed one-minute windows shared by every instance using the same backend.
 * Requests are counted exactly (admitted atomically up to the limit); tokens are known only after
 * a call, so a request is admitted while the window's spent tokens are under the limit and its
 * tokens are added when it ends.
 */
export interface RateLimiter {
  consumeRequest(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision>;
  checkTokens(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision>;
  addTokens(tenantId: string, tokens: number, nowMs: number): Promise<void>;
}

export interface CachedCompletion {
  /** The completion JSON as the provider produced it, without gateway metadata. */
  body: string;
  provider: string;
  model: string;
  storedAtMs: number;
}

/** Cache step: exact-match response cache with a TTL per entry. */
export interface ResponseCache {
  get(key: string, nowMs: number): Promise<CachedCompletion | null>;
  set(key: string, value: CachedCompletion, ttlSeconds: number, nowMs: number): Promise<void>;
}

export type BreakerPhase = 'closed' | 'open' | 'half_open';

export interface BreakerState {
  phase: BreakerPhase;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** When the breaker opened (ms since epoch); 0 when closed. */
  openedAtMs: number;
}

/** Circuit-breaker step: where each provider's breaker state is kept. */
export interface BreakerStateStore {
  get(provider: string): Promise<BreakerState>;
  put(provider: string, state: BreakerState): Promise<void>;
  all(): Promise<Record<string, BreakerState>>;
}

export interface UsageEvent {
  /** Minted by the gateway, unique per request: the idempotency key of accounting. */
  request_id: string;
  /** The client's X-Request-ID, when it sent one. */
  correlation_id?: string;
  tenant_id: string;
  provider: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  latency_ms: number;
  cache_hit: boolean;
  status: number;
  stream: boolean;
  timestamp: string;
  /** The tenant's monthly budget when the request ran (0: none): what alerts measure against. */
  budget_usd: number;
  /**
   * Present (true) when the tokens and cost are the gateway's estimate, not the provider's count:
   * a stream the client left or the upstream cut before its usage arrived (see usage-estimate.ts).
   */
  estimated?: boolean;
}

/** Account step: hands one usage event per request to the aggregation pipeline. */
export interface UsageSink {
  /** Never rejects for a transport failure: the sink retries and then keeps the event elsewhere. */
  publish(event: UsageEvent): Promise<void>;
  /** Resolves once every event published so far is handed over (a Lambda awaits it before returning). */
  flush(): Promise<void>;
}

export interface UsageTotals {
  request_count: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  cache_hits: number;
}

/** Read side of accounting: per-tenant totals for a period, overall or per model. */
export interface UsageReader {
  totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals>;
  totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>>;
}

/** What applying one usage event left behind. */
export interface UsageApplied {
  /** False when the request id was already counted (a redelivery): nothing changed. */
  counted: boolean;
  /** The tenant's total cost in the event's UTC month, after the event. */
  month_cost_usd: number;
}

/**
 * Aggregation side of accounting: per-tenant totals per day and model and per month, idempotent
 * by request id.
 */
export interface UsageStore extends UsageReader {
  /**
   * Counts the event unless its request id was counted before, then runs `then` (threshold
   * alerts). The event is done only once `then` succeeds: if `then` throws, apply rejects, and a
   * redelivery of the same event runs `then` again without counting twice.
   */
  apply(event: UsageEvent, then: (applied: UsageApplied) => Promise<void>): Promise<UsageApplied>;
  /**
   * Optional: applies several events in fewer writes than one by one (a queue batch), with the
   * same guarantee per event. `then` runs at least once per tenant and month the batch touches,
   * with the month's cost after the batch. Returns each event's result, or the error that kept
   * it from being applied (that event only is to be delivered again).
   */
  applyMany?(events: readonly UsageEvent[], then: (event: UsageEvent, applied: UsageApplied) => Promise<void>): Promise<Array<UsageApplied | Error>>;
}
