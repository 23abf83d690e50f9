// Usage totals for GET /v1/usage and the admin API, read through the store's guard: a failing
// store answers 503 store_unavailable at once rather than after every client's timeout.
import type { UsageReader, UsageTotals } from '../ports';
import type { StoreGuard } from '../store-guard';

export class GuardedUsageReader implements UsageReader {
  /** Present only when the store has it, so callers still see whether to fall back. */
  readonly totalsByDay?: (tenantId: string, fromIso: string, toIso: string) => Promise<Record<string, UsageTotals>>;

  constructor(
    private readonly inner: UsageReader,
    private readonly guard: StoreGuard,
  ) {
    const byDay = inner.totalsByDay?.bind(inner);
    if (byDay) this.totalsByDay = (tenantId, fromIso, toIso) => this.guard.run('usage.totals_by_day', () => byDay(tenantId, fromIso, toIso));
  }

  totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals> {
    return this.guard.run('usage.totals', () => this.inner.totals(tenantId, fromIso, toIso));
  }

  totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    return this.guard.run('usage.totals_by_model', () => this.inner.totalsByModel(tenantId, fromIso, toIso));
  }
}
