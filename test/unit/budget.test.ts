// Budgets: reserve before the call, settle with the real cost (or release), once.
import { MemoryBudgetLedger } from '../../functions/adapters/memory/budget-ledger';
import { BudgetGuard, estimateCost, joinHolds, NO_BUDGET } from '../../functions/core/budget';
import { GatewayError } from '../../functions/core/errors';
import { silentLogger } from '../../functions/core/logger';
import type { Tenant } from '../../functions/core/ports';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { DEFAULT_TENANT } from '../../functions/core/tenants';

const tenant = (over: Partial<Tenant> = {}): Tenant => ({ ...DEFAULT_TENANT, id: 't', budget_usd: 1, ...over });

describe('BudgetGuard', () => {
  const now = Date.UTC(2026, 10, 26);
  const make = () => {
    const ledger = new MemoryBudgetLedger();
    return { ledger, guard: new BudgetGuard(ledger, silentLogger, () => now) };
  };
  const spent = async (ledger: MemoryBudgetLedger): Promise<number> => (await ledger.change('t', '2026-11', { spent: 0 })).committed;

  it('admits reservations up to the budget and refuses past it with 429 insufficient_quota', async () => {
    const { guard } = make();
    await expect(guard.reserve(tenant(), 0.6)).resolves.not.toBe(NO_BUDGET);
    const refused = await guard.reserve(tenant(), 0.6).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
  });

  it('50 concurrent requests against an almost spent budget overshoot by no more than the reservations allow', async () => {
    const { guard } = make();
    const t = tenant();
    (await guard.reserve(t, 0.9)).settle(0.9); // 0.9 of 1 USD spent
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => guard.reserve(t, 0.03)));
    const admitted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(admitted).toHaveLength(3); // 0.9 + 3 × 0.03 = 0.99 ≤ 1; a fourth would pass the budget
    for (const held of admitted) held.settle(0.03);
    await expect(guard.reserve(t, 0.03)).rejects.toMatchObject({ status: 429 });
  });

  it('gives reservations back when settled at a lower real cost', async () => {
    const { guard } = make();
    const t = tenant();
    (await guard.reserve(t, 0.8)).settle(0.1);
    await expect(guard.reserve(t, 0.8)).resolves.not.toBe(NO_BUDGET); // 0.1 spent + 0.8 reserved ≤ 1
  });

  it('two holds joined (a kept conversation reserved on top): settled once at the real cost, and the second given back', async () => {
    const { guard, ledger } = make();
    const t = tenant();
    const joined = joinHolds(await guard.reserve(t, 0.4), await guard.reserve(t, 0.4));
    await expect(guard.reserve(t, 0.4)).rejects.toMatchObject({ status: 429 }); // 0.8 held of 1 USD
    joined.settle(0.3);
    await guard.settled();
    expect(await spent(ledger)).toBeCloseTo(0.3, 10);
    await expect(guard.reserve(t, 0.7)).resolves.not.toBe(NO_BUDGET); // nothing is held any more
    const released = joinHolds(await guard.reserve(tenant({ id: 'u' }), 0.5), await guard.reserve(tenant({ id: 'u' }), 0.5));
    released.release();
    await expect(guard.reserve(tenant({ id: 'u' }), 1)).resolves.not.toBe(NO_BUDGET);
    expect(joinHolds(NO_BUDGET, NO_BUDGET)).toBe(NO_BUDGET);
  });

  it('a handle counts once: the first of settle and release wins, later calls change nothing', async () => {
    const { guard, ledger } = make();
    const t = tenant();
    const settled = await guard.reserve(t, 0.5);
    settled.settle(0.2);
    settled.settle(0.3);
    settled.release();
    const released = await guard.reserve(t, 0.5);
    released.release();
    released.settle(0.4);
    await guard.settled();
    expect(await spent(ledger)).toBeCloseTo(0.2, 10);
    await expect(guard.reserve(t, 0.8)).resolves.not.toBe(NO_BUDGET); // nothing held: 0.2 + 0.8 ≤ 1
  });

  it('lets a tenant with allow_overage go past its budget', async () => {
    const { guard } = make();
    const t = tenant({ allow_overage: true });
    (await guard.reserve(t, 2)).settle(2);
    await expect(guard.reserve(t, 1)).resolves.not.toBe(NO_BUDGET);
  });

  it('tenants without a budget are not limited, and nothing is written for them', async () => {
    const { guard, ledger } = make();
    const t = tenant({ budget_usd: 0 });
    const held = await guard.reserve(t, 100);
    expect(held).toBe(NO_BUDGET);
    held.settle(100);
    await guard.settled();
    expect(await spent(ledger)).toBe(0);
  });
});

describe('estimateCost', () => {
  it('prices the prompt by size and the output by max_tokens (or 1024)', () => {
    const prices = new PriceBook();
    const body = Buffer.alloc(4000);
    const withMax = estimateCost({ model: 'gpt-4o', messages: [], max_tokens: 100 }, body, 'gpt-4o', prices);
    const price = prices.lookup('gpt-4o');
    if (!price) throw new Error('gpt-4o not in the catalog');
    expect(withMax).toBeCloseTo((1000 * price.input_per_mtok + 100 * price.output_per_mtok) / 1e6, 10);
    expect(estimateCost({ model: 'gpt-4o', messages: [] }, body, 'gpt-4o', prices)).toBeCloseTo(
      (1000 * price.input_per_mtok + 1024 * price.output_per_mtok) / 1e6,
      10,
    );
    expect(estimateCost({ model: 'x', messages: [] }, body, 'unknown-model', prices)).toBe(0);
  });
});
