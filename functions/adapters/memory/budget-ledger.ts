import type { BudgetChange, BudgetLedger, Reservation } from '../../core/ports';
import { decideChange, VOID_HOLD, type HoldValue } from '../../core/budget-change';
import { roundUsd } from '../../core/usage-totals';

interface Account {
  outstanding: number;
  spent: number;
  holds: Map<string, Exclude<HoldValue, undefined>>;
}

/** Periods kept per tenant: this month, and the last one (its requests may still settle). */
const PERIODS_KEPT = 2;

/**
 * Spend per tenant and period, in process: exact for one instance. A change is applied when it is
 * called (the answer comes a microtask later), as a store applies it when it receives it.
 */
export class MemoryBudgetLedger implements BudgetLedger {
  /** tenant → period → account (nested maps: no key string built per request). */
  private readonly accounts = new Map<string, Map<string, Account>>();

  private account(tenantId: string, period: string): Account {
    let periods = this.accounts.get(tenantId);
    if (!periods) this.accounts.set(tenantId, (periods = new Map()));
    let a = periods.get(period);
    if (!a) {
      periods.set(period, (a = { outstanding: 0, spent: 0, holds: new Map() }));
      // Periods come in order ("YYYY-MM"): the oldest goes once a new one starts.
      if (periods.size > PERIODS_KEPT) periods.delete([...periods.keys()].sort()[0] as string);
    }
    return a;
  }

  async change(tenantId: string, period: string, change: BudgetChange): Promise<Reservation> {
    const a = this.account(tenantId, period);
    const d = decideChange((id) => a.holds.get(id), a.outstanding, change);
    if (d.kind === 'apply') {
      if (change.from) {
        if (d.voidFrom) a.holds.set(change.from.id, VOID_HOLD);
        else a.holds.delete(change.from.id);
      }
      if (change.to) a.holds.set(change.to.id, roundUsd(change.to.amount));
      a.outstanding = roundUsd(a.outstanding + d.delta);
      a.spent = roundUsd(a.spent + change.spent);
    }
    return { admitted: d.kind !== 'refused', committed: a.spent };
  }

  async fence(tenantId: string, period: string, id: string): Promise<number | undefined> {
    const a = this.account(tenantId, period);
    const held = a.holds.get(id);
    if (typeof held === 'number') return held;
    a.holds.set(id, VOID_HOLD);
    return undefined;
  }
}
