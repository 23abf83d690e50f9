// Monthly budgets: a request reserves its estimated cost before it is sent, so a burst of
// concurrent requests cannot overshoot a budget by more than the reservations allow; the real cost
// replaces the estimate when it is known (named reservations: see BudgetChange). Threshold alerts
// are sent by the usage aggregator (budget-alerts.ts), from the spend it has counted.
import { randomBytes } from 'node:crypto';
import { GatewayError } from './errors';
import type { Logger } from './logger';
import { METRIC, noMetrics, type Metrics } from './metrics';
import type { ChatCompletionRequest } from './openai-types';
import type { BudgetLedger, Hold, Tenant } from './ports';
import type { PriceBook } from './pricing/pricing';
import { roundUsd } from './usage-totals';

/** What a request holds between its reservation and its settlement. */
export interface BudgetHold extends Hold {
  /** The account it lives in (a request that crosses midnight at a month's end settles there). */
  period: string;
}

/**
 * Reservation ids: a random prefix per process and a counter (short: Redis fields and DynamoDB
 * attribute names are made of them), unique across instances without entropy per call.
 */
const HOLD_PREFIX = randomBytes(6).toString('base64url');
let holdCounter = 0;
export const newHoldId = (): string => HOLD_PREFIX + (holdCounter++).toString(36);

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

/**
 * What a request holds of its tenant's budget from admission to its end: settled with the real
 * cost once it is known, or released (given back whole) if the request fails before. Only the
 * first of the two counts; later calls do nothing, so a pipeline may release on every failure
 * path without asking whether the request was settled first.
 */
export interface BudgetHandle {
  /** Replaces the reservation with the request's real cost, in USD. */
  settle(costUsd: number): void;
  /** Gives the reservation back: nothing was spent. */
  release(): void;
}

/** The handle of a tenant without a budget: nothing is held, so nothing is written. */
export const NO_BUDGET: BudgetHandle = { settle: () => undefined, release: () => undefined };

/**
 * Two reservations of one request as one handle: the real cost is settled against the first, and
 * the second given back then (its amount is then part of that cost, never counted twice).
 */
export function joinHolds(first: BudgetHandle, second: BudgetHandle): BudgetHandle {
  if (second === NO_BUDGET) return first;
  return {
    settle: (costUsd) => {
      first.settle(costUsd);
      second.release();
    },
    release: () => {
      first.release();
      second.release();
    },
  };
}

/** Settlements on their way to the ledger, off the client's path (a Lambda waits for them). */
class Settlements {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly ledger: BudgetLedger,
    private readonly logger: Logger,
  ) {}

  write(tenant: Tenant, hold: BudgetHold, costUsd: number): void {
    const p: Promise<void> = this.ledger
      .change(tenant.id, hold.period, { from: { id: hold.id, amount: hold.amount }, spent: roundUsd(costUsd) })
      .then(
        () => undefined,
        (err: unknown) => this.logger.error('budget settlement failed', { tenant: tenant.id, error: String(err) }),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once every settlement started so far (and any started meanwhile) has its answer. */
  async done(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/** A reservation admitted in the ledger: settled or released once. */
class HeldBudget implements BudgetHandle {
  private open = true;

  constructor(
    private readonly settlements: Settlements,
    private readonly tenant: Tenant,
    private readonly hold: BudgetHold,
  ) {}

  settle(costUsd: number): void {
    if (!this.open) return;
    this.open = false;
    this.settlements.write(this.tenant, this.hold, costUsd);
  }

  release(): void {
    this.settle(0);
  }
}

export class BudgetGuard {
  private readonly settlements: Settlements;

  constructor(
    private readonly ledger: BudgetLedger,
    logger: Logger,
    private readonly now: () => number,
    private readonly metrics: Metrics = noMetrics,
  ) {
    this.settlements = new Settlements(ledger, logger);
  }

  /**
   * Reserves `estimate` for the tenant and returns the handle to settle it with, or throws
   * OpenAI's 429 insufficient_quota. A tenant without a budget gets NO_BUDGET (no ledger call).
   */
  async reserve(tenant: Tenant, estimate: number): Promise<BudgetHandle> {
    if (tenant.budget_usd <= 0) return NO_BUDGET;
    const hold: BudgetHold = { id: newHoldId(), amount: roundUsd(estimate), period: budgetPeriod(this.now()) };
    const r = await this.ledger.change(tenant.id, hold.period, { to: hold, spent: 0, limit: tenant.budget_usd, force: tenant.allow_overage });
    if (!r.admitted) {
      this.metrics.count(METRIC.rateLimited, { tenant: tenant.id, limit: 'budget' });
      throw new GatewayError(429, budgetRefusal(tenant, r.committed, hold.amount), { type: 'insufficient_quota', code: 'insufficient_quota' });
    }
    return new HeldBudget(this.settlements, tenant, hold);
  }

  /**
   * Resolves once the settlements started so far have had their answer and the ledger has
   * written back what it holds, or tried to: both at once, so that while a store is down this
   * waits at most one store timeout (what could not be written is kept for the next time).
   */
  async settled(): Promise<void> {
    await Promise.all([this.settlements.done(), this.ledger.flush?.()]);
  }
}

/**
 * Why a reservation was refused, in the terms a client can act on: a spent budget is spent; but a
 * request whose estimate is merely larger than what is left is told so (estimate, what is left,
 * and that `max_tokens` is what the estimate assumes), since a smaller request would pass.
 */
export function budgetRefusal(tenant: Tenant, spent: number, estimate: number): string {
  const budget = `tenant "${tenant.id}"'s monthly budget of ${usd(tenant.budget_usd)} USD`;
  if (spent >= tenant.budget_usd)
    return `Tenant "${tenant.id}" has used its monthly budget of ${usd(tenant.budget_usd)} USD (spent ${usd(spent)} USD this month).`;
  const left = tenant.budget_usd - spent;
  const lower = `lower max_tokens (the estimate counts every output token it allows: ${DEFAULT_OUTPUT_TOKENS} when unset) or shorten the prompt`;
  if (estimate > left) {
    return (
      `This request's cost estimate of ${usd(estimate)} USD exceeds the ${usd(left)} USD left of ${budget} ` + `(spent ${usd(spent)} USD this month): ${lower}.`
    );
  }
  // What is left covers the estimate, but requests in progress hold part of it until they finish.
  return (
    `This request's cost estimate of ${usd(estimate)} USD exceeds what is left of ${budget} once the requests in progress are counted ` +
    `(${usd(left)} USD left before them, spent ${usd(spent)} USD this month): retry when they finish, or ${lower}.`
  );
}

/** A USD amount with the digits that matter: 0.00001 stays 0.00001, not 0.000000. */
function usd(amount: number): string {
  if (amount === 0 || !Number.isFinite(amount)) return String(amount);
  const decimals = Math.min(12, Math.max(2, Math.ceil(-Math.log10(Math.abs(amount))) + 2));
  return amount.toFixed(decimals).replace(/(\.\d*?[1-9])0+$|\.0+$/, '$1');
}
