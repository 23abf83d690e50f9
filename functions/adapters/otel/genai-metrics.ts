// The GenAI client metrics (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
// `gen_ai.client.operation.time_to_first_chunk`) as explicit-bucket histograms kept here, one
// series per attribute set, and handed to the SDK's metric reader at each collection (a
// MetricProducer): a recording is a map lookup and a few additions, where the SDK's instruments
// hash the attribute set on every call. Bucket boundaries are the ones the conventions advise.
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type HistogramMetricData,
  type MetricProducer,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';

/** Series per instrument before new attribute sets share one overflow series (as the SDK's cardinality limit does). */
const MAX_SERIES = 2000;
const OVERFLOW_KEY = '\u0000overflow';
const OVERFLOW_ATTRIBUTES: Attributes = { 'otel.metric.overflow': true };

const DURATION_BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKEN_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

interface Series {
  attributes: Attributes;
  counts: number[];
  count: number;
  sum: number;
  min: number;
  max: number;
}

class ExplicitHistogram {
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly name: string,
    private readonly unit: string,
    private readonly description: string,
    private readonly valueType: ValueType,
    private readonly bounds: readonly number[],
  ) {}

  /** `key` names the attribute set; `attributes` builds it, called only for a set not seen before. */
  record(value: number, key: string, attributes: () => Attributes): void {
    let series = this.series.get(key);
    if (!series) {
      const overflow = this.series.size >= MAX_SERIES;
      series = overflow ? this.series.get(OVERFLOW_KEY) : undefined;
      if (!series) {
        series = {
          attributes: overflow ? OVERFLOW_ATTRIBUTES : attributes(),
          counts: new Array(this.bounds.length + 1).fill(0),
          count: 0,
          sum: 0,
          min: value,
          max: value,
        };
        this.series.set(overflow ? OVERFLOW_KEY : key, series);
      }
    }
    let bucket = 0;
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket++;
    series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.count++;
    series.sum += value;
    if (value < series.min) series.min = value;
    if (value > series.max) series.max = value;
  }

  /** Cumulative data since `start`, or nothing when nothing was recorded. */
  collect(start: HrTime, end: HrTime): HistogramMetricData | undefined {
    if (this.series.size === 0) return undefined;
    return {
      descriptor: { name: this.name, unit: this.unit, description: this.description, valueType: this.valueType },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [...this.series.values()].map((s) => ({
        attributes: s.attributes,
        startTime: start,
        endTime: end,
        value: { buckets: { boundaries: [...this.bounds], counts: [...s.counts] }, count: s.count, sum: s.sum, min: s.min, max: s.max },
      })),
    };
  }
}

/** What one provider call contributes: the conventions' attributes, and its measurements. */
export interface ProviderCall {
  operation: string;
  provider: string | undefined;
  requestModel: string | undefined;
  responseModel: string | undefined;
  serverAddress: string | undefined;
  errorType: string | undefined;
  durationS: number;
  firstChunkS: number | undefined;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
}

const hrTime = (ms: number): HrTime => [Math.trunc(ms / 1000), Math.round((ms % 1000) * 1e6)];

export class GenAiMetrics implements MetricProducer {
  private readonly startedMs = Date.now();
  private readonly tokens = new ExplicitHistogram(
    'gen_ai.client.token.usage',
    '{token}',
    'Number of input and output tokens used.',
    ValueType.INT,
    TOKEN_BOUNDS,
  );
  private readonly duration = new ExplicitHistogram('gen_ai.client.operation.duration', 's', 'GenAI operation duration.', ValueType.DOUBLE, DURATION_BOUNDS);
  private readonly firstChunk = new ExplicitHistogram(
    'gen_ai.client.operation.time_to_first_chunk',
    's',
    'Time to the first chunk of a streamed answer.',
    ValueType.DOUBLE,
    DURATION_BOUNDS,
  );

  constructor(private readonly resource: Resource) {}

  record(call: ProviderCall): void {
    const key = `${call.operation}\u0000${call.provider}\u0000${call.requestModel}\u0000${call.responseModel}\u0000${call.serverAddress}\u0000${call.errorType}`;
    const attributes = (): Record<string, string> => {
      const out: Record<string, string> = { 'gen_ai.operation.name': call.operation };
      if (call.provider !== undefined) out['gen_ai.provider.name'] = call.provider;
      if (call.requestModel !== undefined) out['gen_ai.request.model'] = call.requestModel;
      if (call.responseModel !== undefined) out['gen_ai.response.model'] = call.responseModel;
      if (call.serverAddress !== undefined) out['server.address'] = call.serverAddress;
      if (call.errorType !== undefined) out['error.type'] = call.errorType;
      return out;
    };
    this.duration.record(call.durationS, key, attributes);
    if (call.firstChunkS !== undefined) this.firstChunk.record(call.firstChunkS, key, attributes);
    if (call.inputTokens !== undefined) this.tokens.record(call.inputTokens, `${key}\u0000input`, () => ({ ...attributes(), 'gen_ai.token.type': 'input' }));
    if (call.outputTokens !== undefined)
      this.tokens.record(call.outputTokens, `${key}\u0000output`, () => ({ ...attributes(), 'gen_ai.token.type': 'output' }));
  }

  async collect(): Promise<CollectionResult> {
    const start = hrTime(this.startedMs);
    const end = hrTime(Date.now());
    const metrics: HistogramMetricData[] = [];
    for (const histogram of [this.tokens, this.duration, this.firstChunk]) {
      const data = histogram.collect(start, end);
      if (data) metrics.push(data);
    }
    const resourceMetrics: ResourceMetrics = { resource: this.resource, scopeMetrics: metrics.length ? [{ scope: { name: 'ai-gateway' }, metrics }] : [] };
    return { resourceMetrics, errors: [] };
  }
}
