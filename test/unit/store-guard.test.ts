// The circuit around one shared store, on a fake clock: after `failureThreshold` consecutive
// failures the store is marked down and calls fail at once without reaching it, except one probe
// per `probeIntervalMs`, whose success marks it up again. One warning per change of state, an
// error counter per failed call and a degraded gauge, as GET /metrics renders them.
import { MetricsRegistry } from '../../functions/adapters/memory/metrics-registry';
import type { LogFields, Logger } from '../../functions/core/logger';
import { StoreGuard, StoreGuards, StoreUnavailableError, type StoreStatus } from '../../functions/core/store-guard';

interface Line {
  level: string;
  msg: string;
  fields?: LogFields;
}

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      lines.push({ level, msg, fields });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), enabled: () => true };
}

/** A store call that the test answers: counts how often the guard really called the store. */
class FakeStore {
  calls = 0;
  healthy = true;
  call = async (): Promise<string> => {
    this.calls += 1;
    if (!this.healthy) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    return 'value';
  };
}

/** One line of Prometheus text for a series, or undefined. */
const series = (metrics: MetricsRegistry, line: string): string | undefined =>
  metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith(`${line} `));

describe('StoreGuard', () => {
  let now: number;
  let lines: Line[];
  let metrics: MetricsRegistry;
  let store: FakeStore;
  let guard: StoreGuard;
  let changes: StoreStatus[];

  beforeEach(() => {
    now = 1_000_000;
    lines = [];
    metrics = new MetricsRegistry();
    store = new FakeStore();
    changes = [];
    guard = new StoreGuard({ store: 'redis', now: () => now, logger: recordingLogger(lines), metrics, failureThreshold: 3, probeIntervalMs: 500 });
    guard.onChange((s) => changes.push(s));
  });

  /** Runs one call and returns how it ended: the value, or the error. */
  const attempt = (op = 'cache.get'): Promise<string | Error> => guard.run(op, store.call).catch((e: unknown) => e as Error);
  const warnings = (): Line[] => lines.filter((l) => l.level === 'warn');

  test('starts ok with the degraded gauge at 0, and passes values through', async () => {
    expect(guard.status).toBe('ok');
    expect(series(metrics, 'aigateway_store_degraded{store="redis"}')).toBe('aigateway_store_degraded{store="redis"} 0');
    expect(metrics.render()).toContain('# HELP aigateway_store_degraded ');
    expect(await guard.run('cache.get', store.call)).toBe('value');
    expect(lines).toEqual([]);
  });

  test('a failure is a StoreUnavailableError naming the store and operation; the store stays ok below the threshold', async () => {
    store.healthy = false;
    const err = await attempt('rate_limit.consume');
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ store: 'redis', operation: 'rate_limit.consume' });
    expect((err as StoreUnavailableError).reason).toContain('ECONNREFUSED');
    await attempt();
    expect(guard.status).toBe('ok');
    expect(store.calls).toBe(2);
    expect(warnings()).toEqual([]);
  });

  test('only consecutive failures count: a success in between resets the count', async () => {
    store.healthy = false;
    await attempt();
    await attempt();
    store.healthy = true;
    await attempt();
    store.healthy = false;
    await attempt();
    await attempt();
    expect(guard.status).toBe('ok');
    await attempt();
    expect(guard.status).toBe('down');
  });

  test('the threshold marks it down: one warning, the gauge at 1, listeners told once', async () => {
    store.healthy = false;
    for (let i = 0; i < 3; i++) await attempt();
    expect(guard.status).toBe('down');
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ msg: 'store unavailable; degrading', fields: { store: 'redis' } });
    expect(String(warnings()[0]?.fields?.error)).toContain('ECONNREFUSED');
    expect(series(metrics, 'aigateway_store_degraded{store="redis"}')).toBe('aigateway_store_degraded{store="redis"} 1');
    expect(changes).toEqual(['down']);
  });

  test('while down, calls fail at once without reaching the store, uncounted as store errors, with no log line each', async () => {
    store.healthy = false;
    for (let i = 0; i < 3; i++) await attempt('cache.get');
    const calls = store.calls;
    const errorsBefore = metrics.value('aigateway_store_errors_total', { store: 'redis', operation: 'cache.get' });
    now += 499; // inside the probe interval
    const results = await Promise.all(Array.from({ length: 100 }, () => attempt('cache.get')));
    expect(results.every((r) => r instanceof StoreUnavailableError && r.reason.includes('marked down'))).toBe(true);
    expect(store.calls).toBe(calls);
    expect(metrics.value('aigateway_store_errors_total', { store: 'redis', operation: 'cache.get' })).toBe(errorsBefore);
    expect(warnings()).toHaveLength(1);
  });

  test('one probe per interval, even under concurrent calls; a failed probe keeps it down without a new warning', async () => {
    store.healthy = false;
    for (let i = 0; i < 3; i++) await attempt();
    expect(store.calls).toBe(3);
    now += 500;
    // 20 calls at the same moment: the first is the probe, the rest fail without calling.
    await Promise.all(Array.from({ length: 20 }, () => attempt()));
    expect(store.calls).toBe(4);
    expect(guard.status).toBe('down');
    now += 250;
    await attempt();
    expect(store.calls).toBe(4); // the interval counts from the last probe
    now += 250;
    await attempt();
    expect(store.calls).toBe(5);
    expect(warnings()).toHaveLength(1);
    expect(changes).toEqual(['down']);
  });

  test('while a probe is in flight, no second probe starts, however long it takes', async () => {
    store.healthy = false;
    for (let i = 0; i < 3; i++) await attempt();
    now += 500;
    let finishProbe!: () => void;
    let probeCalls = 0;
    const slowProbe = guard.run('cache.get', () => {
      probeCalls += 1;
      return new Promise<string>((resolve) => {
        finishProbe = () => resolve('back');
      });
    });
    now += 5_000; // well past another interval while the probe still waits
    const others = await Promise.all(
      Array.from({ length: 5 }, () =>
        guard
          .run('cache.get', async () => {
            probeCalls += 1;
            return 'x';
          })
          .catch((e: unknown) => e),
      ),
    );
    expect(others.every((e) => e instanceof StoreUnavailableError)).toBe(true);
    expect(probeCalls).toBe(1);
    finishProbe();
    expect(await slowProbe).toBe('back');
    expect(guard.status).toBe('ok');
  });

  test('a successful probe marks it up again: one warning, the gauge back at 0, calls reach the store again', async () => {
    store.healthy = false;
    for (let i = 0; i < 3; i++) await attempt();
    store.healthy = true;
    now += 500;
    expect(await attempt()).toBe('value');
    expect(guard.status).toBe('ok');
    expect(warnings().map((l) => l.msg)).toEqual(['store unavailable; degrading', 'store available again']);
    expect(series(metrics, 'aigateway_store_degraded{store="redis"}')).toBe('aigateway_store_degraded{store="redis"} 0');
    expect(changes).toEqual(['down', 'ok']);
    const calls = store.calls;
    for (let i = 0; i < 10; i++) expect(await attempt()).toBe('value');
    expect(store.calls).toBe(calls + 10);
    expect(warnings()).toHaveLength(2);
  });

  test('after recovery it takes the full threshold again to mark it down', async () => {
    store.healthy = false;
    for (let i = 0; i < 3; i++) await attempt();
    store.healthy = true;
    now += 500;
    await attempt();
    store.healthy = false;
    await attempt();
    await attempt();
    expect(guard.status).toBe('ok');
    await attempt();
    expect(guard.status).toBe('down');
    expect(warnings()).toHaveLength(3);
  });

  test('aigateway_store_errors_total counts every failed call by store and operation', async () => {
    store.healthy = false;
    await attempt('cache.get');
    await attempt('cache.get');
    await attempt('rate_limit.consume'); // the third: marks it down
    now += 500;
    await attempt('tenants.find'); // the probe: a real call that failed
    await attempt('tenants.find'); // failed fast: not a store error
    expect(series(metrics, 'aigateway_store_errors_total{store="redis",operation="cache.get"}')).toBe(
      'aigateway_store_errors_total{store="redis",operation="cache.get"} 2',
    );
    expect(series(metrics, 'aigateway_store_errors_total{store="redis",operation="rate_limit.consume"}')).toBe(
      'aigateway_store_errors_total{store="redis",operation="rate_limit.consume"} 1',
    );
    expect(series(metrics, 'aigateway_store_errors_total{store="redis",operation="tenants.find"}')).toBe(
      'aigateway_store_errors_total{store="redis",operation="tenants.find"} 1',
    );
    expect(metrics.render()).toContain('# TYPE aigateway_store_errors_total counter');
    expect(metrics.render()).toContain('# TYPE aigateway_store_degraded gauge');
  });

  test('a call that throws synchronously is a failure like any other, not an escape from the guard', async () => {
    const err = await guard
      .run('cache.get', () => {
        throw new TypeError('boom');
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(metrics.value('aigateway_store_errors_total', { store: 'redis', operation: 'cache.get' })).toBe(1);
  });

  test('the warning carries a short reason, never a whole payload', async () => {
    const huge = 'x'.repeat(10_000);
    for (let i = 0; i < 3; i++) await guard.run('cache.set', () => Promise.reject(new Error(huge))).catch(() => undefined);
    const reason = String(warnings()[0]?.fields?.error);
    expect(reason.length).toBeLessThan(300);
  });
});

describe('StoreGuard probes of its own (no request traffic)', () => {
  test('probeIfDue pings a store marked down once per interval, and a good ping marks it up; statuses() triggers it', async () => {
    let now = 0;
    let pings = 0;
    let healthy = false;
    const metrics = new MetricsRegistry();
    const guards = new StoreGuards({ now: () => now, logger: recordingLogger([]), metrics, failureThreshold: 1, probeIntervalMs: 500 });
    const guard = guards.for('redis');
    guard.setPing(async () => {
      pings += 1;
      if (!healthy) throw new Error('ECONNREFUSED');
      return 'PONG';
    });
    guard.probeIfDue();
    expect(pings).toBe(0); // ok: nothing to find out
    await guard.run('cache.get', () => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(guards.statuses()).toEqual({ redis: 'down' });
    expect(pings).toBe(0); // not yet due
    now += 500;
    guards.statuses();
    guards.statuses();
    await Promise.resolve();
    expect(pings).toBe(1); // one probe per interval, however often health is asked
    expect(metrics.value('aigateway_store_errors_total', { store: 'redis', operation: 'ping' })).toBe(1);
    healthy = true;
    now += 500;
    expect(guards.statuses()).toEqual({ redis: 'down' }); // the probe answers later...
    await new Promise((r) => setImmediate(r));
    expect(guards.statuses()).toEqual({ redis: 'ok' }); // ...and the next look sees it
    expect(pings).toBe(2);
  });

  test('without a ping, probeIfDue does nothing', async () => {
    const guard = new StoreGuard({ store: 'dynamodb', now: () => 1_000, logger: recordingLogger([]), failureThreshold: 1 });
    await guard.run('x', () => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(() => guard.probeIfDue()).not.toThrow();
    expect(guard.status).toBe('down');
  });
});

describe('StoreGuards', () => {
  test('one guard per store, each with its own state; statuses() names them all', async () => {
    let now = 0;
    const metrics = new MetricsRegistry();
    const guards = new StoreGuards({ now: () => now, logger: recordingLogger([]), metrics, failureThreshold: 1 });
    expect(guards.statuses()).toEqual({});
    const redis = guards.for('redis');
    expect(guards.for('redis')).toBe(redis);
    const dynamo = guards.for('dynamodb');
    await redis.run('cache.get', () => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(guards.statuses()).toEqual({ redis: 'down', dynamodb: 'ok' });
    expect(metrics.value('aigateway_store_degraded', { store: 'redis' })).toBe(1);
    expect(metrics.value('aigateway_store_degraded', { store: 'dynamodb' })).toBe(0);
    now += 500;
    await redis.run('cache.get', async () => 1);
    expect(dynamo.status).toBe('ok');
    expect(guards.statuses()).toEqual({ redis: 'ok', dynamodb: 'ok' });
  });
});
