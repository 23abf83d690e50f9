// The BudgetLedger contract, run against every backend: reservations never pass the budget, even
// from several instances at once; settlement swaps a named reservation for the real cost; every
// call is safe to repeat (a retry of a call that already landed changes nothing); a reservation
// whose call may still be on its way is resolved by a fence, after which it can never be made.
import type { BudgetChange, BudgetLedger, Hold, Reservation } from '../../functions/core/ports';
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

    const change = (c: BudgetChange, l: BudgetLedger = ledger): Promise<Reservation> => Promise.resolve().then(() => l.change(tenant, P, c));
    const hold = (amount: number): Hold => ({ id: uid(), amount });
    /** Reserves `amount` under a budget of `limit`; the hold when admitted. */
    const reserve = async (amount: number, limit = 1, l: BudgetLedger = ledger): Promise<Hold | undefined> => {
      const h = hold(amount);
      return (await change({ to: h, spent: 0, limit }, l)).admitted ? h : undefined;
    };
    const settle = (h: Hold, actual: number): Promise<Reservation> => change({ from: h, spent: actual });
    const spent = async (): Promise<number> => (await change({ spent: 0 })).committed;
    /** Exactly `room` can still be reserved under a budget of 1 (checked, then given back). */
    const expectRoom = async (room: number): Promise<void> => {
      expect(await reserve(room + 1e-6)).toBeUndefined();
      if (room === 0) return expect(await reserve(0)).toBeUndefined(); // at the budget: nothing starts
      const h = await reserve(room);
      expect(h).toBeDefined();
      if (h) await settle(h, 0);
    };

    beforeEach(async () => {
      under = await make();
      ledger = under.repo;
      tenant = uid();
    });
    afterEach(async () => {
      await under.cleanup();
    });

    it('admits reservations up to the budget and refuses past it, naming what was spent', async () => {
      const first = hold(0.6);
      expect(await change({ to: first, spent: 0, limit: 1 })).toEqual({ admitted: true, committed: 0 });
      expect(await reserve(0.6)).toBeUndefined();
      await settle(first, 0.25);
      const r = await change({ to: hold(0.7), spent: 0, limit: 1 });
      expect(r.admitted).toBe(true);
      expect(r.committed).toBeCloseTo(0.25, 10);
      const refused = await change({ to: hold(0.1), spent: 0, limit: 1 });
      expect(refused.admitted).toBe(false);
      expect(refused.committed).toBeCloseTo(0.25, 10);
    });

    it('refuses everything, even an estimate of 0, once the budget is spent; allows overage when forced', async () => {
      await change({ spent: 1 });
      expect(await reserve(0)).toBeUndefined();
      expect((await change({ to: hold(0.5), spent: 0, limit: 1, force: true })).admitted).toBe(true);
    });

    it('keeps periods and tenants apart', async () => {
      await change({ spent: 1 });
      expect((await ledger.change(tenant, '2030-02', { to: hold(0.5), spent: 0, limit: 1 })).admitted).toBe(true);
      expect((await ledger.change(uid(), P, { to: hold(0.5), spent: 0, limit: 1 })).admitted).toBe(true);
    });

    it('a repeated settlement applies once', async () => {
      const h = await reserve(0.5);
      if (!h) throw new Error('not admitted');
      expect((await settle(h, 0.2)).committed).toBeCloseTo(0.2, 10);
      const again = await settle(h, 0.2);
      expect(again.admitted).toBe(true);
      expect(again.committed).toBeCloseTo(0.2, 10);
      expect(await spent()).toBeCloseTo(0.2, 10);
      await expectRoom(0.8);
    });

    it('a repeated reservation holds its amount once', async () => {
      const h = hold(0.4);
      expect((await change({ to: h, spent: 0, limit: 1 })).admitted).toBe(true);
      expect((await change({ to: h, spent: 0, limit: 1 })).admitted).toBe(true);
      await expectRoom(0.6);
    });

    it('a lease write (old lease → new lease, with spend) applies once however often it is repeated', async () => {
      const lease = await reserve(0.5);
      if (!lease) throw new Error('not admitted');
      const flush: BudgetChange = { from: lease, to: hold(0.1), spent: 0.3 };
      await change(flush);
      await change(flush);
      expect(await spent()).toBeCloseTo(0.3, 10);
      await expectRoom(0.6); // 1 - 0.3 spent - 0.1 still leased
    });

    it('a lease that grows is checked against the budget with its spend, and a refused change applies nothing', async () => {
      await change({ spent: 0.5 });
      const lease = await reserve(0.2);
      if (!lease) throw new Error('not admitted');
      // 0.5 spent + 0.1 more spent + a 0.5 lease > 1: refused whole.
      expect((await change({ from: lease, to: hold(0.5), spent: 0.1, limit: 1 })).admitted).toBe(false);
      expect(await spent()).toBeCloseTo(0.5, 10);
      const grown = hold(0.4);
      expect((await change({ from: lease, to: grown, spent: 0.1, limit: 1 })).admitted).toBe(true);
      expect(await spent()).toBeCloseTo(0.6, 10);
      await expectRoom(0);
    });

    it('settles an unconfirmed reservation that was never made by fencing it: the late reserve can no longer apply', async () => {
      const late = hold(0.5);
      await change({ from: { id: late.id }, spent: 0.2 });
      expect((await change({ to: late, spent: 0, limit: 1 })).admitted).toBe(false); // the reserve lands late
      await change({ from: { id: late.id }, spent: 0.2 }); // and the settlement is repeated
      expect(await spent()).toBeCloseTo(0.2, 10);
      await expectRoom(0.8);
    });

    it('settles an unconfirmed reservation that was made at its stored amount', async () => {
      const made = await reserve(0.5);
      if (!made) throw new Error('not admitted');
      await change({ from: { id: made.id }, spent: 0.1 });
      await change({ from: { id: made.id }, spent: 0.1 });
      expect(await spent()).toBeCloseTo(0.1, 10);
      await expectRoom(0.9);
    });

    it('fence: a made reservation is live at its amount; one never made never can be', async () => {
      const made = await reserve(0.3);
      if (!made) throw new Error('not admitted');
      expect(await ledger.fence(tenant, P, made.id)).toBeCloseTo(0.3, 10);
      const lost = hold(0.2);
      expect(await ledger.fence(tenant, P, lost.id)).toBeUndefined();
      expect(await ledger.fence(tenant, P, lost.id)).toBeUndefined();
      expect((await change({ to: lost, spent: 0, limit: 1 })).admitted).toBe(false);
      await settle(made, 0.3);
      await expectRoom(0.7);
    });

    it('refuses to settle a reservation at another amount than it holds', async () => {
      const h = await reserve(0.3);
      if (!h) throw new Error('not admitted');
      await expect(change({ from: { id: h.id, amount: 0.4 }, spent: 0.1 })).rejects.toThrow();
    });

    it('4 instances × 50 concurrent reservations against an almost spent budget admit exactly what fits', async () => {
      await change({ spent: 0.9 });
      const peers = await under.peers(4);
      const holds = await Promise.all(peers.flatMap((p) => Array.from({ length: 50 }, () => reserve(0.03, 1, p))));
      const admitted = holds.filter((h): h is Hold => h !== undefined);
      expect(admitted).toHaveLength(3); // 0.9 + 3 × 0.03 = 0.99 ≤ 1
      for (const h of admitted) await settle(h, 0.03);
      expect(await reserve(0.03)).toBeUndefined();
      const last = await change({ to: hold(0.01), spent: 0, limit: 1 });
      expect(last.admitted).toBe(true);
      expect(last.committed).toBeCloseTo(0.99, 10);
    });

    it('4 instances reserving and settling at once, each settlement sent twice, spend exactly the budget', async () => {
      const peers = await under.peers(4);
      let admitted = 0;
      await Promise.all(
        peers.map(async (p) => {
          for (let i = 0; i < 15; i++) {
            const h = await reserve(0.05, 1, p);
            if (!h) continue;
            admitted++;
            await Promise.all([p.change(tenant, P, { from: h, spent: 0.05 }), p.change(tenant, P, { from: h, spent: 0.05 })]);
          }
        }),
      );
      expect(admitted).toBe(20); // 20 × 0.05 = 1: every admission fitted, none past it
      expect(await spent()).toBeCloseTo(1, 10);
      expect(await reserve(0)).toBeUndefined();
    });
  });
}
