// Leased budgets: requests are admitted against a lease without a store round trip; the shared
// ledger never holds more than the budget, whatever number of instances lease from it; a write
// whose outcome is unknown is repeated as the very same change, never applied twice.
import type { BudgetChange, BudgetLedger } from '../../functions/core/ports';
import { LeasedBudgetLedger } from '../../functions/core/budget-lease';
import { silentLogger } from '../../functions/core/logger';
import { GuardedBudgetLedger } from '../../functions/core/resilience/guarded-budget-ledger';
import { StoreGuard } from '../../functions/core/store-guard';
import { FakeBudgetStore } from '../helpers/fake-budget-store';

const P = '2030-01';
let ids = 0;
const hold = (amount: number): { id: string; amount: number } => ({ id: `req-${++ids}`, amount });
const reserve = (l: BudgetLedger, amount: number, limit: number, force = false) => l.change('t', P, { to: hold(amount), spent: 0, limit, force });
const settle = (l: BudgetLedger, amount: number, actual: number): void => void l.change('t', P, { from: { id: 'any', amount }, spent: actual });

/** The shared ledger as a gateway sees it: a store under its guard (never marked down here). */
function shared(store: FakeBudgetStore): BudgetLedger {
  return new GuardedBudgetLedger(store, new StoreGuard({ store: 'fake', now: () => 0, logger: silentLogger, failureThreshold: 1_000 }));
}

const leased: LeasedBudgetLedger[] = [];
function make(store: FakeBudgetStore): LeasedBudgetLedger {
  const l = new LeasedBudgetLedger(shared(store), silentLogger, { flushMs: 60_000 });
  leased.push(l);
  return l;
}
afterAll(async () => {
  for (const l of leased) await l.close();
});

const changes = (store: FakeBudgetStore): BudgetChange[] => store.calls.flatMap((c) => (c.change ? [c.change] : []));

it('admits many requests on one lease, with one shared reservation', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  for (let i = 0; i < 100; i++) {
    expect((await reserve(ledger, 0.001, 100)).admitted).toBe(true); // lease: 1 % of 100 = 1 USD
    settle(ledger, 0.001, 0.0005);
  }
  expect(store.calls).toHaveLength(1);
  await ledger.flush();
  expect(store.calls).toHaveLength(2);
  // The shared ledger now holds exactly what was spent: the unused lease went back.
  expect(await store.spent('t', P)).toBeCloseTo(0.05, 10);
  expect(await store.room('t', P, 100 - 0.05, 100)).toBe(true);
  expect(await store.room('t', P, 100 - 0.05 + 1e-7, 100)).toBe(false);
});

it('concurrent first requests wait for one lease instead of each asking', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  const results = await Promise.all(Array.from({ length: 20 }, () => reserve(ledger, 0.01, 100)));
  expect(results.every((r) => r.admitted)).toBe(true);
  expect(store.calls).toHaveLength(1);
});

it('4 instances × 50 concurrent requests against an almost spent budget admit exactly what fits', async () => {
  const store = new FakeBudgetStore();
  await store.inner.change('t', P, { spent: 0.9 });
  const instances = Array.from({ length: 4 }, () => make(store));
  const results = await Promise.all(instances.flatMap((l) => Array.from({ length: 50 }, () => reserve(l, 0.03, 1))));
  expect(results.filter((r) => r.admitted)).toHaveLength(3); // 0.9 + 3 × 0.03 = 0.99 ≤ 1
  const refused = results.find((r) => !r.admitted);
  expect(refused?.committed).toBeCloseTo(0.9, 10);
});

it('refuses at a spent budget and admits past it with overage', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  expect((await reserve(ledger, 0.5, 1)).admitted).toBe(true);
  settle(ledger, 0.5, 1.2);
  await ledger.flush();
  expect((await reserve(ledger, 0, 1)).admitted).toBe(false);
  expect((await reserve(ledger, 0.5, 1, true)).admitted).toBe(true);
});

it('holds one named lease per account: each write replaces the previous lease', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  await reserve(ledger, 0.2, 100);
  await reserve(ledger, 0.9, 100); // past the first lease: it grows
  settle(ledger, 0.2, 0.1);
  await ledger.flush();
  const [first, grow, flush] = changes(store);
  expect(first?.from).toBeUndefined();
  expect(grow?.from).toEqual(first?.to);
  expect(flush?.from).toEqual(grow?.to);
  expect(flush?.to?.amount).toBeCloseTo(0.9, 10); // what is still reserved here stays leased
  expect(flush?.spent).toBeCloseTo(0.1, 10);
});

it('a write-back that timed out but landed is repeated as the same change and counted once', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  await reserve(ledger, 0.2, 10);
  settle(ledger, 0.2, 0.3);
  store.mode = 'late';
  await ledger.flush(); // times out; the store has not applied it yet
  store.mode = 'up';
  await ledger.flush(); // repeated first, as the same change
  store.landLate(); // the first attempt finally lands
  await ledger.flush();
  const writes = changes(store).slice(1);
  expect(writes[0]).toEqual(writes[1]);
  expect(await store.spent('t', P)).toBeCloseTo(0.3, 10);
  // Spent 0.3 of 10, nothing held: 9.7 fits, a hair more does not.
  expect(await store.room('t', P, 9.7, 10)).toBe(true);
  expect(await store.room('t', P, 9.7001, 10)).toBe(false);
});

it('a failed write-back is kept and written on a later flush, nothing lost', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  await reserve(ledger, 0.2, 10);
  settle(ledger, 0.2, 0.3);
  store.mode = 'down';
  await ledger.flush();
  await ledger.flush();
  store.mode = 'up';
  await ledger.flush();
  expect(await store.spent('t', P)).toBeCloseTo(0.3, 10);
  expect(await store.room('t', P, 9.7, 10)).toBe(true);
  expect(await store.room('t', P, 9.7001, 10)).toBe(false);
});

it('an unknown lease growth refused when repeated is fenced: it can never land afterwards', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  store.mode = 'late';
  await expect(reserve(ledger, 0.5, 1)).rejects.toThrow(); // the lease call timed out
  store.mode = 'up';
  await store.inner.change('t', P, { spent: 0.8 }); // another instance spends meanwhile
  const r = await reserve(ledger, 0.5, 1); // repeats the growth (refused now), fences it, asks anew
  expect(r.admitted).toBe(false);
  expect(store.calls.some((c) => c.fence !== undefined)).toBe(true);
  store.landLate(); // the first attempt arrives: fenced, it changes nothing
  expect(await store.spent('t', P)).toBeCloseTo(0.8, 10);
  expect(await store.room('t', P, 0.2, 1)).toBe(true);
});

it('an unknown lease growth that had landed is taken as the lease, not asked for twice', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  store.mode = 'late';
  await expect(reserve(ledger, 0.5, 100)).rejects.toThrow();
  store.landLate();
  store.mode = 'up';
  expect((await reserve(ledger, 0.5, 100)).admitted).toBe(true); // repeat finds it applied: lease of 1 USD
  expect((await reserve(ledger, 0.4, 100)).admitted).toBe(true); // on the same lease
  expect(changes(store)).toHaveLength(2); // the growth, and its one repeat
  await ledger.flush();
  expect(await store.room('t', P, 100 - 0.9, 100)).toBe(true);
  expect(await store.room('t', P, 100 - 0.9 + 1e-7, 100)).toBe(false);
});

it('spend with no lease to release is written under a lease of its own: timed out but landed, it is counted once', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  // Requests admitted without a lease (degraded) settle here: spend, nothing reserved, no lease.
  void ledger.change('t', P, { from: { id: 'degraded-1' }, spent: 0.3 });
  store.mode = 'late';
  await ledger.flush(); // times out; the store has not applied it yet
  store.landLate(); // it lands
  store.mode = 'up';
  await ledger.flush(); // repeated as the same change: it must find itself applied
  await ledger.flush(); // the (empty) lease goes back
  expect(await store.spent('t', P)).toBeCloseTo(0.3, 10);
  expect(changes(store).every((c) => c.from !== undefined || c.to !== undefined)).toBe(true); // each names a lease
  expect(await store.room('t', P, 9.7, 10)).toBe(true); // nothing left held
  expect(await store.room('t', P, 9.7001, 10)).toBe(false);
});

it('a lease made by a repeated write is released fenced: its first attempt landing after that makes nothing', async () => {
  const store = new FakeBudgetStore();
  const ledger = make(store);
  void ledger.change('t', P, { from: { id: 'degraded-1' }, spent: 0.3 }); // spend, and no lease
  store.mode = 'late';
  await expect(reserve(ledger, 0.5, 100)).rejects.toThrow(); // the lease (with the spend) timed out, still on its way
  store.mode = 'up';
  expect((await reserve(ledger, 0.5, 100)).admitted).toBe(true); // repeated first: applied now
  settle(ledger, 0.5, 0.2);
  await ledger.flush(); // the lease goes back
  store.landLate(); // the first attempt arrives at last
  expect(await store.spent('t', P)).toBeCloseTo(0.5, 10);
  expect(await store.room('t', P, 99.5, 100)).toBe(true); // and no lease left behind
  expect(await store.room('t', P, 99.5001, 100)).toBe(false);
});
