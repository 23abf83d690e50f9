// Budgets while the shared ledger fails (STORE_FAILURE_MODE open and closed), with and without
// leases: admission against what the instance last knew, settlements kept and written once the
// store is back, exact totals afterwards. The store is a fake with the memory ledger's semantics;
// the guard, the leases and the degraded layer are the real ones; time is a variable.
import { BudgetGuard, NO_BUDGET, type BudgetHandle } from '../../functions/core/budget';
import { budgetLedgerStack } from '../../functions/core/budget-stack';
import type { StoreFailureMode } from '../../functions/config';
import { GatewayError } from '../../functions/core/errors';
import { silentLogger } from '../../functions/core/logger';
import type { Tenant } from '../../functions/core/ports';
import { StoreGuard } from '../../functions/core/store-guard';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { FakeBudgetStore } from '../helpers/fake-budget-store';

const NOW = Date.UTC(2030, 0, 15);
const P = '2030-01';
const tenant = (over: Partial<Tenant> = {}): Tenant => ({ ...DEFAULT_TENANT, id: 't', budget_usd: 1, ...over });

interface Rig {
  store: FakeBudgetStore;
  guard: StoreGuard;
  budget: BudgetGuard;
  clock: { ms: number };
  /** Lets the guard send its next probe. */
  probeDue(): void;
}

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

function rig(failureMode: StoreFailureMode, leases = false): Rig {
  const store = new FakeBudgetStore();
  const clock = { ms: NOW };
  const now = (): number => clock.ms;
  const guard = new StoreGuard({ store: 'fake', now, logger: silentLogger, failureThreshold: 1, probeIntervalMs: 500 });
  const ledger = budgetLedgerStack(store, { guard, leases, failureMode, logger: silentLogger });
  const budget = new BudgetGuard(ledger, silentLogger, now);
  closers.push(() => budget.settled());
  return {
    store,
    guard,
    budget,
    clock,
    probeDue: () => {
      clock.ms += 500;
    },
  };
}

const reserve = (b: BudgetGuard, t: Tenant, estimate: number): Promise<BudgetHandle> => b.reserve(t, estimate);
const refusal = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('STORE_FAILURE_MODE=open, per-request reservations (Lambda)', () => {
  it('admits against the spend it last saw plus what it settled since, refusing once that reaches the budget', async () => {
    const { store, budget } = rig('open');
    const t = tenant();
    await store.inner.change('t', P, { spent: 0.5 }); // spent elsewhere
    (await reserve(budget, t, 0.1)).settle(0.1); // sees 0.5 spent, settles 0.1
    await budget.settled();
    store.mode = 'down';
    // Knows 0.6: 0.3 fits, then 0.1 more, and nothing past 1.
    const a = await reserve(budget, t, 0.3);
    a.settle(0.3);
    const b = await reserve(budget, t, 0.1);
    const refused = await refusal(reserve(budget, t, 0.05)); // 0.9 spent + 0.1 held + 0.05 > 1
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
    b.settle(0.1);
    expect(await refusal(reserve(budget, t, 0))).toMatchObject({ status: 429 }); // 1.0 reached
    await budget.settled();
    expect(await store.spent('t', P)).toBeCloseTo(0.6, 10); // nothing written while down
  });

  it('a tenant this instance never saw is admitted while the store is down', async () => {
    const { store, budget } = rig('open');
    store.mode = 'down';
    await expect(reserve(budget, tenant(), 0.5)).resolves.not.toBe(NO_BUDGET);
  });

  it('keeps what it could not write and writes it when the store is back: the total is exact', async () => {
    const { store, guard, budget, probeDue } = rig('open');
    const t = tenant({ budget_usd: 100 });
    const before = await reserve(budget, t, 1); // made in the store before it fails
    store.mode = 'down';
    const during = await Promise.all([reserve(budget, t, 1), reserve(budget, t, 1), reserve(budget, t, 1)]);
    before.settle(0.25);
    for (const h of during) h.settle(0.5);
    await budget.settled();
    expect(guard.status).toBe('down');
    store.mode = 'up';
    probeDue();
    await budget.settled(); // the next flush: the probe finds the store back and the backlog goes out
    expect(await store.spent('t', P)).toBeCloseTo(1.75, 10);
    expect(await store.room('t', P, 100 - 1.75, 100)).toBe(true); // no reservation left behind
    expect(await store.room('t', P, 100 - 1.75 + 1e-7, 100)).toBe(false);
  });

  it('a reservation that timed out but lands later is fenced by its settlement: never counted twice, never left held', async () => {
    const { store, budget, probeDue } = rig('open');
    const t = tenant({ budget_usd: 10 });
    store.mode = 'late';
    const h = await reserve(budget, t, 2); // timed out: admitted here, unconfirmed
    h.settle(0.4);
    await budget.settled();
    store.mode = 'up';
    probeDue();
    await budget.settled(); // the settlement resolves the reservation: never made, so fenced
    store.landLate(); // the reserve (and the first settlement attempt) arrive now
    await budget.settled();
    expect(await store.spent('t', P)).toBeCloseTo(0.4, 10);
    expect(await store.room('t', P, 9.6, 10)).toBe(true);
    expect(await store.room('t', P, 9.6 + 1e-7, 10)).toBe(false);
  });

  it('a settlement that timed out but landed is repeated as the same call and counted once', async () => {
    const { store, budget, probeDue } = rig('open');
    const t = tenant({ budget_usd: 10 });
    const h = await reserve(budget, t, 1);
    store.mode = 'late';
    h.settle(0.7);
    await budget.settled();
    store.landLate();
    store.mode = 'up';
    probeDue();
    await budget.settled();
    expect(await store.spent('t', P)).toBeCloseTo(0.7, 10);
    const held = store.calls.find((c) => c.change?.to)?.change?.to?.id;
    const settlements = store.calls.filter((c) => c.change?.from?.id === held);
    expect(settlements).toHaveLength(2);
    expect(settlements[0]).toEqual(settlements[1]);
  });

  it('flushing while the store is known down costs no store call at all', async () => {
    const { store, budget, guard } = rig('open');
    const t = tenant();
    store.mode = 'down';
    (await reserve(budget, t, 0.1)).settle(0.1); // the reserve fails: the store is marked down
    expect(guard.status).toBe('down');
    const calls = store.calls.length;
    await budget.settled();
    await budget.settled();
    expect(store.calls.length).toBe(calls);
  });

  it('spend admitted without the store rides on one write when it is back, not one per request', async () => {
    const { store, budget, probeDue } = rig('open');
    const t = tenant({ budget_usd: 100 });
    store.mode = 'down';
    await refusal(reserve(budget, t, 0)); // marks it down
    const holds = await Promise.all(Array.from({ length: 10 }, () => reserve(budget, t, 1)));
    for (const h of holds) h.settle(0.1);
    await budget.settled();
    store.mode = 'up';
    probeDue();
    const calls = store.calls.length;
    await budget.settled();
    expect(store.calls.length - calls).toBe(1);
    expect(await store.spent('t', P)).toBeCloseTo(1, 10);
  });
});

describe('STORE_FAILURE_MODE=closed', () => {
  it('refuses a budgeted tenant with 503 store_unavailable; tenants without a budget are not asked', async () => {
    const { store, budget } = rig('closed');
    store.mode = 'down';
    const err = await refusal(reserve(budget, tenant(), 0.1));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 503, code: 'store_unavailable' });
    const calls = store.calls.length;
    expect(await budget.reserve(tenant({ budget_usd: 0 }), 0.1)).toBe(NO_BUDGET);
    expect(store.calls).toHaveLength(calls);
  });

  it('still writes the settlements of requests admitted before, once the store is back', async () => {
    const { store, budget, probeDue } = rig('closed');
    const t = tenant({ budget_usd: 10 });
    const h = await reserve(budget, t, 1);
    store.mode = 'down';
    h.settle(0.6);
    await budget.settled();
    store.mode = 'up';
    probeDue();
    await budget.settled();
    expect(await store.spent('t', P)).toBeCloseTo(0.6, 10);
    expect(await store.room('t', P, 9.4, 10)).toBe(true);
    expect(await store.room('t', P, 9.4 + 1e-7, 10)).toBe(false);
  });

  it('a refused request whose reserve timed out is resolved: its late arrival holds nothing', async () => {
    const { store, budget, probeDue } = rig('closed');
    const t = tenant({ budget_usd: 10 });
    store.mode = 'late';
    expect(await refusal(reserve(budget, t, 3))).toMatchObject({ status: 503 });
    store.mode = 'up';
    probeDue();
    await budget.settled();
    store.landLate();
    expect(await store.room('t', P, 10, 10)).toBe(true);
  });
});

describe('with leases (a long-running process)', () => {
  it('admits on its lease while the store is down, then against what it knew; writes everything back after', async () => {
    const { store, budget, guard, probeDue } = rig('open', true);
    const t = tenant({ budget_usd: 100 }); // leases of 1 USD
    const first = await reserve(budget, t, 0.5);
    store.mode = 'down';
    const onLease = await reserve(budget, t, 0.4); // still on the lease: no store call
    const beyond = await reserve(budget, t, 2); // the lease cannot grow: admitted degraded
    for (const [h, cost] of [
      [first, 0.3],
      [onLease, 0.2],
      [beyond, 1.5],
    ] as const)
      h.settle(cost);
    await budget.settled();
    expect(guard.status).toBe('down');
    expect(await store.spent('t', P)).toBe(0);
    store.mode = 'up';
    probeDue();
    await budget.settled();
    expect(await store.spent('t', P)).toBeCloseTo(2, 10);
    expect(await store.room('t', P, 98, 100)).toBe(true); // the lease went back with the spend
    expect(await store.room('t', P, 98 + 1e-7, 100)).toBe(false);
  });

  it('the spend of requests admitted degraded is written once after the store answers late again', async () => {
    // As under load around an outage: the write giving the lease back times out (but lands),
    // every connection's request is admitted degraded meanwhile, and when the store answers again
    // the write-back of their spend times out once more (and lands).
    const { store, budget, guard, probeDue } = rig('open', true);
    const t = tenant({ budget_usd: 100 });
    const cost = 0.000405;
    (await reserve(budget, t, 0.01)).settle(cost);
    store.mode = 'late';
    await budget.settled(); // the lease goes back with the spend: timed out, on its way
    expect(guard.status).toBe('down');
    const holds = await Promise.all(Array.from({ length: 30 }, () => reserve(budget, t, 0.01)));
    for (const h of holds) h.settle(cost);
    store.landLate();
    store.next.push('up', 'late'); // the repeat answers; the next write times out
    probeDue();
    await budget.settled();
    store.landLate();
    store.mode = 'up';
    probeDue();
    await budget.settled();
    await budget.settled();
    expect(await store.spent('t', P)).toBeCloseTo(31 * cost, 10);
    expect(await store.room('t', P, 100 - 31 * cost, 100)).toBe(true); // no lease left behind
    expect(await store.room('t', P, 100 - 31 * cost + 1e-7, 100)).toBe(false);
  });

  it('closed mode refuses only what the lease cannot cover', async () => {
    const { store, budget } = rig('closed', true);
    const t = tenant({ budget_usd: 100 });
    await reserve(budget, t, 0.5);
    store.mode = 'down';
    await expect(reserve(budget, t, 0.4)).resolves.not.toBe(NO_BUDGET);
    expect(await refusal(reserve(budget, t, 2))).toMatchObject({ status: 503, code: 'store_unavailable' });
  });
});
