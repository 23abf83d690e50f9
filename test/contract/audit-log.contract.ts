// The AuditLog contract, run against every backend.
import type { AuditEntry, AuditLog } from '../../functions/core/ports';
import type { StoreUnderTest } from './tenant-repository.contract';

const MINUTE = 60_000;
const DAY = 86_400_000;

export function auditLogContract(name: string, makeLog: () => Promise<StoreUnderTest<AuditLog>>): void {
  describe(`AuditLog contract: ${name}`, () => {
    let log: AuditLog;
    let cleanup: () => Promise<void>;
    // Recent times: a backend may only read back the current and previous months.
    const base = Date.now() - 60 * MINUTE;
    const entry = (i: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
      id: `e${String(i).padStart(4, '0')}`,
      at: new Date(base + i * MINUTE).toISOString(),
      actor: 'admin',
      action: 'tenant.update',
      ...extra,
    });

    beforeEach(async () => {
      ({ repo: log, cleanup } = await makeLog());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('lists nothing when empty', async () => {
      expect(await log.list({})).toEqual([]);
    });

    it('lists entries newest first, whatever the order they were appended in', async () => {
      const entries = [entry(2, { tenant_id: 't1', details: { fields: ['name'], enabled: false } }), entry(0), entry(3), entry(1)];
      for (const e of entries) await log.append(e);
      expect(await log.list({})).toEqual([entry(3), entry(2, { tenant_id: 't1', details: { fields: ['name'], enabled: false } }), entry(1), entry(0)]);
    });

    it('orders entries with the same time by id', async () => {
      await log.append(entry(1, { id: 'a' }));
      await log.append(entry(1, { id: 'b' }));
      expect((await log.list({})).map((e) => e.id)).toEqual(['b', 'a']);
    });

    it("filters one tenant's entries", async () => {
      for (let i = 0; i < 12; i++) await log.append(entry(i, { tenant_id: i % 3 === 0 ? 'alpha' : 'beta' }));
      expect((await log.list({ tenant_id: 'alpha' })).map((e) => e.id)).toEqual(['e0009', 'e0006', 'e0003', 'e0000']);
      expect((await log.list({ tenant_id: 'alpha', limit: 2 })).map((e) => e.id)).toEqual(['e0009', 'e0006']);
      expect(await log.list({ tenant_id: 'gamma' })).toEqual([]);
    });

    it('filters by actor, action and time (both ends included), all conditions together', async () => {
      for (let i = 0; i < 12; i++) {
        await log.append(entry(i, { actor: i % 2 === 0 ? 'ann' : 'bob', action: i % 3 === 0 ? 'tenant.create' : 'tenant.update', tenant_id: 'alpha' }));
      }
      const ids = async (q: Parameters<AuditLog['list']>[0]) => (await log.list(q)).map((e) => e.id);
      expect(await ids({ actor: 'ann' })).toEqual(['e0010', 'e0008', 'e0006', 'e0004', 'e0002', 'e0000']);
      expect(await ids({ action: 'tenant.create' })).toEqual(['e0009', 'e0006', 'e0003', 'e0000']);
      expect(await ids({ actor: 'ann', action: 'tenant.create', tenant_id: 'alpha' })).toEqual(['e0006', 'e0000']);
      expect(await ids({ from: entry(3).at, to: entry(5).at })).toEqual(['e0005', 'e0004', 'e0003']);
      expect(await ids({ from: entry(3).at, actor: 'bob', limit: 2 })).toEqual(['e0011', 'e0009']);
      expect(await ids({ to: entry(1).at })).toEqual(['e0001', 'e0000']);
      expect(await ids({ actor: 'nobody' })).toEqual([]);
    });

    it('reaches back to the month a `from` names', async () => {
      const old = new Date(base - 70 * DAY).toISOString();
      await log.append(entry(0, { at: old, id: 'old' }));
      await log.append(entry(1));
      expect((await log.list({ from: new Date(base - 80 * DAY).toISOString() })).map((e) => e.id)).toEqual(['e0001', 'old']);
      expect((await log.list({ from: new Date(base - 60 * DAY).toISOString() })).map((e) => e.id)).toEqual(['e0001']);
    });

    it('returns at most `limit` entries, 100 by default', async () => {
      await Promise.all(Array.from({ length: 105 }, (_, i) => log.append(entry(i))));
      expect((await log.list({ limit: 3 })).map((e) => e.id)).toEqual(['e0104', 'e0103', 'e0102']);
      const all = await log.list({});
      expect(all).toHaveLength(100);
      expect(all[0]?.id).toBe('e0104');
      expect(all[99]?.id).toBe('e0005');
    });

    it('reads back an entry from about a month ago', async () => {
      const old = { id: 'old', at: new Date(Date.now() - 25 * DAY).toISOString(), actor: 'admin', action: 'tenant.create', tenant_id: 'x' };
      await log.append(old);
      await log.append(entry(0, { tenant_id: 'x' }));
      expect((await log.list({ tenant_id: 'x' })).map((e) => e.id)).toEqual(['e0000', 'old']);
    });
  });
}
