// Budget reservations without a store round trip per request. An instance holds at most one
// named lease per account in the shared ledger (a slice of the tenant's remaining budget, reserved
// atomically like any reservation) and admits requests against it locally; real costs are settled
// locally and written back once a second, the lease shrinking to what is still reserved here. The
// shared ledger never holds more than the budget (spent + every instance's leases), so concurrent
// requests cannot overshoot by more than their reservations. Near the end of a budget the lease
// shrinks to the request's own estimate, so the last requests are decided one by one in the
// shared ledger. The cost: for up to a second, headroom leased here is not available elsewhere.
//
// Every write is one change from the current lease to the next (with the spend to add): strictly
// one at a time per account, and a call whose outcome is unknown (it timed out) is repeated as the
// very same call, before anything else for that account goes out, until it is known applied.
// Named leases make the repeat safe: a call that already landed finds its `from` gone, or its `to`
// made. So every write names a lease: one with no lease to release makes one, even an empty one
// (a change naming neither would add its spend again each time it is repeated). And a lease made
// by a write that was repeated is released by fencing its id, not deleting it: the first attempt
// may still be on its way, and must not find the id free and make the lease (and its spend) again.
import { newHoldId } from './budget';
import type { BudgetChange, BudgetLedger, Hold, Reservation } from './ports';
import type { Logger } from './logger';
import { asNotSent, BudgetCallNotSent } from './resilience/guarded-budget-ledger';
import { StoreUnavailableError } from './store-guard';
import { roundUsd as round } from './usage-totals';

export interface BudgetLeaseOptions {
  /** A lease is this share of the budget (default 1 %), or the request's estimate if larger. */
  leaseFraction?: number;
  /** How often settled costs and unused leases go back to the shared ledger (default 1 s). */
  flushMs?: number;
  /** Lease ids (tests pass their own). */
  newId?: () => string;
}

/** A change sent to the shared ledger, with what it means here once applied. */
interface Write {
  change: BudgetChange;
  /** `held` before the write, restored if it turns out not applied. */
  heldBefore: number;
}

interface Account {
  tenantId: string;
  period: string;
  /** The lease in the shared ledger, as of the last write known applied. */
  lease: Hold | undefined;
  /**
   * The lease was made by a write without a `from` that was repeated after a timeout: its first
   * attempt may land after the lease is gone, so the lease is released fenced (see release()).
   */
  leaseFenced: boolean;
  /**
   * What requests are admitted against: the lease, or while a write is unresolved the lesser of
   * what either outcome leaves (never more than the shared ledger will hold).
   */
  held: number;
  /** Estimates of requests admitted here and not yet settled. */
  reserved: number;
  /** Real costs settled here and not yet written to the shared ledger. */
  spent: number;
  /** Spent in the shared ledger when last heard from it (for the 429 message). */
  sharedSpent: number;
  /** A write that was sent and failed: it may have landed. Repeated before anything else. */
  unknown: Write | undefined;
  /** The write in flight: one at a time per account; requests that need more wait for it. */
  busy: Promise<unknown> | undefined;
}

export class LeasedBudgetLedger implements BudgetLedger {
  private readonly accounts = new Map<string, Account>();
  private readonly leaseFraction: number;
  private readonly newId: () => string;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly shared: BudgetLedger,
    private readonly logger: Logger,
    opts: BudgetLeaseOptions = {},
  ) {
    this.leaseFraction = opts.leaseFraction ?? 0.01;
    this.newId = opts.newId ?? newHoldId;
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.timer.unref();
  }

  private account(tenantId: string, period: string): Account {
    const key = `${tenantId}\u0000${period}`;
    let a = this.accounts.get(key);
    if (!a) {
      a = { tenantId, period, lease: undefined, leaseFenced: false, held: 0, reserved: 0, spent: 0, sharedSpent: 0, unknown: undefined, busy: undefined };
      this.accounts.set(key, a);
    }
    return a;
  }

  /**
   * Takes the two changes a BudgetGuard makes: a reservation (`to`), admitted locally against
   * the lease, and a settlement (`from`), recorded locally. Request ids never reach the store.
   */
  async change(tenantId: string, period: string, c: BudgetChange): Promise<Reservation> {
    const a = this.account(tenantId, period);
    if (c.to && !c.from) {
      const amount = c.to.amount;
      if (this.fits(a, amount)) return this.take(a, amount);
      return this.reserveSlow(a, amount, c.limit, c.force ?? false);
    }
    if (c.to) throw new Error('a leased budget ledger takes reservations and settlements, not both at once');
    // A reservation admitted elsewhere (degraded, without this lease) settles with no amount.
    if (c.from?.amount !== undefined) a.reserved = Math.max(0, round(a.reserved - c.from.amount));
    a.spent = round(a.spent + c.spent);
    return { admitted: true, committed: a.sharedSpent };
  }

  /** Request ids are never sent to the shared ledger: none can land there late. */
  async fence(): Promise<undefined> {
    return undefined;
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

  private async reserveSlow(a: Account, amount: number, limit: number | undefined, force: boolean): Promise<Reservation> {
    while (a.busy) {
      await a.busy.catch(() => undefined);
      if (this.fits(a, amount)) return this.take(a, amount);
    }
    let granted: boolean;
    try {
      granted = await this.exclusive(a, async () => {
        await this.resolve(a);
        if (this.fits(a, amount)) return true; // the write it repeated was a lease that landed
        // A lease for many requests while the budget has room; near its end, just this request.
        const lease = limit === undefined ? amount : Math.max(amount, round(limit * this.leaseFraction));
        if (await this.grow(a, lease, limit, force)) return true;
        return lease > amount && this.grow(a, amount, limit, force);
      });
    } catch (err) {
      // The request's own id was never sent: whatever happened to the lease, not to it.
      throw asNotSent(err);
    }
    if (!granted || !this.fits(a, amount)) return { admitted: false, committed: round(a.sharedSpent + a.spent) };
    return this.take(a, amount);
  }

  /** A bigger lease, the spend settled here written with it: one change, refused if over budget. */
  private grow(a: Account, size: number, limit: number | undefined, force: boolean): Promise<boolean> {
    const to = { id: this.newId(), amount: round(a.reserved + size) };
    return this.write(a, { from: this.release(a), to, spent: a.spent, limit, force });
  }

  /**
   * The current lease as the next write's `from`: at its amount, or unconfirmed (released at its
   * stored amount, its id left fenced) when a first attempt that made it may still land.
   */
  private release(a: Account): BudgetChange['from'] {
    if (!a.lease) return undefined;
    return a.leaseFenced ? { id: a.lease.id } : a.lease;
  }

  /** Runs `fn` as the account's only write in flight. */
  private exclusive<T>(a: Account, fn: () => Promise<T>): Promise<T> {
    const p = fn();
    a.busy = p;
    const clear = (): void => {
      if (a.busy === p) a.busy = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  /** Sends one change; on a sent failure it becomes the account's unknown write. */
  private async write(a: Account, change: BudgetChange): Promise<boolean> {
    const w: Write = { change, heldBefore: a.held };
    a.held = Math.min(a.held, round((change.to?.amount ?? 0) + change.spent));
    let r: Reservation;
    try {
      r = await this.shared.change(a.tenantId, a.period, change);
    } catch (err) {
      if (err instanceof StoreUnavailableError && !(err instanceof BudgetCallNotSent)) a.unknown = w;
      else a.held = w.heldBefore;
      throw err;
    }
    return this.applied(a, w, r);
  }

  /** Brings the account up to date with a write's outcome. */
  private applied(a: Account, w: Write, r: Reservation, repeated = false): boolean {
    a.sharedSpent = r.committed;
    if (!r.admitted) {
      a.held = w.heldBefore;
      return false;
    }
    a.lease = w.change.to;
    // Without a `from`, only the lease's id tells a late first attempt that it is done.
    a.leaseFenced = repeated && w.change.from === undefined && w.change.to !== undefined;
    a.held = w.change.to?.amount ?? 0;
    a.spent = round(a.spent - w.change.spent);
    return true;
  }

  /**
   * Repeats the unknown write until its outcome is known. Refused now, it might still land from
   * its first attempt, so its new lease is fenced: then it never can.
   */
  private async resolve(a: Account): Promise<void> {
    const w = a.unknown;
    if (!w) return;
    let r = await this.shared.change(a.tenantId, a.period, w.change);
    const to = w.change.to;
    if (!r.admitted && to && (await this.shared.fence(a.tenantId, a.period, to.id)) !== undefined) {
      r = { admitted: true, committed: round(r.committed + w.change.spent) };
    }
    a.unknown = undefined;
    this.applied(a, w, r, true);
  }

  /** Writes settled costs and unused leases back to the shared ledger. */
  flush(): Promise<void> {
    this.flushing ??= this.flushAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushAll(): Promise<void> {
    await Promise.all(
      [...this.accounts].map(async ([key, a]) => {
        if (a.busy) return; // the next round takes it
        try {
          await this.exclusive(a, async () => {
            await this.resolve(a);
            const leased = a.lease?.amount ?? 0;
            // Nothing to write: no spend, and the lease no bigger than what requests here hold
            // (unless it is an empty one and nothing is held: it goes back).
            if (a.spent === 0 && leased <= a.reserved && !(a.lease && a.reserved === 0)) {
              if (a.reserved === 0 && !a.lease) this.accounts.delete(key);
              return;
            }
            // The lease shrinks to what requests here still hold; the spend goes with it. With no
            // lease to release, the write makes one (empty if nothing is held: given back at a
            // later round), so that it is named and a repeat cannot add the spend twice.
            const to = a.reserved > 0 || !a.lease ? { id: this.newId(), amount: a.reserved } : undefined;
            await this.write(a, { from: this.release(a), to, spent: a.spent });
          });
        } catch (err) {
          // The store is away (its guard says so once): kept, and repeated on the next round.
          if (!(err instanceof StoreUnavailableError)) {
            this.logger.error('budget write-back failed', { tenant: a.tenantId, error: err instanceof Error ? err.message : String(err) });
          }
        }
      }),
    );
  }

  /** Stops the timer after a last flush (shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
