// The UsageStore contract, run against every backend: totals per tenant, day and model,
// idempotent by request id, the month's cost for alerts, and `then` rerun on redelivery.
import { silentLogger } from '../../functions/core/logger';
import type { UsageApplied, UsageEvent, UsageStore } from '../../functions/core/ports';
import { UsageAggregator } from '../../functions/core/usage-aggregator';
import { eventually } from '../helpers/eventually';
import type { StoreUnderTest } from './tenant-repository.contract';

export interface UsageStoreUnderTest extends StoreUnderTest<UsageStore> {
  /** `n` stores on the same backend, each with its own client (memory: the same instance). */
  peers(n: number): Promise<UsageStore[]>;
}

let seq = 0;
/** Ids unique across runs, so shared backends never see an id twice by accident. */
const uid = (label: string): string => `${label}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

export const usageEvent = (over: Partial<UsageEvent> = {}): UsageEvent => ({
  request_id: uid('req'),
  tenant_id: 'acme',
  provider: 'openai',
  model: 'gpt-4o',
  prompt_tokens: 10,
  completion_tokens: 5,
  cached_tokens: 2,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  cost_usd: 0.1,
  latency_ms: 100,
  cache_hit: false,
  status: 200,
  stream: false,
  timestamp: '2030-01-15T12:00:00.000Z',
  budget_usd: 0,
  ...over,
});

const none = async (): Promise<void> => {};

/** Applies until the store takes it (a concurrent delivery may hold it for a moment). */
async function applySettled(store: UsageStore, e: UsageEvent): Promise<UsageApplied> {
  return (await eventually('the store takes the event', () => store.apply(e, none), 10_000, 20)).value;
}

export function usageStoreContract(name: string, make: () => Promise<UsageStoreUnderTest>): void {
  describe(`UsageStore contract: ${name}`, () => {
    let store: UsageStore;
    let under: UsageStoreUnderTest;
    let tenant: string;

    beforeEach(async () => {
      under = await make();
      store = under.repo;
      tenant = uid('tenant');
    });
    afterEach(async () => {
      await under.cleanup();
    });

    it('sums events per day and model, and per tenant over a range', async () => {
      await store.apply(usageEvent({ tenant_id: tenant, prompt_tokens: 10, completion_tokens: 5, cost_usd: 0.1 }), none);
      await store.apply(usageEvent({ tenant_id: tenant, prompt_tokens: 20, completion_tokens: 7, cost_usd: 0.2, cache_hit: true }), none);
      await store.apply(
        usageEvent({
          tenant_id: tenant,
          model: 'claude-haiku-4-5',
          provider: 'anthropic',
          prompt_tokens: 1,
          completion_tokens: 1,
          cost_usd: 0.05,
          timestamp: '2030-01-16T01:00:00.000Z',
        }),
        none,
      );
      const t = await store.totals(tenant, '2030-01-15T00:00:00.000Z', '2030-01-16T23:59:59.999Z');
      expect(t).toMatchObject({ request_count: 3, prompt_tokens: 31, completion_tokens: 13, cache_hits: 1 });
      expect(t.cost_usd).toBeCloseTo(0.35, 10);
      const byModel = await store.totalsByModel(tenant, '2030-01-01T00:00:00.000Z', '2030-01-31T00:00:00.000Z');
      expect(Object.keys(byModel).sort()).toEqual(['claude-haiku-4-5', 'gpt-4o']);
      expect(byModel['gpt-4o']).toMatchObject({ request_count: 2, prompt_tokens: 30, cache_hits: 1 });
      expect(byModel['claude-haiku-4-5']?.cost_usd).toBeCloseTo(0.05, 10);
    });

    it('answers per UTC day in one read, days without usage absent', async () => {
      await store.apply(usageEvent({ tenant_id: tenant, cost_usd: 0.1, timestamp: '2030-01-14T23:59:59.000Z' }), none);
      await store.apply(usageEvent({ tenant_id: tenant, cost_usd: 0.2, timestamp: '2030-01-15T00:00:00.000Z' }), none);
      await store.apply(usageEvent({ tenant_id: tenant, model: 'claude-haiku-4-5', cost_usd: 0.4, status: 500, timestamp: '2030-01-15T22:00:00.000Z' }), none);
      await store.apply(usageEvent({ tenant_id: tenant, cost_usd: 0.8, timestamp: '2030-01-17T08:00:00.000Z' }), none);
      const byDay = await store.totalsByDay?.(tenant, '2030-01-15T00:00:00.000Z', '2030-01-17T23:59:59.999Z');
      expect(Object.keys(byDay ?? {}).sort()).toEqual(['2030-01-15', '2030-01-17']);
      expect(byDay?.['2030-01-15']).toMatchObject({ request_count: 2, errors: 1 });
      expect(byDay?.['2030-01-15']?.cost_usd).toBeCloseTo(0.6, 10);
      expect(byDay?.['2030-01-17']?.cost_usd).toBeCloseTo(0.8, 10);
    });

    it('counts requests answered with an error status (400 and above) as errors', async () => {
      for (const status of [200, 400, 429, 502, 200]) await store.apply(usageEvent({ tenant_id: tenant, status }), none);
      const t = await store.totals(tenant, '2030-01-01', '2030-12-31');
      expect(t).toMatchObject({ request_count: 5, errors: 3 });
      expect((await store.totalsByModel(tenant, '2030-01-01', '2030-12-31'))['gpt-4o']?.errors).toBe(3);
    });

    it('counts a repeated request id once, and says so', async () => {
      const e = usageEvent({ tenant_id: tenant, cost_usd: 0.25 });
      expect(await store.apply(e, none)).toEqual({ counted: true, month_cost_usd: 0.25 });
      expect(await store.apply(e, none)).toEqual({ counted: false, month_cost_usd: 0.25 });
      expect(await store.apply({ ...e, prompt_tokens: 999 }, none)).toEqual({ counted: false, month_cost_usd: 0.25 });
      const t = await store.totals(tenant, '2030-01-01', '2030-12-31');
      expect(t).toMatchObject({ request_count: 1, prompt_tokens: 10 });
    });

    it('counts an event delivered several times at once exactly once', async () => {
      const e = usageEvent({ tenant_id: tenant, cost_usd: 0.5 });
      const results = await Promise.all(Array.from({ length: 6 }, () => applySettled(store, e)));
      expect(results.filter((r) => r.counted)).toHaveLength(1);
      expect((await store.totals(tenant, '2030-01-01', '2030-12-31')).request_count).toBe(1);
    });

    it('only counts the days inside the range, ends included', async () => {
      for (const [ts, cost] of [
        ['2030-01-14T23:59:59.000Z', 1],
        ['2030-01-15T00:00:00.000Z', 2],
        ['2030-01-16T10:00:00.000Z', 4],
        ['2030-01-17T00:00:01.000Z', 8],
      ] as const) {
        await store.apply(usageEvent({ tenant_id: tenant, timestamp: ts, cost_usd: cost }), none);
      }
      const t = await store.totals(tenant, '2030-01-15T00:00:00.000Z', '2030-01-16T23:59:59.999Z');
      expect(t.request_count).toBe(2);
      expect(t.cost_usd).toBeCloseTo(6, 10);
      expect((await store.totals(tenant, '2030-01-14', '2030-01-17')).request_count).toBe(4);
    });

    it('keeps tenants apart, and an unknown tenant has zero totals', async () => {
      const other = uid('tenant');
      await store.apply(usageEvent({ tenant_id: tenant, cost_usd: 0.5 }), none);
      await store.apply(usageEvent({ tenant_id: other, cost_usd: 0.25 }), none);
      expect((await store.totals(tenant, '2030-01-01', '2030-12-31')).cost_usd).toBeCloseTo(0.5, 10);
      expect(await store.totals(uid('nobody'), '2030-01-01', '2030-12-31')).toEqual({
        request_count: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0,
        cache_hits: 0,
        errors: 0,
      });
    });

    it("reports the month's cost after each event, per UTC month", async () => {
      expect((await store.apply(usageEvent({ tenant_id: tenant, cost_usd: 0.3, timestamp: '2030-01-31T23:00:00.000Z' }), none)).month_cost_usd).toBeCloseTo(
        0.3,
        10,
      );
      expect((await store.apply(usageEvent({ tenant_id: tenant, cost_usd: 0.2, timestamp: '2030-01-02T00:00:00.000Z' }), none)).month_cost_usd).toBeCloseTo(
        0.5,
        10,
      );
      expect((await store.apply(usageEvent({ tenant_id: tenant, cost_usd: 0.7, timestamp: '2030-02-01T00:00:00.000Z' }), none)).month_cost_usd).toBeCloseTo(
        0.7,
        10,
      );
    });

    it('runs `then` with the result; if it fails, a redelivery runs it again without counting twice', async () => {
      const e = usageEvent({ tenant_id: tenant, cost_usd: 0.4 });
      const seen: UsageApplied[] = [];
      await expect(
        store.apply(e, async (a) => {
          seen.push(a);
          throw new Error('alert topic unavailable');
        }),
      ).rejects.toThrow('alert topic unavailable');
      const again = await store.apply(e, async (a) => {
        seen.push(a);
      });
      expect(seen.map((a) => a.month_cost_usd)).toEqual([0.4, 0.4]);
      expect(seen[0]?.counted).toBe(true);
      expect(again.month_cost_usd).toBeCloseTo(0.4, 10);
      expect((await store.totals(tenant, '2030-01-01', '2030-12-31')).request_count).toBe(1);
      // Done now: a third delivery neither counts nor needs `then`'s work redone.
      expect((await store.apply(e, none)).counted).toBe(false);
      expect((await store.totals(tenant, '2030-01-01', '2030-12-31')).request_count).toBe(1);
    });

    it('keeps many small costs exact to 1e-10 USD', async () => {
      await Promise.all(Array.from({ length: 100 }, () => store.apply(usageEvent({ tenant_id: tenant, cost_usd: 0.0000123 }), none)));
      const t = await store.totals(tenant, '2030-01-15', '2030-01-15');
      expect(t.request_count).toBe(100);
      expect(t.cost_usd).toBeCloseTo(0.00123, 10);
    });

    it('4 instances applying the same 20 events, each twice, count each once', async () => {
      const peers = await under.peers(4);
      const events = Array.from({ length: 20 }, () => usageEvent({ tenant_id: tenant, cost_usd: 0.01 }));
      await Promise.all(peers.flatMap((p, i) => [...events, ...events].filter((_, j) => j % 4 === i).map((e) => applySettled(p, e))));
      await Promise.all(peers.flatMap((p) => events.map((e) => applySettled(p, e))));
      const t = await store.totals(tenant, '2030-01-01', '2030-12-31');
      expect(t.request_count).toBe(20);
      expect(t.cost_usd).toBeCloseTo(0.2, 10);
    });

    describe('in batches (applyMany where the store has it)', () => {
      const many = (events: UsageEvent[], then?: (e: UsageEvent, a: UsageApplied) => Promise<void>): Promise<Array<UsageApplied | Error>> => {
        if (!then) return new UsageAggregator(store, undefined, silentLogger).applyMany(events);
        if (store.applyMany) return store.applyMany(events, then);
        // Stores without a batch path apply one by one, `then` after each event.
        return Promise.all(events.map((e) => store.apply(e, (a) => then(e, a)).catch((err: unknown) => err as Error)));
      };
      /** Redelivers what failed until everything is in, as SQS would. */
      async function settleAll(events: UsageEvent[]): Promise<void> {
        let left = events;
        await eventually(
          'every event applied',
          async () => {
            const results = await many(left);
            left = left.filter((_, i) => results[i] instanceof Error);
            return left.length === 0;
          },
          10_000,
          20,
        );
      }

      it('counts a batch over tenants, days and models; a repeat inside the batch counts once', async () => {
        const other = uid('tenant');
        const events = [
          ...Array.from({ length: 45 }, () => usageEvent({ tenant_id: tenant, cost_usd: 0.01 })),
          ...Array.from({ length: 5 }, () =>
            usageEvent({ tenant_id: tenant, model: 'claude-haiku-4-5', cost_usd: 0.02, timestamp: '2030-01-16T00:00:00.000Z' }),
          ),
          ...Array.from({ length: 3 }, () => usageEvent({ tenant_id: other, cost_usd: 1 })),
        ];
        await settleAll([...events, events[0] as UsageEvent, events[46] as UsageEvent]);
        const t = await store.totals(tenant, '2030-01-01', '2030-01-31');
        expect(t.request_count).toBe(50);
        expect(t.cost_usd).toBeCloseTo(0.55, 10);
        const byModel = await store.totalsByModel(tenant, '2030-01-01', '2030-01-31');
        expect(byModel['claude-haiku-4-5']?.request_count).toBe(5);
        expect((await store.totals(other, '2030-01-01', '2030-01-31')).cost_usd).toBeCloseTo(3, 10);
      });

      it('a redelivered batch, or one holding events already applied alone, changes nothing twice', async () => {
        const events = Array.from({ length: 10 }, () => usageEvent({ tenant_id: tenant, cost_usd: 0.1 }));
        await store.apply(events[3] as UsageEvent, async () => {});
        const first = await many(events);
        expect(first.filter((r) => r instanceof Error)).toEqual([]);
        expect(first.filter((r) => !(r instanceof Error) && r.counted)).toHaveLength(9);
        const again = await many(events);
        expect(again.every((r) => !(r instanceof Error) && !r.counted)).toBe(true);
        const t = await store.totals(tenant, '2030-01-01', '2030-12-31');
        expect(t.request_count).toBe(10);
        expect(t.cost_usd).toBeCloseTo(1, 10);
      });

      it("runs `then` with the month's cost after the batch; a failing `then` fails its tenant's events only, and a redelivery finishes them", async () => {
        const other = uid('tenant');
        const mine = Array.from({ length: 4 }, () => usageEvent({ tenant_id: tenant, cost_usd: 0.25 }));
        const theirs = Array.from({ length: 2 }, () => usageEvent({ tenant_id: other, cost_usd: 0.5 }));
        const seen: Array<[string, number]> = [];
        const results = await many([...mine, ...theirs], async (e, a) => {
          seen.push([e.tenant_id, a.month_cost_usd]);
          if (e.tenant_id === tenant) throw new Error('alert topic unavailable');
        });
        expect(results.slice(0, 4).every((r) => r instanceof Error)).toBe(true);
        expect(results.slice(4).every((r) => !(r instanceof Error) && r.counted)).toBe(true);
        const highest = (t: string): number => Math.max(...seen.filter(([x]) => x === t).map(([, c]) => c));
        expect(highest(tenant)).toBeCloseTo(1, 10);
        expect(highest(other)).toBeCloseTo(1, 10);
        // Redelivered: `then` runs again for the failed ones, and nothing counts twice.
        const retried: Array<[string, number]> = [];
        let left = mine;
        await eventually(
          'every failed event redelivered',
          async () => {
            const r = await many(left, async (e, a) => void retried.push([e.tenant_id, a.month_cost_usd]));
            left = left.filter((_, i) => r[i] instanceof Error);
            return left.length === 0;
          },
          10_000,
          20,
        );
        expect(left).toEqual([]);
        expect(retried.length).toBeGreaterThan(0);
        expect(retried.every(([t, cost]) => t === tenant && Math.abs(cost - 1) < 1e-9)).toBe(true);
        expect((await store.totals(tenant, '2030-01-01', '2030-12-31')).request_count).toBe(4);
        expect((await store.totals(other, '2030-01-01', '2030-12-31')).request_count).toBe(2);
      });
    });
  });
}
