// Settlements a shared budget ledger could not take yet, kept in process and written when it
// can (the next drain: after the store is found back, at the next flush). Each is retried as the
// very same call until it is known applied: named reservations make that safe even for a call
// that timed out but landed. Spend whose reservation never reached the store needs no name of its
// own: it rides on a settlement not sent yet, or else on one receipt per account and drain (an
// unconfirmed `from` with a fresh id, whose void marker makes the receipt's retry a no-op).
import type { BudgetChange, BudgetLedger } from '../ports';
import type { Logger } from '../logger';
import { StoreUnavailableError } from '../store-guard';
import { roundUsd } from '../usage-totals';
import { BudgetCallNotSent } from './guarded-budget-ledger';

interface Pending {
  tenantId: string;
  period: string;
  change: BudgetChange;
  /** Sent at least once: frozen (a retry must be the same call); unsent ones may take more spend. */
  sent: boolean;
}

export class SettlementBacklog {
  private readonly ops: Pending[] = [];
  /** Spend not yet in any call, per account. */
  private readonly loose = new Map<string, { tenantId: string; period: string; amount: number }>();
  private draining: Promise<void> | undefined;

  constructor(
    private readonly ledger: BudgetLedger,
    private readonly newId: () => string,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.ops.length + this.loose.size;
  }

  /** A settlement that failed: `sent` if it may have reached the store. */
  add(tenantId: string, period: string, change: BudgetChange, sent: boolean): void {
    this.ops.push({ tenantId, period, change, sent });
  }

  /** Spend with no reservation in the store to settle (it was admitted while the store was away). */
  addSpend(tenantId: string, period: string, amount: number): void {
    if (amount <= 0) return;
    const key = `${tenantId}\u0000${period}`;
    const l = this.loose.get(key);
    if (l) l.amount = roundUsd(l.amount + amount);
    else this.loose.set(key, { tenantId, period, amount });
  }

  /** Takes the account's loose spend, for a settlement about to be sent. */
  takeSpend(tenantId: string, period: string): number {
    if (this.loose.size === 0) return 0;
    const key = `${tenantId}\u0000${period}`;
    const amount = this.loose.get(key)?.amount ?? 0;
    this.loose.delete(key);
    return amount;
  }

  /**
   * Writes what it holds, one call at a time, and stops at the first failure (the store is away:
   * the rest waits for the next drain), so a drain waits at most one store timeout.
   */
  drain(): Promise<void> {
    this.draining ??= this.drainAll().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainAll(): Promise<void> {
    this.attachLoose();
    while (this.ops.length > 0) {
      const op = this.ops[0] as Pending;
      try {
        await this.ledger.change(op.tenantId, op.period, op.change);
      } catch (err) {
        if (err instanceof StoreUnavailableError) {
          if (!(err instanceof BudgetCallNotSent)) op.sent = true;
          return;
        }
        // Not the store's absence: this call can never succeed (a bug); keep the rest moving.
        this.logger.error('budget settlement dropped', { tenant: op.tenantId, error: err instanceof Error ? err.message : String(err) });
      }
      this.ops.shift();
    }
  }

  /** Loose spend joins a settlement of its account not sent yet, or becomes a receipt of its own. */
  private attachLoose(): void {
    for (const l of this.loose.values()) {
      const carrier = this.ops.find((o) => !o.sent && o.tenantId === l.tenantId && o.period === l.period);
      if (carrier) carrier.change = { ...carrier.change, spent: roundUsd(carrier.change.spent + l.amount) };
      else this.ops.push({ tenantId: l.tenantId, period: l.period, change: { from: { id: this.newId() }, spent: l.amount }, sent: false });
    }
    this.loose.clear();
  }
}
