// Balanced routes planned by TargetPlanner: which deployment a request tries first, and the order
// the rest follow for fallback, with a fake clock and latencies fed back as the pipeline does.
import { parseRoutingJson } from '../../functions/config';
import { EXPLORE_EVERY, FORGET_AFTER_MS, WeightedBalancer } from '../../functions/core/balancer';
import type { Tenant } from '../../functions/core/ports';
import { PriceBook } from '../../functions/core/pricing/pricing';
import type { Attempt } from '../../functions/core/request-context';
import { TargetPlanner, type PlannedTarget } from '../../functions/core/routing';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { CIRCUIT_OPEN, COOLING_DOWN } from '../../functions/core/fallback';

const tenant: Tenant = { ...DEFAULT_TENANT };
const PROVIDERS = { a: { type: 'openai', base_url: 'http://127.0.0.1:1/v1' }, b: { type: 'openai', base_url: 'http://127.0.0.1:2/v1' } };

function planner(routes: Record<string, unknown>, clock = { now: 0 }, configured = ['openai', 'anthropic', 'a', 'b']): TargetPlanner {
  const routing = parseRoutingJson({ providers: PROVIDERS, routes }, 'test');
  return new TargetPlanner(routing, new PriceBook(), 'openai', configured, () => clock.now);
}
const names = (plan: readonly PlannedTarget[]): string[] => plan.map((t) => `${t.provider}/${t.model}`);
const first = (p: TargetPlanner, model: string, forcedProvider?: string): string => names(p.plan({ model, tenant, forcedProvider }))[0] ?? '';

function split(p: TargetPlanner, model: string, requests: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < requests; i++) {
    const name = first(p, model);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const GPT4O = [
  { provider: 'openai', model: 'gpt-4o', weight: 3 },
  { provider: 'a', model: 'gpt-4o', weight: 1 },
  { provider: 'b', model: 'gpt4o-prod' },
];

describe('weighted', () => {
  it('splits first tries as the weights say (weight 1 when absent), interleaved, with the rest by descending weight', () => {
    const p = planner({ 'gpt-4o': { targets: GPT4O } });
    expect(split(p, 'gpt-4o', 1000)).toEqual({
      'openai/gpt-4o': expect.closeTo(600, -1),
      'a/gpt-4o': expect.closeTo(200, -1),
      'b/gpt4o-prod': expect.closeTo(200, -1),
    });
    // Smooth: within any five requests each deployment gets its share, never a run of five.
    const window = Array.from({ length: 5 }, () => first(p, 'gpt-4o'));
    expect(window.filter((n) => n === 'openai/gpt-4o')).toHaveLength(3);
    const plans = new Map(Array.from({ length: 5 }, () => p.plan({ model: 'gpt-4o', tenant })).map((plan) => [plan[0]?.provider, names(plan)]));
    expect(plans.get('a')).toEqual(['a/gpt-4o', 'openai/gpt-4o', 'b/gpt4o-prod']);
    expect(plans.get('b')).toEqual(['b/gpt4o-prod', 'openai/gpt-4o', 'a/gpt-4o']);
    expect(plans.get('openai')).toEqual(['openai/gpt-4o', 'a/gpt-4o', 'b/gpt4o-prod']);
  });

  it('hands out the same memoised plan for the same first pick', () => {
    const p = planner({
      fast: {
        strategy: 'weighted',
        targets: [
          { provider: 'a', model: 'm' },
          { provider: 'b', model: 'm' },
        ],
      },
    });
    const seen = new Set(Array.from({ length: 50 }, () => p.plan({ model: 'fast', tenant })));
    expect(seen.size).toBe(2);
  });

  it('starts each instance at a random point of its cycle, so the heaviest is not always first', () => {
    const deployments: PlannedTarget[] = GPT4O.map((t) => ({ ...t, via: 'route' }));
    const firstPicks = [0, 0.2, 0.4, 0.6, 0.8].map((r) => new WeightedBalancer(deployments, [], () => r).next()[0]?.provider);
    expect(firstPicks.sort()).toEqual(['a', 'b', 'openai', 'openai', 'openai']);
  });

  it('balances only among deployments this pipeline can call; the others stay last', () => {
    const p = planner(
      {
        fast: {
          targets: [
            { provider: 'a', model: 'm', weight: 1 },
            { provider: 'anthropic', model: 'c' },
            { provider: 'b', model: 'm' },
          ],
        },
      },
      undefined,
      ['openai', 'a', 'b'],
    );
    const counts = split(p, 'fast', 100);
    expect(counts).toEqual({ 'a/m': 50, 'b/m': 50 });
    expect(names(p.plan({ model: 'fast', tenant })).at(-1)).toBe('anthropic/c');
  });
});

describe('ordered, and requests that name their deployment', () => {
  it('keeps a route without strategy or weights a fallback chain in the order given, as before', () => {
    const targets = [
      { provider: 'a', model: 'm' },
      { provider: 'openai', model: 'gpt-4o' },
    ];
    for (const route of [{ targets }, { strategy: 'ordered', targets: targets.map((t) => ({ ...t, weight: 5 })) }]) {
      const p = planner({ smart: route });
      expect(new Set(Array.from({ length: 20 }, () => names(p.plan({ model: 'smart', tenant })).join(',')))).toEqual(new Set(['a/m,openai/gpt-4o']));
    }
  });

  it('does not balance X-Provider: the route at that provider, in order; a route with none there as written', () => {
    const p = planner({ 'gpt-4o': { targets: GPT4O } });
    expect(Array.from({ length: 10 }, () => first(p, 'gpt-4o', 'A'))).toEqual(Array(10).fill('a/gpt-4o'));
    expect(names(p.plan({ model: 'gpt-4o', tenant, forcedProvider: 'anthropic' }))).toEqual(['openai/gpt-4o', 'a/gpt-4o', 'b/gpt4o-prod']);
    // `provider/model` is not the route's key: one deployment.
    expect(names(p.plan({ model: 'b/gpt4o-prod', tenant }))).toEqual(['b/gpt4o-prod']);
  });
});

describe('least-latency', () => {
  const route = {
    strategy: 'least-latency',
    targets: [
      { provider: 'a', model: 'm' },
      { provider: 'b', model: 'm' },
    ],
  };
  const answered = (provider: string, ms: number): Attempt[] => [{ provider, model: 'm', status: 200, latency_ms: ms }];

  it('tries deployments without data early, then the fastest first with one pick in ten on another', () => {
    const clock = { now: 1_000 };
    const p = planner({ r: route }, clock);
    expect(first(p, 'r')).toBe('a/m'); // neither measured: the order given
    p.observe(answered('a', 300));
    expect(first(p, 'r')).toBe('b/m'); // b has no data yet
    p.observe(answered('b', 100));
    const picks = Array.from({ length: 3 * EXPLORE_EVERY }, () => first(p, 'r'));
    expect(picks.filter((n) => n === 'a/m')).toHaveLength(3);
    expect(names(p.plan({ model: 'r', tenant }))).toEqual(expect.arrayContaining(['a/m', 'b/m']));
  });

  it('moves away from a deployment that slows down or fails, and back once exploration sees it recover', () => {
    const clock = { now: 0 };
    const p = planner({ r: route }, clock);
    p.observe(answered('a', 50));
    p.observe(answered('b', 80));
    expect(first(p, 'r')).toBe('a/m');
    p.observe(answered('a', 400)); // a slows down: its average passes b's at once
    expect(first(p, 'r')).toBe('b/m');

    const picksUntilBack = (): number => {
      for (let i = 1; i <= 10 * EXPLORE_EVERY; i++) {
        clock.now += 10;
        const plan = p.plan({ model: 'r', tenant });
        const chosen = plan[0]?.provider ?? '';
        p.observe(answered(chosen, chosen === 'a' ? 40 : 80)); // a has recovered
        if (i > EXPLORE_EVERY && chosen === 'a' && first(p, 'r') === 'a/m') return i;
      }
      return Number.POSITIVE_INFINITY;
    };
    expect(picksUntilBack()).toBeLessThanOrEqual(5 * EXPLORE_EVERY);

    // A failure counts as a penalty: traffic leaves a at once.
    p.observe([{ provider: 'a', model: 'm', status: 503, latency_ms: 5, error: 'upstream 503' }]);
    expect(first(p, 'r')).toBe('b/m');
    // The client's own error says nothing about the deployment; nor does a target skipped unasked.
    p.observe([{ provider: 'b', model: 'm', status: 400, latency_ms: 5000, error: 'bad request' }]);
    p.observe([{ provider: 'b', model: 'm', status: 503, latency_ms: 0, error: CIRCUIT_OPEN }]);
    p.observe([{ provider: 'b', model: 'm', status: 429, latency_ms: 0, error: `${COOLING_DOWN} for 12 s (retry-after)` }]);
    expect(first(p, 'r')).toBe('b/m');
  });

  it('forgets a deployment not heard from for a minute: it is tried again early', () => {
    const clock = { now: 0 };
    const p = planner({ r: route }, clock);
    p.observe(answered('a', 5000));
    p.observe(answered('b', 100));
    expect(first(p, 'r')).toBe('b/m');
    clock.now += FORGET_AFTER_MS / 2;
    p.observe(answered('b', 100));
    clock.now += FORGET_AFTER_MS / 2 + 1; // a's data is now over a minute old, b's is not
    expect(first(p, 'r')).toBe('a/m');
    p.observe(answered('a', 60)); // its first new answer replaces the old average
    expect(first(p, 'r')).toBe('a/m');
  });
});
