// Leased budgets: requests are admitted against a lease without a store round trip; the shared
// ledger never holds more than the budget, whatever number of instances lease from it.
import { MemoryBudgetLedger } from '../../functions/adapters/memory/budget-ledger';
import type { BudgetLedger, Reservation } from '../../functions/core/budget';
import { LeasedBudgetLedger } from '../../functions/core/budget-lease';
import { silentLogger } from '../../functions/core/logger';

const P = '2030-01';

/** A shared ledger that answers a little later, as a store does, and counts its calls. */
function sharedLedger(): BudgetLedger & { reserves: number; settles: number; inner: MemoryBudgetLedger } {
  const inner = new MemoryBudgetLedger();
  const later = <T>(f: () => T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(f()), 1));
  const s = {
    inner, reserves: 0, settles: 0,
    reserve: (t: string, p: string, a: number, l: number, f: boolean): Promise<Reservation> => { s.reserves++; return later(() => inner.reserve(t, p, a, l, f)); },
    settle: (t: string, p: string, r: number, a: number): Promise<void> => { s.settles++; return later(() => inner.settle(t, p, r, a)); },
  };
  return s;
}

const leased: LeasedBudgetLedger[] = [];
function make(shared: BudgetLedger): LeasedBudgetLedger {
  const l = new LeasedBudgetLedger(shared, silentLogger, { flushMs: 60_000 });
  leased.push(l);
  return l;
}
afterAll(async () => { for (const l of leased) await l.close(); });

it('admits many requests on one lease, with one shared reservation', async () => {
  const shared = sharedLedger();
  const ledger = make(shared);
  for (let i = 0; i < 100; i++) {
    expect((await ledger.reserve('t', P, 0.001, 100, false)).admitted).toBe(true); // lease: 1 % of 100 = 1 USD
    ledger.settle('t', P, 0.001, 0.0005);
  }
  expect(shared.reserves).toBe(1);
  expect(shared.settles).toBe(0);
  await ledger.flush();
  expect(shared.settles).toBe(1);
  // The shared ledger now holds exactly what was spent: the unused lease went back.
  expect(shared.inner.reserve('t', P, 100 - 0.05, 100, false).admitted).toBe(true);
  expect(shared.inner.reserve('t', P, 0.0000001, 100, false).admitted).toBe(false);
});

it('concurrent first requests wait for one lease instead of each asking', async () => {
  const shared = sharedLedger();
  const ledger = make(shared);
  const results = await Promise.all(Array.from({ length: 20 }, () => ledger.reserve('t', P, 0.01, 100, false)));
  expect(results.every((r) => r.admitted)).toBe(true);
  expect(shared.reserves).toBe(1);
});

it('4 instances × 50 concurrent requests against an almost spent budget admit exactly what fits', async () => {
  const shared = sharedLedger();
  shared.inner.settle('t', P, 0, 0.9);
  const instances = Array.from({ length: 4 }, () => make(shared));
  const results = await Promise.all(instances.flatMap((l) => Array.from({ length: 50 }, () => l.reserve('t', P, 0.03, 1, false))));
  expect(results.filter((r) => r.admitted)).toHaveLength(3); // 0.9 + 3 × 0.03 = 0.99 ≤ 1
  const refused = results.find((r) => !r.admitted);
  expect(refused?.committed).toBeCloseTo(0.9, 10);
});

it('refuses at a spent budget and admits past it with overage', async () => {
  const shared = sharedLedger();
  const ledger = make(shared);
  expect((await ledger.reserve('t', P, 0.5, 1, false)).admitted).toBe(true);
  ledger.settle('t', P, 0.5, 1.2);
  await ledger.flush();
  expect((await ledger.reserve('t', P, 0, 1, false)).admitted).toBe(false);
  expect((await ledger.reserve('t', P, 0.5, 1, true)).admitted).toBe(true);
});

it('a failed write-back is retried on the next flush, nothing lost', async () => {
  const inner = new MemoryBudgetLedger();
  let failing = true;
  const shared: BudgetLedger = {
    reserve: async (...a) => inner.reserve(...a),
    settle: async (...a) => { if (failing) throw new Error('store away'); inner.settle(...a); },
  };
  const ledger = make(shared);
  await ledger.reserve('t', P, 0.2, 10, false);
  ledger.settle('t', P, 0.2, 0.3);
  await ledger.flush();
  failing = false;
  await ledger.flush();
  // Spent 0.3 of 10, nothing held: 9.7 fits, a hair more does not.
  expect(inner.reserve('t', P, 9.7, 10, false).admitted).toBe(true);
  expect(inner.reserve('t', P, 0.0001, 10, false).admitted).toBe(false);
});
