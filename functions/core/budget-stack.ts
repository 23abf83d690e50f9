// The budget ledger a gateway uses, built over the shared one: calls under the store's guard,
// leases in long-running processes (not in a Lambda, whose environment may be frozen holding
// one), and degraded admission with settlements kept for later while the store fails. A memory
// ledger (no guard) is used as it is: it lives in process and cannot fail.
import type { BudgetLedger } from './ports';
import { LeasedBudgetLedger } from './budget-lease';
import type { StoreFailureMode } from '../config';
import type { Logger } from './logger';
import { ResilientBudgetLedger } from './resilience/budget-ledger';
import { GuardedBudgetLedger } from './resilience/guarded-budget-ledger';
import type { StoreGuard } from './store-guard';

export interface BudgetStackOptions {
  /** The guard of the shared ledger's store; absent for memory. */
  guard: StoreGuard | undefined;
  leases: boolean;
  failureMode: StoreFailureMode;
  logger: Logger;
}

export function budgetLedgerStack(shared: BudgetLedger, opts: BudgetStackOptions): BudgetLedger {
  if (!opts.guard) return shared;
  const guarded = new GuardedBudgetLedger(shared, opts.guard);
  const inner = opts.leases ? new LeasedBudgetLedger(guarded, opts.logger) : guarded;
  return new ResilientBudgetLedger(inner, { failureMode: opts.failureMode, logger: opts.logger, guard: opts.guard });
}
