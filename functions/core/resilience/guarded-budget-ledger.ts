// A shared budget ledger's calls under its store's guard (bounded, failing fast while the store is
// known down), with one more fact for the layers above: whether a failed call was sent at all. A
// call the guard refused before sending can never apply; one that was sent and failed (a timeout)
// may still apply later, so the reservation it named stays unconfirmed until it is resolved
// (unless the ledger says it never left the process: LedgerCallNotSent).
import { LedgerCallNotSent, type BudgetChange, type BudgetLedger, type Reservation } from '../ports';
import { StoreUnavailableError, type StoreGuard } from '../store-guard';

/** A budget call that never reached the store: known not applied. */
export class BudgetCallNotSent extends StoreUnavailableError {
  constructor(cause: StoreUnavailableError) {
    super(cause.store, cause.operation, cause.reason);
    this.name = 'BudgetCallNotSent';
  }
}

/** The same failure, as seen by a caller whose own reservation id was not in the call. */
export function asNotSent(err: unknown): unknown {
  return err instanceof StoreUnavailableError && !(err instanceof BudgetCallNotSent) ? new BudgetCallNotSent(err) : err;
}

export class GuardedBudgetLedger implements BudgetLedger {
  constructor(
    private readonly shared: BudgetLedger,
    private readonly guard: StoreGuard,
  ) {}

  change(tenantId: string, period: string, change: BudgetChange): Promise<Reservation> {
    // A budget check makes it a reservation (a request waits on it); the rest settles.
    return this.run(change.limit !== undefined ? 'budget.reserve' : 'budget.settle', () => this.shared.change(tenantId, period, change));
  }

  fence(tenantId: string, period: string, id: string): Promise<number | undefined> {
    return this.run('budget.settle', () => this.shared.fence(tenantId, period, id));
  }

  private async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    let sent = false;
    try {
      return await this.guard.run(operation, async () => {
        sent = true;
        try {
          return await call();
        } catch (err) {
          if (err instanceof LedgerCallNotSent) sent = false;
          throw err;
        }
      });
    } catch (err) {
      throw sent ? err : asNotSent(err);
    }
  }
}
