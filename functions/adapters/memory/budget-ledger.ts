import type { BudgetLedger, Reservation } from '../../core/budget';
import { roundUsd } from '../../core/usage-totals';

interface Account {
  committed: number;
  reserved: number;
}

/** Spend per tenant and period, in process: exact for one instance. */
export class MemoryBudgetLedger implements BudgetLedger {
  /** tenant → period → account (nested maps: no key string built per request). */
  private readonly accounts = new Map<string, Map<string, Account>>();

  private account(tenantId: string, period: string): Account {
    let periods = this.accounts.get(tenantId);
    if (!periods) this.accounts.set(tenantId, (periods = new Map()));
    let a = periods.get(period);
    if (!a) {
      // A new month starts from zero; earlier months are no longer needed here.
      periods.clear();
      periods.set(period, (a = { committed: 0, reserved: 0 }));
    }
    return a;
  }

  reserve(tenantId: string, period: string, amount: number, limit: number, force: boolean): Reservation {
    const a = this.account(tenantId, period);
    // At or over the budget nothing new starts, even a request estimated at 0.
    const admitted = force || (a.committed + a.reserved < limit && a.committed + a.reserved + amount <= limit);
    if (admitted) a.reserved += amount;
    return { admitted, committed: a.committed };
  }

  settle(tenantId: string, period: string, reserved: number, actual: number): void {
    const a = this.account(tenantId, period);
    a.reserved = Math.max(0, a.reserved - reserved);
    a.committed = roundUsd(a.committed + actual);
  }
}
