// Budgets: reserve before the call, settle with the real cost.
import { MemoryBudgetLedger } from '../../functions/adapters/memory/budget-ledger';
import { BudgetGuard, estimateCost, type BudgetHold } from '../../functions/core/budget';
import { GatewayError } from '../../functions/core/errors';
import { silentLogger } from '../../functions/core/logger';
import type { Tenant } from '../../functions/core/ports';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { DEFAULT_TENANT } from '../../functions/core/tenants';

const tenant = (over: Partial<Tenant> = {}): Tenant => ({ ...DEFAULT_TENANT, id: 't', budget_usd: 1, ...over });

/** reserve() answers synchronously with a memory ledger (and may throw); as a promise here. */
const reserve = async (guard: BudgetGuard, t: Tenant, estimate: number): Promise<BudgetHold> => {
  const hold = await Promise.resolve().then(() => guard.reserve(t, estimate));
  if (!hold) throw new Error('nothing reserved');
  return hold;
};

describe('BudgetGuard', () => {
  const now = Date.UTC(2026, 10, 26);
  const make = () => ({ guard: new BudgetGuard(new MemoryBudgetLedger(), silentLogger, () => now) });

  it('admits reservations up to the budget and refuses past it with 429 insufficient_quota', async () => {
    const { guard } = make();
    expect(await reserve(guard, tenant(), 0.6)).toMatchObject({ amount: 0.6, period: '2026-11' });
    const refused = await reserve(guard, tenant(), 0.6).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
  });

  it('50 concurrent requests against an almost spent budget overshoot by no more than the reservations allow', async () => {
    const { guard } = make();
    const t = tenant();
    guard.settle(t, await reserve(guard, t, 0.9), 0.9); // 0.9 of 1 USD spent
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => reserve(guard, t, 0.03)));
    const admitted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(admitted).toHaveLength(3); // 0.9 + 3 × 0.03 = 0.99 ≤ 1; a fourth would pass the budget
    for (const hold of admitted) guard.settle(t, hold, 0.03);
    await expect(reserve(guard, t, 0.03)).rejects.toMatchObject({ status: 429 });
  });

  it('gives reservations back when settled at a lower real cost', async () => {
    const { guard } = make();
    const t = tenant();
    const r = await reserve(guard, t, 0.8);
    guard.settle(t, r, 0.1);
    expect(await reserve(guard, t, 0.8)).toMatchObject({ amount: 0.8 }); // 0.1 spent + 0.8 reserved ≤ 1
  });

  it('lets a tenant with allow_overage go past its budget', async () => {
    const { guard } = make();
    const t = tenant({ allow_overage: true });
    guard.settle(t, await reserve(guard, t, 2), 2);
    expect(await reserve(guard, t, 1)).toMatchObject({ amount: 1 });
  });

  it('tenants without a budget are not limited', async () => {
    const { guard } = make();
    expect(guard.reserve(tenant({ budget_usd: 0 }), 100)).toBeUndefined();
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
    expect(estimateCost({ model: 'gpt-4o', messages: [] }, body, 'gpt-4o', prices)).toBeCloseTo((1000 * price.input_per_mtok + 1024 * price.output_per_mtok) / 1e6, 10);
    expect(estimateCost({ model: 'x', messages: [] }, body, 'unknown-model', prices)).toBe(0);
  });
});
