// The budget ledger: each tenant's spend and reservations for a period, changed atomically.

/** A named reservation: `id` is unique across instances, `amount` in USD. */
export interface Hold {
  id: string;
  amount: number;
}

/**
 * One atomic change of a tenant's account for a period. Every call names the reservations it
 * touches, so a call that timed out on the client but applied on the server cannot apply twice:
 * repeated, it finds `from` gone (or `to` made) and changes nothing.
 */
export interface BudgetChange {
  /**
   * A reservation to remove. With `amount`: a confirmed reservation of that amount. Without:
   * unconfirmed (its reserve call failed in flight, or was never sent): if it was made, it is
   * removed at its stored amount; if not, its id is fenced (a void marker) so that a reserve call
   * still on its way can never make it.
   */
  from?: { id: string; amount?: number };
  /** A reservation to make (refused if its id was fenced). */
  to?: Hold;
  /** Real cost to add to the period's spend. */
  spent: number;
  /**
   * Refuse unless what the account then holds stays within this budget (and was below it
   * before `to`): set on reservations, never on settlements, which record money already spent.
   */
  limit?: number;
  /** Skip the budget check (tenants allowed to overspend). */
  force?: boolean;
}

export interface Reservation {
  /** False when the budget check refused the change (nothing applied). */
  admitted: boolean;
  /** Spent in the period as the ledger knows it. */
  committed: number;
}

/** Where each tenant's spend for a period is kept. */
export interface BudgetLedger {
  /** Applies `change` atomically, or refuses it whole (admitted: false). Safe to repeat. */
  change(tenantId: string, period: string, change: BudgetChange): Promise<Reservation>;
  /**
   * Resolves a reservation whose reserve call may still be on its way: if it was made, returns
   * its amount (it is live); if not, fences its id so that it never can be, and returns undefined.
   */
  fence(tenantId: string, period: string, id: string): Promise<number | undefined>;
  /** Writes back what the ledger holds in process, if anything (shutdown, end of a Lambda invocation). */
  flush?(): Promise<void>;
}

/**
 * Thrown by a ledger for a call that never left the process (there was no connection to send it
 * on): it cannot apply later, so the reservation it named needs no fence.
 */
export class LedgerCallNotSent extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'LedgerCallNotSent';
  }
}
