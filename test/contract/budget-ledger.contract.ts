// The BudgetLedger contract, run against every backend: reservations never pass the budget, even
// from several instances at once; settlement swaps a reservation for the real cost.
import type { BudgetLedger, Reservation } from '../../functions/core/budget';
import type { StoreUnderTest } from './tenant-repository.contract';

export interface LedgerUnderTest extends StoreUnderTest<BudgetLedger> {
  peers(n: number): Promise<BudgetLedger[]>;
}

let seq = 0;
const uid = (): string => `budget-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const P = '2030-01';

export function budgetLedgerContract(name: string, make: () => Promise<LedgerUnderTest>): void {
  describe(`BudgetLedger contract: ${name}`, () => {
    let ledger: BudgetLedger;
    let under: LedgerUnderTest;
    let tenant: string;

    beforeEach(async () => {
      under = await make();
      ledger = under.repo;
      tenant = uid();
    });
    afterEach(async () => {
      await under.cleanup();
    });

    it('admits reservations up to the budget and refuses past it, naming what was spent', async () => {
      expect(await ledger.reserve(tenant, P, 0.6, 1, false)).toEqual({ admitted: true, committed: 0 });
      expect((await ledger.reserve(tenant, P, 0.6, 1, false)).admitted).toBe(false);
      await ledger.settle(tenant, P, 0.6, 0.25);
      const r = await ledger.reserve(tenant, P, 0.7, 1, false);
      expect(r.admitted).toBe(true);
      expect(r.committed).toBeCloseTo(0.25, 10);
      const refused = await ledger.reserve(tenant, P, 0.1, 1, false);
      expect(refused.admitted).toBe(false);
      expect(refused.committed).toBeCloseTo(0.25, 10);
    });

    it('refuses everything, even an estimate of 0, once the budget is spent; allows overage when forced', async () => {
      await ledger.settle(tenant, P, 0, 1);
      expect((await ledger.reserve(tenant, P, 0, 1, false)).admitted).toBe(false);
      expect((await ledger.reserve(tenant, P, 0.5, 1, true)).admitted).toBe(true);
    });

    it('keeps periods and tenants apart', async () => {
      await ledger.settle(tenant, P, 0, 1);
      expect((await ledger.reserve(tenant, '2030-02', 0.5, 1, false)).admitted).toBe(true);
      expect((await ledger.reserve(uid(), P, 0.5, 1, false)).admitted).toBe(true);
    });

    it('4 instances × 50 concurrent reservations against an almost spent budget admit exactly what fits', async () => {
      await ledger.settle(tenant, P, 0, 0.9);
      const peers = await under.peers(4);
      const results: Reservation[] = await Promise.all(peers.flatMap((p) => Array.from({ length: 50 }, () => p.reserve(tenant, P, 0.03, 1, false))));
      expect(results.filter((r) => r.admitted)).toHaveLength(3); // 0.9 + 3 × 0.03 = 0.99 ≤ 1
      for (let i = 0; i < 3; i++) await ledger.settle(tenant, P, 0.03, 0.03);
      expect((await ledger.reserve(tenant, P, 0.03, 1, false)).admitted).toBe(false);
      const last = await ledger.reserve(tenant, P, 0.01, 1, false);
      expect(last.admitted).toBe(true);
      expect(last.committed).toBeCloseTo(0.99, 10);
    });
  });
}
