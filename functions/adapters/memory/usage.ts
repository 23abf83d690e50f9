import type { UsageApplied, UsageEvent, UsageStore, UsageTotals } from '../../core/ports';
import { addTotals, emptyTotals, eventTotals, roundUsd, sumTotals } from '../../core/usage-totals';

/** Request ids remembered for idempotency: in process, a repeat can only come shortly after the first. */
const SEEN_IDS = 10_000;

/**
 * Usage totals in process, per tenant per day and model and per month, idempotent by request id
 * within the most recent SEEN_IDS requests (a bounded window keeps a long-running server flat).
 */
export class MemoryUsageStore implements UsageStore {
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private seenHead = 0;
  /** tenant → day (YYYY-MM-DD) → model → totals */
  private readonly daily = new Map<string, Map<string, Map<string, UsageTotals>>>();
  /** tenant → month (YYYY-MM) → cost */
  private readonly monthly = new Map<string, Map<string, number>>();

  async apply(event: UsageEvent, then: (applied: UsageApplied) => Promise<void>): Promise<UsageApplied> {
    const applied = this.applyNow(event);
    await then(applied);
    return applied;
  }

  /** Counts the event synchronously (the in-process queue's fast path). */
  applyNow(event: UsageEvent): UsageApplied {
    const month = event.timestamp.slice(0, 7);
    let months = this.monthly.get(event.tenant_id);
    if (!months) this.monthly.set(event.tenant_id, (months = new Map()));
    if (this.seen.has(event.request_id)) return { counted: false, month_cost_usd: months.get(month) ?? 0 };
    this.remember(event.request_id);
    const day = event.timestamp.slice(0, 10);
    let days = this.daily.get(event.tenant_id);
    if (!days) this.daily.set(event.tenant_id, (days = new Map()));
    let models = days.get(day);
    if (!models) days.set(day, (models = new Map()));
    let t = models.get(event.model);
    if (!t) models.set(event.model, (t = emptyTotals()));
    addTotals(t, eventTotals(event));
    const monthCost = roundUsd((months.get(month) ?? 0) + event.cost_usd);
    months.set(month, monthCost);
    return { counted: true, month_cost_usd: monthCost };
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seenOrder.length < SEEN_IDS) {
      this.seenOrder.push(id);
      return;
    }
    // Ring buffer: overwrite (and forget) the oldest id.
    this.seen.delete(this.seenOrder[this.seenHead] as string);
    this.seenOrder[this.seenHead] = id;
    this.seenHead = (this.seenHead + 1) % SEEN_IDS;
  }

  async totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals> {
    return sumTotals(await this.totalsByModel(tenantId, fromIso, toIso));
  }

  async totalsByDay(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    const byDay: Record<string, UsageTotals> = {};
    const from = fromIso.slice(0, 10);
    const to = toIso.slice(0, 10);
    for (const [day, models] of this.daily.get(tenantId) ?? []) {
      if (day < from || day > to) continue;
      for (const t of models.values()) addTotals((byDay[day] ??= emptyTotals()), t);
    }
    return byDay;
  }

  async totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    const byModel: Record<string, UsageTotals> = {};
    const from = fromIso.slice(0, 10);
    const to = toIso.slice(0, 10);
    for (const [day, models] of this.daily.get(tenantId) ?? []) {
      if (day < from || day > to) continue;
      for (const [model, t] of models) addTotals((byModel[model] ??= emptyTotals()), t);
    }
    return byModel;
  }
}
