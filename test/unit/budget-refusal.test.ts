// A budget refusal says what a client can do about it: a spent budget is spent; a request whose
// estimate is larger than what is left is told the estimate, what is left and that max_tokens is
// what the estimate assumes (it said "has used its monthly budget … (spent 0.000000 USD)").
import { MemoryBudgetLedger } from '../../functions/adapters/memory/budget-ledger';
import { BudgetGuard, budgetRefusal } from '../../functions/core/budget';
import type { GatewayError } from '../../functions/core/errors';
import { silentLogger } from '../../functions/core/logger';
import type { Tenant } from '../../functions/core/ports';
import { DEFAULT_TENANT } from '../../functions/core/tenants';

const tenant = (budget: number): Tenant => ({ ...DEFAULT_TENANT, id: 't', budget_usd: budget });

describe('budgetRefusal', () => {
  test('a spent budget', () => {
    expect(budgetRefusal(tenant(1), 1.25, 0.01)).toBe('Tenant "t" has used its monthly budget of 1 USD (spent 1.25 USD this month).');
  });

  test('an estimate above what is left: estimate, what is left, max_tokens', () => {
    expect(budgetRefusal(tenant(0.00001), 0, 0.0103)).toBe(
      'This request\'s cost estimate of 0.0103 USD exceeds the 0.00001 USD left of tenant "t"\'s monthly budget of 0.00001 USD (spent 0 USD this month): ' +
        'lower max_tokens (the estimate counts every output token it allows: 1024 when unset) or shorten the prompt.',
    );
  });

  test('an estimate that what is left covers, but not with the requests in progress', () => {
    const m = budgetRefusal(tenant(1), 0.5, 0.2);
    expect(m).toContain('once the requests in progress are counted (0.5 USD left before them');
    expect(m).toContain('retry when they finish');
  });

  test('the guard answers with it', async () => {
    const guard = new BudgetGuard(new MemoryBudgetLedger(), silentLogger, () => Date.UTC(2026, 11, 3));
    const t = tenant(1);
    await guard.reserve(t, 0.7);
    const refused = await guard.reserve(t, 0.5).then(
      () => undefined,
      (err: unknown) => err as GatewayError,
    );
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
    expect(refused?.message).toContain('requests in progress');
  });
});
