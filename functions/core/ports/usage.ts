// Accounting: one usage event per request, handed to the aggregation pipeline and summed per
// tenant, day and model.

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
  /** Requests answered with an error status (400 or above) that were billed or counted. */
  errors: number;
}

/** Read side of accounting: per-tenant totals for a period, overall or per model. */
export interface UsageReader {
  totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals>;
  totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>>;
  /** Optional: per UTC day ("YYYY-MM-DD", days without usage absent) in one read; callers fall back to `totals` per day. */
  totalsByDay?(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>>;
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
