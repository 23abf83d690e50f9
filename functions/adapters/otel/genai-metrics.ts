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

/**
 * Attribute sets before new ones share one overflow set (as the SDK's cardinality limit does);
 * token usage keeps an input and an output series for each.
 */
const MAX_ATTRIBUTE_SETS = 2000;
const OVERFLOW_ATTRIBUTES: Attributes = { 'otel.metric.overflow': true };

const DURATION_BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKEN_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** One histogram series: explicit-bucket counts and the running count, sum, min and max. */
class Series {
  readonly counts: number[];
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(
    readonly attributes: Attributes,
    readonly bounds: readonly number[],
  ) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  record(value: number): void {
    let bucket = 0;
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

/** Every series of one attribute set, each made by its first recording. */
interface AttributeSet {
  attributes: Attributes;
  duration?: Series;
  firstChunk?: Series;
  input?: Series;
  output?: Series;
}

type SeriesName = 'duration' | 'firstChunk' | 'input' | 'output';

interface Instrument {
  name: string;
  unit: string;
  description: string;
  valueType: ValueType;
  series: readonly SeriesName[];
}

const INSTRUMENTS: readonly Instrument[] = [
  {
    name: 'gen_ai.client.token.usage',
    unit: '{token}',
    description: 'Number of input and output tokens used.',
    valueType: ValueType.INT,
    series: ['input', 'output'],
  },
  { name: 'gen_ai.client.operation.duration', unit: 's', description: 'GenAI operation duration.', valueType: ValueType.DOUBLE, series: ['duration'] },
  {
    name: 'gen_ai.client.operation.time_to_first_chunk',
    unit: 's',
    description: 'Time to the first chunk of a streamed answer.',
    valueType: ValueType.DOUBLE,
    series: ['firstChunk'],
  },
];

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
  /** By a key naming the attribute set: one lookup per call serves every instrument. */
  private readonly sets = new Map<string, AttributeSet>();
  private overflow: AttributeSet | undefined;

  constructor(private readonly resource: Resource) {}

  record(call: ProviderCall): void {
    const set = this.attributeSet(call);
    (set.duration ??= new Series(set.attributes, DURATION_BOUNDS)).record(call.durationS);
    if (call.firstChunkS !== undefined) (set.firstChunk ??= new Series(set.attributes, DURATION_BOUNDS)).record(call.firstChunkS);
    if (call.inputTokens !== undefined) (set.input ??= new Series({ ...set.attributes, 'gen_ai.token.type': 'input' }, TOKEN_BOUNDS)).record(call.inputTokens);
    if (call.outputTokens !== undefined)
      (set.output ??= new Series({ ...set.attributes, 'gen_ai.token.type': 'output' }, TOKEN_BOUNDS)).record(call.outputTokens);
  }

  async collect(): Promise<CollectionResult> {
    const start = hrTime(this.startedMs);
    const end = hrTime(Date.now());
    const sets = this.overflow ? [...this.sets.values(), this.overflow] : [...this.sets.values()];
    const metrics: HistogramMetricData[] = [];
    for (const instrument of INSTRUMENTS) {
      const series = sets.flatMap((set) => instrument.series.flatMap((name) => set[name] ?? []));
      if (series.length > 0) metrics.push(histogramData(instrument, series, start, end));
    }
    const resourceMetrics: ResourceMetrics = { resource: this.resource, scopeMetrics: metrics.length ? [{ scope: { name: 'ai-gateway' }, metrics }] : [] };
    return { resourceMetrics, errors: [] };
  }

  private attributeSet(call: ProviderCall): AttributeSet {
    const key = `${call.operation}\u0000${call.provider}\u0000${call.requestModel}\u0000${call.responseModel}\u0000${call.serverAddress}\u0000${call.errorType}`;
    let set = this.sets.get(key);
    if (set) return set;
    if (this.sets.size >= MAX_ATTRIBUTE_SETS) {
      this.overflow ??= { attributes: OVERFLOW_ATTRIBUTES };
      return this.overflow;
    }
    set = { attributes: callAttributes(call) };
    this.sets.set(key, set);
    return set;
  }
}

/** The conventions' attributes of a provider call's metrics. */
function callAttributes(call: ProviderCall): Attributes {
  const out: Record<string, string> = { 'gen_ai.operation.name': call.operation };
  if (call.provider !== undefined) out['gen_ai.provider.name'] = call.provider;
  if (call.requestModel !== undefined) out['gen_ai.request.model'] = call.requestModel;
  if (call.responseModel !== undefined) out['gen_ai.response.model'] = call.responseModel;
  if (call.serverAddress !== undefined) out['server.address'] = call.serverAddress;
  if (call.errorType !== undefined) out['error.type'] = call.errorType;
  return out;
}

/** Cumulative data of `series` since `start`. */
function histogramData(instrument: Instrument, series: readonly Series[], start: HrTime, end: HrTime): HistogramMetricData {
  return {
    descriptor: { name: instrument.name, unit: instrument.unit, description: instrument.description, valueType: instrument.valueType },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: series.map((s) => ({
      attributes: s.attributes,
      startTime: start,
      endTime: end,
      value: { buckets: { boundaries: [...s.bounds], counts: [...s.counts] }, count: s.count, sum: s.sum, min: s.min, max: s.max },
    })),
  };
}
