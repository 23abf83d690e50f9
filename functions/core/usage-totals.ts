// Arithmetic on usage totals, shared by every usage store. Cost stays exact to 1e-10 USD.
import type { UsageEvent, UsageTotals } from './ports';

export const roundUsd = (usd: number): number => Math.round(usd * 1e10) / 1e10;

export const emptyTotals = (): UsageTotals => ({ request_count: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, cache_hits: 0, errors: 0 });

/** Adds `b` into `a`. */
export function addTotals(a: UsageTotals, b: UsageTotals): void {
  a.request_count += b.request_count;
  a.prompt_tokens += b.prompt_tokens;
  a.completion_tokens += b.completion_tokens;
  a.cost_usd = roundUsd(a.cost_usd + b.cost_usd);
  a.cache_hits += b.cache_hits;
  a.errors += b.errors;
}

/** The totals one event adds. */
export const eventTotals = (e: UsageEvent): UsageTotals => ({
  request_count: 1,
  prompt_tokens: e.prompt_tokens,
  completion_tokens: e.completion_tokens,
  cost_usd: e.cost_usd,
  cache_hits: e.cache_hit ? 1 : 0,
  errors: isErrorStatus(e.status) ? 1 : 0,
});

/** Budget used in percent, to 1e-6 (as GET /v1/usage reports it); 0 without a budget. */
export const budgetUsedPct = (costUsd: number, budgetUsd: number): number => (budgetUsd > 0 ? Math.round((costUsd / budgetUsd) * 100 * 1e6) / 1e6 : 0);

/** A share of requests (cache hits, errors) to four decimals (as GET /v1/usage reports it); 0 without requests. */
export const requestRate = (count: number, requests: number): number => (requests > 0 ? Math.round((count / requests) * 1e4) / 1e4 : 0);

/** An event's status that counts as an error in the totals. */
export const isErrorStatus = (status: number): boolean => status >= 400;

export function sumTotals(byModel: Record<string, UsageTotals>): UsageTotals {
  const sum = emptyTotals();
  for (const t of Object.values(byModel)) addTotals(sum, t);
  return sum;
}

/** Walks a tenant's day-and-model counters, calling `visit` once per counter. */
export type DayModelWalk = (visit: (day: string, model: string, totals: UsageTotals) => void) => Promise<void>;

/** Sums the counters a walk visits into one total per day (`YYYY-MM-DD`) or per model. */
export async function groupTotals(walk: DayModelWalk, by: 'day' | 'model'): Promise<Record<string, UsageTotals>> {
  const groups: Record<string, UsageTotals> = {};
  await walk((day, model, t) => addTotals((groups[by === 'day' ? day : model] ??= emptyTotals()), t));
  return groups;
}
