// Usage totals for GET /v1/usage and the admin API, read through the store's guard: a failing
// store answers 503 store_unavailable at once rather than after every client's timeout.
import type { UsageReader, UsageTotals } from '../ports';
import type { StoreGuard } from '../store-guard';

export class GuardedUsageReader implements UsageReader {
  constructor(
    private readonly inner: UsageReader,
    private readonly guard: StoreGuard,
  ) {}

  totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals> {
    return this.guard.run('usage.totals', () => this.inner.totals(tenantId, fromIso, toIso));
  }

  totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    return this.guard.run('usage.totals_by_model', () => this.inner.totalsByModel(tenantId, fromIso, toIso));
  }
}
