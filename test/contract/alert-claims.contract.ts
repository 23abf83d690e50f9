// The AlertClaims contract, run against every backend: one claim per tenant, period and
// threshold, whoever asks and however many at once.
import type { AlertClaims } from '../../functions/core/ports';
import type { StoreUnderTest } from './tenant-repository.contract';

export interface ClaimsUnderTest extends StoreUnderTest<AlertClaims> {
  peers(n: number): Promise<AlertClaims[]>;
}

let seq = 0;
const uid = (): string => `alerts-${process.pid}-${Date.now().toString(36)}-${++seq}`;

export function alertClaimsContract(name: string, make: () => Promise<ClaimsUnderTest>): void {
  describe(`AlertClaims contract: ${name}`, () => {
    let claims: AlertClaims;
    let under: ClaimsUnderTest;
    let tenant: string;

    beforeEach(async () => {
      under = await make();
      claims = under.repo;
      tenant = uid();
    });
    afterEach(async () => {
      await under.cleanup();
    });

    it('grants a claim once; a released claim can be taken again', async () => {
      expect(await claims.claim(tenant, '2030-01', 50)).toBe(true);
      expect(await claims.claim(tenant, '2030-01', 50)).toBe(false);
      await claims.release(tenant, '2030-01', 50);
      expect(await claims.claim(tenant, '2030-01', 50)).toBe(true);
    });

    it('keeps thresholds, periods and tenants apart', async () => {
      expect(await claims.claim(tenant, '2030-01', 50)).toBe(true);
      expect(await claims.claim(tenant, '2030-01', 80)).toBe(true);
      expect(await claims.claim(tenant, '2030-02', 50)).toBe(true);
      expect(await claims.claim(uid(), '2030-01', 50)).toBe(true);
    });

    it("lists a tenant's claims, newest period and highest threshold first, without released ones", async () => {
      for (const [period, pct] of [
        ['2030-01', 50],
        ['2030-02', 50],
        ['2030-02', 100],
        ['2030-02', 80],
        ['2030-01', 80],
      ] as const) {
        expect(await claims.claim(tenant, period, pct)).toBe(true);
      }
      await claims.claim(uid(), '2030-02', 50);
      await claims.release(tenant, '2030-01', 80);
      const listed = await claims.list(tenant, 10);
      expect(listed.map((c) => [c.period, c.threshold_pct])).toEqual([
        ['2030-02', 100],
        ['2030-02', 80],
        ['2030-02', 50],
        ['2030-01', 50],
      ]);
      for (const c of listed) expect(Number.isNaN(Date.parse(c.claimed_at))).toBe(false);
      expect(await claims.list(tenant, 2)).toHaveLength(2);
      expect(await claims.list(uid(), 10)).toEqual([]);
    });

    it('of 4 instances claiming at once, exactly one wins', async () => {
      const peers = await under.peers(4);
      const results = await Promise.all(peers.flatMap((p) => [p.claim(tenant, '2030-01', 100), p.claim(tenant, '2030-01', 100)]));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
