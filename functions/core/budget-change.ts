// The one atomic operation of a budget account, decided the same way by every backend (memory
// here; Redis in its Lua script, which mirrors this; DynamoDB when a conditional write failed and
// it must tell why). An account holds `outstanding` (spent plus every live reservation), `spent`,
// and one entry per named reservation. Naming reservations is what makes every call safe to
// repeat: a call whose reservation `from` is already gone, or whose `to` already exists, was
// applied before (a timed-out attempt that landed), so a retry changes nothing.
import type { BudgetChange } from './ports';
import { roundUsd } from './usage-totals';

/**
 * What a reservation id holds in an account: its amount, VOID_HOLD (fenced: the reserve call
 * carrying this id may never apply), or undefined (never made, or already settled).
 */
export type HoldValue = number | typeof VOID_HOLD | undefined;

/** Stored for a fenced id. Markers stay until the account expires: only timed-out calls leave one. */
export const VOID_HOLD = 'void';

export type ChangeDecision =
  /** Applied before (this is a retry of a call that landed): nothing to do. */
  | { kind: 'replay' }
  /** The budget check failed, or `to` was fenced. */
  | { kind: 'refused' }
  /**
   * Apply: release `from` (`release`: what it held) and remove it, or with `voidFrom` (an
   * unconfirmed `from`, live or never made) leave its id fenced, so that both a repeat of this
   * call and a reserve still on its way find it done; make `to`; add `delta` to outstanding.
   */
  | { kind: 'apply'; release: number; voidFrom: boolean; delta: number };

/**
 * The budget rule: nothing new starts once the account is at its limit (even an estimate of 0),
 * and nothing may take it past the limit. `base` is the outstanding amount once `from` is
 * released and `spent` added; `add` what the change reserves on top.
 */
export function withinBudget(base: number, add: number, change: Pick<BudgetChange, 'limit' | 'force'>): boolean {
  if (change.force || change.limit === undefined) return true;
  return base < change.limit && roundUsd(base + add) <= change.limit;
}

export function decideChange(hold: (id: string) => HoldValue, outstanding: number, change: BudgetChange): ChangeDecision {
  let release = 0;
  const { from, to } = change;
  const voidFrom = from !== undefined && from.amount === undefined;
  if (from) {
    const held = hold(from.id);
    if (from.amount === undefined) {
      // Unconfirmed: fenced already → this call landed before; live → settle it at its amount.
      if (held === VOID_HOLD) return { kind: 'replay' };
      if (held !== undefined) release = held;
    } else {
      if (held === undefined) return { kind: 'replay' };
      if (held !== roundUsd(from.amount)) throw new Error(`budget reservation ${from.id} holds ${String(held)}, not ${from.amount}`);
      release = held;
    }
  }
  const add = to ? roundUsd(to.amount) : 0;
  if (to) {
    const held = hold(to.id);
    if (held === VOID_HOLD) return { kind: 'refused' };
    if (held !== undefined) return { kind: 'replay' };
  }
  const spent = roundUsd(change.spent);
  if (!withinBudget(roundUsd(outstanding - release + spent), add, change)) return { kind: 'refused' };
  return { kind: 'apply', release, voidFrom, delta: roundUsd(spent + add - release) };
}
