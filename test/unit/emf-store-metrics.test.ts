// The store metrics as a Lambda publishes them: a real StoreGuard recording into the EMF adapter
// (real Powertools Metrics), printed per invocation. Errors are a Count summed per invocation, by
// store and operation; the degraded gauge is unitless, published when it changes and again each
// minute while the state lasts, so the stack's alarm and dashboard always have a data point.
import { createEmfMetrics, GAUGE_REPUBLISH_MS } from '../../functions/adapters/aws/emf-metrics';
import { silentLogger } from '../../functions/core/logger';
import { METRIC } from '../../functions/core/metrics';
import { StoreGuard } from '../../functions/core/store-guard';
import { captureOutput } from '../helpers/captured-output';

interface EmfDocument {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/** The EMF documents one flush (one invocation's end) prints. */
function flushed(flush: () => void): EmfDocument[] {
  const output = captureOutput();
  try {
    flush();
  } finally {
    output.restore();
  }
  return output.lines() as unknown as EmfDocument[];
}

const withMetric = (docs: EmfDocument[], name: string): EmfDocument[] => docs.filter((d) => d[name] !== undefined);
const unitOf = (doc: EmfDocument | undefined, name: string): string | undefined => doc?._aws.CloudWatchMetrics[0]?.Metrics.find((m) => m.Name === name)?.Unit;

function setup(): { clock: { t: number }; metrics: ReturnType<typeof createEmfMetrics>; guard: StoreGuard } {
  const clock = { t: 1_000_000 };
  const metrics = createEmfMetrics({ namespace: 'AiGateway', serviceName: 'ai-gateway', now: () => clock.t });
  const guard = new StoreGuard({ store: 'dynamodb', now: () => clock.t, logger: silentLogger, metrics, failureThreshold: 3 });
  return { clock, metrics, guard };
}

const failing = async (): Promise<never> => {
  throw new Error('connect ECONNREFUSED');
};

test('store errors go out as a Count per store and operation, summed per invocation; degraded as a unitless gauge', async () => {
  const { metrics, guard } = setup();
  for (let i = 0; i < 3; i++) await expect(guard.run('ratelimit.hit', failing)).rejects.toThrow('dynamodb is unavailable');
  const docs = flushed(() => metrics.flush());

  const errors = withMetric(docs, METRIC.storeErrors);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ [METRIC.storeErrors]: 3, store: 'dynamodb', operation: 'ratelimit.hit', service: 'ai-gateway' });
  expect(unitOf(errors[0], METRIC.storeErrors)).toBe('Count');
  expect(errors[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe('AiGateway');

  const degraded = withMetric(docs, METRIC.storeDegraded);
  expect(degraded).toHaveLength(1);
  expect(degraded[0]).toMatchObject({ [METRIC.storeDegraded]: 1, store: 'dynamodb' });
  expect(unitOf(degraded[0], METRIC.storeDegraded)).toBe('None');
});

test('each invocation prints its own errors; the degraded state is repeated once a minute while it lasts, and its end at once', async () => {
  const { clock, metrics, guard } = setup();
  for (let i = 0; i < 3; i++) await guard.run('cache.get', failing).catch(() => undefined);
  flushed(() => metrics.flush());

  // The next invocation, 100 ms later: the store is marked down (calls fail at once without
  // reaching it, no new errors counted), and the gauge did not change: nothing to print.
  clock.t += 100;
  await guard.run('cache.get', failing).catch(() => undefined);
  expect(flushed(() => metrics.flush())).toEqual([]);

  // A minute after it was last printed, the state is printed again without being set again.
  clock.t += GAUGE_REPUBLISH_MS;
  const again = flushed(() => metrics.flush());
  expect(withMetric(again, METRIC.storeErrors)).toEqual([]);
  expect(withMetric(again, METRIC.storeDegraded).map((d) => d[METRIC.storeDegraded])).toEqual([1]);

  // The probe succeeds: the store is up, and that is printed with that invocation.
  clock.t += 1_000;
  await guard.run('cache.get', async () => 'ok');
  const recovered = flushed(() => metrics.flush());
  expect(withMetric(recovered, METRIC.storeDegraded).map((d) => d[METRIC.storeDegraded])).toEqual([0]);
});
