// Monthly budgets: a request reserves its estimated cost before it is sent, so a burst of
// concurrent requests cannot overshoot a budget by more than the reservations allow; the real cost
// replaces the estimate when it is known. Threshold alerts are sent by the usage aggregator
// (budget-alerts.ts), from the spend it has counted.
import { GatewayError } from './errors';
import type { Logger } from './logger';
import { METRIC, noMetrics, type Metrics } from './metrics';
import type { ChatCompletionRequest } from './openai-types';
import type { Tenant } from './ports';
import type { RequestContext } from './request-context';
import type { PriceBook } from './pricing/pricing';

export interface Reservation {
  admitted: boolean;
  committed: number;
}

/**
 * Where each tenant's spend for a period is kept. Results may come back synchronously (memory)
 * or as promises (shared stores): the hot path then skips a promise round per request.
 */
export interface BudgetLedger {
  /**
   * Adds `amount` to the period's reserved spend if committed + reserved + amount stays within
   * `limit` (or `force` is set, for tenants allowed to overspend). Atomic per tenant.
   */
  reserve(tenantId: string, period: string, amount: number, limit: number, force: boolean): Reservation | Promise<Reservation>;
  /** Drops a reservation and commits the actual cost. */
  settle(tenantId: string, period: string, reserved: number, actual: number): void | Promise<void>;
  /** Writes back what the ledger holds in process, if anything (shutdown, end of a Lambda invocation). */
  flush?(): Promise<void>;
}

/** Output tokens assumed for a request that sets no max_tokens. */
const DEFAULT_OUTPUT_TOKENS = 1024;

let currentMonth = { period: '', fromMs: 0, untilMs: -1 };

/** The budget period of a moment: its UTC calendar month, "YYYY-MM" (computed once per month). */
export function budgetPeriod(nowMs: number): string {
  if (nowMs >= currentMonth.fromMs && nowMs < currentMonth.untilMs) return currentMonth.period;
  const d = new Date(nowMs);
  const fromMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const untilMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  currentMonth = { period: d.toISOString().slice(0, 7), fromMs, untilMs };
  return currentMonth.period;
}

/**
 * Upper estimate of a chat request's cost: prompt tokens from its size (≈ 4 bytes per token)
 * plus the output it may produce. Unknown prices estimate 0, as they are billed.
 */
export function estimateCost(request: ChatCompletionRequest, body: Buffer, model: string, prices: PriceBook): number {
  const promptTokens = Math.ceil(body.length / 4);
  const outputTokens = request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_OUTPUT_TOKENS;
  return prices.cost(model, { prompt_tokens: promptTokens, completion_tokens: outputTokens, cached_tokens: 0, cache_write_tokens: 0 }) ?? 0;
}

export class BudgetGuard {
  /** Settlements on their way to a shared ledger (a Lambda waits for them before it returns). */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly ledger: BudgetLedger,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly metrics: Metrics = noMetrics,
  ) {}

  /**
   * Reserves `estimate` for the tenant, or throws OpenAI's 429 insufficient_quota. Returns what
   * was reserved (synchronously when the ledger answers so).
   */
  reserve(tenant: Tenant, estimate: number): number | Promise<number> {
    if (tenant.budget_usd <= 0) return 0;
    const r = this.ledger.reserve(tenant.id, budgetPeriod(this.now()), estimate, tenant.budget_usd, tenant.allow_overage);
    return r instanceof Promise ? r.then((x) => this.admitted(tenant, x, estimate)) : this.admitted(tenant, r, estimate);
  }

  private admitted(tenant: Tenant, r: Reservation, estimate: number): number {
    if (!r.admitted) {
      this.metrics.count(METRIC.rateLimited, { tenant: tenant.id, limit: 'budget' });
      throw new GatewayError(429, `Tenant "${tenant.id}" has used its monthly budget of ${tenant.budget_usd} USD (spent ${r.committed.toFixed(6)} USD this month).`, {
        type: 'insufficient_quota', code: 'insufficient_quota',
      });
    }
    return estimate;
  }

  /** Replaces the reservation with the real cost (off the client's path: nothing waits on it). */
  settle(tenant: Tenant, reserved: number, actual: number): void {
    if (tenant.budget_usd <= 0) return;
    const s = this.ledger.settle(tenant.id, budgetPeriod(this.now()), reserved, actual);
    if (!(s instanceof Promise)) return;
    const p = s.catch((err: unknown) => this.logger.error('budget settlement failed', { tenant: tenant.id, error: String(err) }))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once every settlement started so far is written, and the ledger has flushed. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    await this.ledger.flush?.();
  }
}

/** Settles the request's reservation (if it still holds one) against its real cost, once. */
export function settleBudget(guard: BudgetGuard, ctx: RequestContext, costUsd: number): void {
  const reserved = ctx.reserved;
  if (reserved === undefined) return;
  ctx.reserved = undefined;
  guard.settle(ctx.tenant, reserved, costUsd);
}
