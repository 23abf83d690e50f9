// Monthly budget accounts in PostgreSQL: every change is one call of the budget_change function
// (migrations/001_initial.sql), which locks the account row and decides as core/budget-change.ts
// does, so concurrent replicas never reserve past the budget and a repeated call never applies
// twice: one round trip per reservation or settlement.
import { LedgerCallNotSent, type BudgetChange, type BudgetLedger, type Reservation } from '../../core/ports';
import { type PgDatabase, QueryNotSent } from './pool';
import { usdText } from './money';

const CHANGE = { name: 'budget_change', text: 'SELECT status, spent::text AS spent FROM budget_change($1, $2, $3, $4, $5, $6, $7, $8, $9)' };
const FENCE = { name: 'budget_fence', text: 'SELECT budget_fence($1, $2, $3)::text AS held' };

export class PgBudgetLedger implements BudgetLedger {
  constructor(private readonly db: PgDatabase) {}

  async change(tenantId: string, period: string, c: BudgetChange): Promise<Reservation> {
    const [row] = await this.send<{ status: number; spent: string }>(CHANGE, [
      tenantId,
      period,
      c.from?.id ?? null,
      c.from?.amount === undefined ? null : usdText(c.from.amount),
      c.to?.id ?? null,
      c.to ? usdText(c.to.amount) : null,
      usdText(c.spent),
      c.limit === undefined ? null : usdText(c.limit),
      c.force === true,
    ]);
    if (!row) throw new Error('budget_change returned no row');
    return { admitted: row.status !== 0, committed: Number(row.spent) };
  }

  async fence(tenantId: string, period: string, id: string): Promise<number | undefined> {
    const [row] = await this.send<{ held: string | null }>(FENCE, [tenantId, period, id]);
    return row?.held == null ? undefined : Number(row.held);
  }

  /** A call that got no connection never reached the server: its reservation needs no fence. */
  private async send<R extends Record<string, unknown>>(statement: { name: string; text: string }, values: unknown[]): Promise<R[]> {
    try {
      return await this.db.query<R>(statement, values);
    } catch (err) {
      if (err instanceof QueryNotSent) throw new LedgerCallNotSent(err.message);
      throw err;
    }
  }
}
