// The GenAI client histograms as the metric reader collects them: one series per attribute set,
// the conventions' bucket boundaries, cumulative counts, and a bounded number of series.
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { GenAiMetrics, type ProviderCall } from '../../functions/adapters/otel/genai-metrics';

const call = (over: Partial<ProviderCall> = {}): ProviderCall => ({
  operation: 'chat',
  provider: 'openai',
  requestModel: 'gpt-4o',
  responseModel: 'gpt-4o-2024-08-06',
  serverAddress: undefined,
  errorType: undefined,
  durationS: 0.3,
  firstChunkS: undefined,
  inputTokens: 12,
  outputTokens: 100,
  ...over,
});

async function collected(metrics: GenAiMetrics): Promise<Map<string, HistogramMetricData>> {
  const { resourceMetrics } = await metrics.collect();
  const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics) as HistogramMetricData[];
  return new Map(all.map((m) => [m.descriptor.name, m]));
}

test('token usage by type and duration, in the conventions’ buckets, cumulative per attribute set', async () => {
  const metrics = new GenAiMetrics(resourceFromAttributes({}));
  metrics.record(call());
  metrics.record(call({ durationS: 3, inputTokens: 20, outputTokens: 5 }));
  metrics.record(call({ errorType: 'upstream_timeout', inputTokens: undefined, outputTokens: undefined }));
  const byName = await collected(metrics);
  expect(byName.has('gen_ai.client.operation.time_to_first_chunk')).toBe(false); // nothing streamed

  const duration = byName.get('gen_ai.client.operation.duration');
  expect(duration?.descriptor.unit).toBe('s');
  expect(duration?.dataPoints).toHaveLength(2);
  const ok = duration?.dataPoints.find((p) => p.attributes['error.type'] === undefined);
  expect(ok?.attributes).toEqual({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
  });
  expect(ok?.value).toMatchObject({ count: 2, sum: 3.3, min: 0.3, max: 3 });
  expect(ok?.value.buckets.boundaries).toEqual([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]);
  expect(ok?.value.buckets.counts[5]).toBe(1); // 0.3 s: (0.16, 0.32]
  expect(ok?.value.buckets.counts[9]).toBe(1); // 3 s: (2.56, 5.12]

  const tokens = byName.get('gen_ai.client.token.usage');
  const input = tokens?.dataPoints.find((p) => p.attributes['gen_ai.token.type'] === 'input');
  expect(input?.value).toMatchObject({ count: 2, sum: 32 });
  expect(tokens?.dataPoints.map((p) => p.attributes['gen_ai.token.type']).sort()).toEqual(['input', 'output']);
});

test('past 2000 attribute sets, new ones share one overflow series', async () => {
  const metrics = new GenAiMetrics(resourceFromAttributes({}));
  for (let i = 0; i < 2005; i++) metrics.record(call({ requestModel: `model-${i}`, inputTokens: undefined, outputTokens: undefined }));
  const points = (await collected(metrics)).get('gen_ai.client.operation.duration')?.dataPoints ?? [];
  expect(points).toHaveLength(2001);
  expect(points.find((p) => p.attributes['otel.metric.overflow'] === true)?.value.count).toBe(5);
});

test('token usage past the limit: input and output each go to the overflow set, still told apart by type', async () => {
  const metrics = new GenAiMetrics(resourceFromAttributes({}));
  for (let i = 0; i < 2003; i++) metrics.record(call({ requestModel: `model-${i}`, inputTokens: 10, outputTokens: 1 }));
  const points = (await collected(metrics)).get('gen_ai.client.token.usage')?.dataPoints ?? [];
  const overflow = points.filter((p) => p.attributes['otel.metric.overflow'] === true);
  expect(overflow.map((p) => [p.attributes['gen_ai.token.type'], p.value.count, p.value.sum]).sort()).toEqual([
    ['input', 3, 30],
    ['output', 3, 3],
  ]);
  expect(points).toHaveLength(2 * 2000 + 2);
});
