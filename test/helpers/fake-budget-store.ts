// A shared budget ledger for unit tests: the memory ledger's exact semantics behind the failures
// a store has. 'up' answers; 'down' fails every call without applying it (a refused connection);
// 'late' fails every call as a timeout does, but applies it later, when landLate() says so (the
// call was on the wire). Every call is recorded, so a test can tell what was sent and repeated.
import { MemoryBudgetLedger } from '../../functions/adapters/memory/budget-ledger';
import type { BudgetChange, BudgetLedger, Reservation } from '../../functions/core/ports';

export type FakeStoreMode = 'up' | 'down' | 'late';

export interface RecordedCall {
  tenantId: string;
  period: string;
  change?: BudgetChange;
  fence?: string;
}

export class FakeBudgetStore implements BudgetLedger {
  readonly inner = new MemoryBudgetLedger();
  readonly calls: RecordedCall[] = [];
  mode: FakeStoreMode = 'up';
  /** Modes for the next calls, one each, before `mode` applies again. */
  readonly next: FakeStoreMode[] = [];
  private readonly late: Array<() => void> = [];

  change(tenantId: string, period: string, change: BudgetChange): Promise<Reservation> {
    this.calls.push({ tenantId, period, change });
    return this.answer(() => this.inner.change(tenantId, period, change));
  }

  fence(tenantId: string, period: string, id: string): Promise<number | undefined> {
    this.calls.push({ tenantId, period, fence: id });
    return this.answer(() => this.inner.fence(tenantId, period, id));
  }

  /** Applies the calls that timed out, as the store finally receives them. */
  landLate(): void {
    for (const apply of this.late.splice(0)) apply();
  }

  /** Spent in the account, read directly (a no-op change). */
  async spent(tenantId: string, period: string): Promise<number> {
    return (await this.inner.change(tenantId, period, { spent: 0 })).committed;
  }

  /** Whether `amount` more can be reserved under `limit` (tried, then given back). */
  async room(tenantId: string, period: string, amount: number, limit: number): Promise<boolean> {
    const id = `probe-${Math.random()}`;
    const r = await this.inner.change(tenantId, period, { to: { id, amount }, spent: 0, limit });
    if (r.admitted) await this.inner.change(tenantId, period, { from: { id, amount }, spent: 0 });
    return r.admitted;
  }

  /** Applies a call (the memory ledger applies it when called), or fails it as the mode says. */
  private answer<T>(apply: () => Promise<T>): Promise<T> {
    const mode = this.next.shift() ?? this.mode;
    if (mode === 'down') return Promise.reject(new Error('connect ECONNREFUSED'));
    if (mode === 'late') {
      this.late.push(() => {
        void apply();
      });
      return Promise.reject(new Error('Command timed out'));
    }
    return apply();
  }
}
