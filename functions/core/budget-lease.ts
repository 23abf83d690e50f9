// Budget reservations without a store round trip per request. An instance reserves a lease (a
// slice of the tenant's remaining budget) in the shared ledger, atomically like any reservation,
// and admits requests against it locally; real costs are settled locally and written back, with
// the unused part of the lease, once a second. The shared ledger never holds more than the budget
// (spent + every instance's leases), so the guarantee stays: concurrent requests cannot overshoot
// by more than their reservations. Near the end of a budget the lease shrinks to the request's own
// estimate, so the last requests are decided one by one in the shared ledger. The cost: for up to
// a second, headroom leased by one instance is not available to another.
import type { BudgetLedger, Reservation } from './budget';
import type { Logger } from './logger';
import { roundUsd as round } from './usage-totals';

export interface BudgetLeaseOptions {
  /** A lease is this share of the budget (default 1 %), or the request's estimate if larger. */
  leaseFraction?: number;
  /** How often settled costs and unused leases go back to the shared ledger (default 1 s). */
  flushMs?: number;
}

interface Account {
  tenantId: string;
  period: string;
  /** Reserved in the shared ledger by this instance and not yet given back. */
  held: number;
  /** Estimates of requests admitted here and not yet settled. */
  reserved: number;
  /** Real costs settled here and not yet written to the shared ledger. */
  spent: number;
  /** Spent in the shared ledger when last heard from it (for the 429 message). */
  sharedSpent: number;
  /** A lease request in flight: concurrent requests wait for it instead of asking again. */
  leasing?: Promise<void>;
}


export class LeasedBudgetLedger implements BudgetLedger {
  private readonly accounts = new Map<string, Account>();
  private readonly leaseFraction: number;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;

  constructor(private readonly shared: BudgetLedger, private readonly logger: Logger, opts: BudgetLeaseOptions = {}) {
    this.leaseFraction = opts.leaseFraction ?? 0.01;
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.timer.unref();
  }

  private account(tenantId: string, period: string): Account {
    const key = `${tenantId}\u0000${period}`;
    let a = this.accounts.get(key);
    if (!a) this.accounts.set(key, (a = { tenantId, period, held: 0, reserved: 0, spent: 0, sharedSpent: 0 }));
    return a;
  }

  reserve(tenantId: string, period: string, amount: number, limit: number, force: boolean): Reservation | Promise<Reservation> {
    const a = this.account(tenantId, period);
    if (this.fits(a, amount)) return this.take(a, amount);
    return this.reserveSlow(a, amount, limit, force);
  }

  /** Room left on the lease (strictly: with nothing left, even an estimate of 0 asks the ledger). */
  private fits(a: Account, amount: number): boolean {
    const room = a.held - a.reserved - a.spent;
    return room > 0 && room >= amount;
  }

  private take(a: Account, amount: number): Reservation {
    a.reserved = round(a.reserved + amount);
    return { admitted: true, committed: a.sharedSpent };
  }

  private async reserveSlow(a: Account, amount: number, limit: number, force: boolean): Promise<Reservation> {
    while (a.leasing) {
      await a.leasing;
      if (this.fits(a, amount)) return this.take(a, amount);
    }
    let refused = false;
    a.leasing = (async () => {
      // A lease for many requests while the budget has room; near its end, just this request.
      const lease = Math.max(amount, round(limit * this.leaseFraction));
      let r = await this.shared.reserve(a.tenantId, a.period, lease, limit, force);
      let got = lease;
      if (!r.admitted && lease > amount) {
        r = await this.shared.reserve(a.tenantId, a.period, amount, limit, force);
        got = amount;
      }
      a.sharedSpent = r.committed;
      if (r.admitted) a.held = round(a.held + got);
      else refused = true;
    })().finally(() => { a.leasing = undefined; });
    await a.leasing;
    if (refused || !this.fits(a, amount)) return { admitted: false, committed: round(a.sharedSpent + a.spent) };
    return this.take(a, amount);
  }

  settle(tenantId: string, period: string, reserved: number, actual: number): void {
    const a = this.account(tenantId, period);
    a.reserved = Math.max(0, round(a.reserved - reserved));
    a.spent = round(a.spent + actual);
  }

  /** Writes settled costs and unused leases back to the shared ledger. */
  flush(): Promise<void> {
    this.flushing ??= this.flushAll().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  private async flushAll(): Promise<void> {
    await Promise.all([...this.accounts.entries()].map(async ([key, a]) => {
      if (a.leasing) return; // the next round takes it
      const release = round(a.held - a.reserved);
      const spent = a.spent;
      if (release <= 0 && spent === 0) {
        if (a.reserved === 0 && a.held === 0) this.accounts.delete(key);
        return;
      }
      // Taken out before the write: requests settling meanwhile accumulate for the next round.
      a.held = a.reserved;
      a.spent = round(a.spent - spent);
      try {
        await this.shared.settle(a.tenantId, a.period, Math.max(0, release), spent);
        a.sharedSpent = round(a.sharedSpent + spent);
      } catch (err) {
        // Put it back: the next round retries. Until then this instance holds what it held.
        a.held = round(a.held + Math.max(0, release));
        a.spent = round(a.spent + spent);
        this.logger.error('budget settlement failed; retrying', { tenant: a.tenantId, error: err instanceof Error ? err.message : String(err) });
      }
    }));
  }

  /** Stops the timer after a last flush (shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
