// Budgets while the shared ledger is failing. Open mode (the default) admits a request against
// what this instance last knew of the tenant's spend (the last committed total it saw, plus what
// it settled since, plus what it admitted meanwhile), keeps every settlement it could not write,
// and writes them when the store is back, so that the month's spent total is exact afterwards.
// Closed mode refuses budgeted tenants with 503 store_unavailable instead; their settlements are
// kept and written all the same. Either way, a reservation whose call may still land is resolved
// (see BudgetChange.from) and never left to hold budget.
import type { BudgetChange, BudgetLedger, Reservation } from '../ports';
import { newHoldId } from '../budget';
import { withinBudget } from '../budget-change';
import type { StoreFailureMode } from '../../config';
import { storeUnavailable } from '../errors';
import type { Logger } from '../logger';
import { StoreUnavailableError, type StoreGuard } from '../store-guard';
import { roundUsd } from '../usage-totals';
import { SettlementBacklog } from './budget-backlog';
import { BudgetCallNotSent } from './guarded-budget-ledger';

export interface ResilientBudgetOptions {
  failureMode: StoreFailureMode;
  logger: Logger;
  /** The store's guard: when it finds the store back, the kept settlements are written. */
  guard?: StoreGuard;
  /** Reservation ids (tests pass their own). */
  newId?: () => string;
}

/** What this instance knows of a tenant's account in the current period. */
interface Known {
  period: string;
  /** Spent: the highest total the ledger reported, plus what was settled here since. */
  spent: number;
  /** Admitted here while the store was away and not settled yet. */
  degraded: number;
}

/** A reservation admitted without the store. */
interface DegradedHold {
  amount: number;
  /** Its reserve call was sent and failed: it may still land, so it is resolved in the store. */
  sent: boolean;
}

export class ResilientBudgetLedger implements BudgetLedger {
  private readonly known = new Map<string, Known>();
  private readonly degraded = new Map<string, DegradedHold>();
  private readonly backlog: SettlementBacklog;

  constructor(
    private readonly inner: BudgetLedger,
    private readonly opts: ResilientBudgetOptions,
  ) {
    this.backlog = new SettlementBacklog(inner, opts.newId ?? newHoldId, opts.logger);
    opts.guard?.onChange((status) => {
      if (status === 'ok') void this.backlog.drain();
    });
  }

  /** Settlements kept for later (for tests and /health-like reports). */
  get backlogSize(): number {
    return this.backlog.size;
  }

  change(tenantId: string, period: string, change: BudgetChange): Promise<Reservation> {
    return change.to && !change.from ? this.reserve(tenantId, period, change) : this.settle(tenantId, period, change);
  }

  fence(tenantId: string, period: string, id: string): Promise<number | undefined> {
    return this.inner.fence(tenantId, period, id);
  }

  /** Writes the kept settlements (or tries: at most one store timeout) and flushes the ledger below. */
  async flush(): Promise<void> {
    await Promise.all([this.backlog.drain(), this.inner.flush?.()]);
  }

  private knownOf(tenantId: string, period: string): Known {
    let k = this.known.get(tenantId);
    if (!k || k.period !== period) {
      // One period per tenant: a new month starts from what the store will say.
      if (!k || period > k.period) this.known.set(tenantId, (k = { period, spent: 0, degraded: 0 }));
      else return { period, spent: 0, degraded: 0 };
    }
    return k;
  }

  /** Takes in an answer of the store (which is then answering again: the backlog can go out). */
  private saw(tenantId: string, period: string, r: Reservation): Reservation {
    if (this.backlog.size > 0) void this.backlog.drain();
    const k = this.knownOf(tenantId, period);
    // Spend only grows within a month: the larger of the two views is the better one.
    k.spent = Math.max(k.spent, r.committed);
    return r;
  }

  private reserve(tenantId: string, period: string, change: BudgetChange): Promise<Reservation> {
    return this.inner.change(tenantId, period, change).then(
      (r) => this.saw(tenantId, period, r),
      (err: unknown) => this.degrade(tenantId, period, change, err),
    );
  }

  private degrade(tenantId: string, period: string, change: BudgetChange, err: unknown): Reservation {
    const to = change.to;
    if (!(err instanceof StoreUnavailableError) || !to) throw err;
    const sent = !(err instanceof BudgetCallNotSent);
    const k = this.knownOf(tenantId, period);
    const admitted = this.opts.failureMode === 'open' && withinBudget(roundUsd(k.spent + k.degraded), to.amount, change);
    if (admitted) {
      k.degraded = roundUsd(k.degraded + to.amount);
      this.degraded.set(to.id, { amount: to.amount, sent });
      return { admitted, committed: k.spent };
    }
    // Refused here, but a call that was sent may still make the reservation: resolve it.
    if (sent) this.backlog.add(tenantId, period, { from: { id: to.id }, spent: 0 }, false);
    if (this.opts.failureMode === 'closed') throw storeUnavailable();
    return { admitted, committed: k.spent };
  }

  private settle(tenantId: string, period: string, change: BudgetChange): Promise<Reservation> {
    const k = this.knownOf(tenantId, period);
    k.spent = roundUsd(k.spent + change.spent);
    let c = change;
    const d = change.from && this.degraded.get(change.from.id);
    if (change.from && d) {
      this.degraded.delete(change.from.id);
      k.degraded = Math.max(0, roundUsd(k.degraded - d.amount));
      if (!d.sent) {
        // Nothing of it is in the store: its cost is plain spend, written with the next call.
        this.backlog.addSpend(tenantId, period, change.spent);
        void this.backlog.drain();
        return Promise.resolve({ admitted: true, committed: k.spent });
      }
      c = { from: { id: change.from.id }, spent: change.spent };
    }
    const extra = this.backlog.takeSpend(tenantId, period);
    if (extra > 0) c = { ...c, spent: roundUsd(c.spent + extra) };
    return this.inner.change(tenantId, period, c).then(
      (r) => this.saw(tenantId, period, r),
      (err: unknown) => {
        if (!(err instanceof StoreUnavailableError)) throw err;
        this.backlog.add(tenantId, period, c, !(err instanceof BudgetCallNotSent));
        return { admitted: true, committed: k.spent };
      },
    );
  }
}
