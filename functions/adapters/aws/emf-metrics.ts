// The core's Metrics port as CloudWatch Embedded Metric Format through Powertools Metrics. The
// core records as it goes; flush() (once per invocation, after the response is written) prints
// one EMF document per label set: labels become dimensions, counters are summed, histogram
// observations are kept as values (CloudWatch derives p50/p99 from them), gauges keep the last value.
// A gauge is a state (a store down, a breaker open), not an event: it is published when it is
// set and again at least once a minute while its process serves invocations, so a state that
// lasts has a data point in every minute (and an alarm or a graph on it does not go blank).
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { METRIC, type Counter, type Histogram, type Labels, type Metrics } from '../../core/metrics';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** CloudWatch units of the gateway's metrics; anything else is unitless. */
const UNITS: Record<string, Unit> = {
  [METRIC.requests]: MetricUnit.Count,
  [METRIC.duration]: MetricUnit.Seconds,
  [METRIC.tokens]: MetricUnit.Count,
  [METRIC.activeStreams]: MetricUnit.Count,
  [METRIC.fallbacks]: MetricUnit.Count,
  [METRIC.cacheHits]: MetricUnit.Count,
  [METRIC.cacheMisses]: MetricUnit.Count,
  [METRIC.rateLimited]: MetricUnit.Count,
  [METRIC.unpricedModels]: MetricUnit.Count,
  [METRIC.storeErrors]: MetricUnit.Count,
  // States as numbers: 0 closed / 1 open / 2 half-open; 0 up / 1 degraded.
  [METRIC.breakerState]: MetricUnit.NoUnit,
  [METRIC.storeDegraded]: MetricUnit.NoUnit,
};

/** A gauge not set since is published again after this long (one data point per alarm period). */
export const GAUGE_REPUBLISH_MS = 60_000;

/**
 * EMF allows 100 values per metric in one document, and Powertools publishes on its own (then
 * dropping the dimensions) when a metric reaches 100: stay one under.
 */
const MAX_VALUES = 99;

type Kind = 'counter' | 'histogram' | 'gauge';

/** One metric of one label set, accumulated until the next flush. */
class Series implements Counter, Histogram {
  sum = 0;
  values: number[] = [];
  touched = false;
  /** A gauge's value, kept across flushes. */
  current: number | undefined;
  lastPublishedMs = -Infinity;
  constructor(
    readonly name: string,
    readonly kind: Kind,
  ) {}

  add(value = 1): void {
    this.sum += value;
    this.touched = true;
  }

  observe(value: number): void {
    this.values.push(value);
    this.touched = true;
  }

  set(value: number): void {
    this.current = value;
    this.touched = true;
  }

  /** Whether the next flush publishes it: recorded since the last one, or a gauge due again. */
  due(nowMs: number): boolean {
    return this.touched || (this.current !== undefined && nowMs - this.lastPublishedMs >= GAUGE_REPUBLISH_MS);
  }

  /** The values to publish, and resets for the next invocation. */
  take(nowMs: number): number[] {
    this.lastPublishedMs = nowMs;
    const out = this.kind === 'counter' ? [this.sum] : this.kind === 'gauge' ? [this.current as number] : this.values;
    this.sum = 0;
    this.values = [];
    this.touched = false;
    return out;
  }
}

interface LabelSet {
  dimensions: Record<string, string>;
  series: Map<string, Series>;
}

export class EmfMetrics implements Metrics {
  /** Label sets persist across flushes, so series bound once (counter(), histogram()) stay valid. */
  private readonly sets = new Map<string, LabelSet>();

  constructor(
    private readonly emf: PowertoolsMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  count(name: string, labels: Labels, value = 1): void {
    this.series(name, labels, 'counter').add(value);
  }

  observe(name: string, labels: Labels, value: number): void {
    this.series(name, labels, 'histogram').observe(value);
  }

  gauge(name: string, labels: Labels, value: number): void {
    this.series(name, labels, 'gauge').set(value);
  }

  counter(name: string, labels: Labels): Counter {
    return this.series(name, labels, 'counter');
  }

  histogram(name: string, labels: Labels): Histogram {
    return this.series(name, labels, 'histogram');
  }

  /** Prints what was recorded since the last flush (nothing at all when nothing was). */
  flush(): void {
    const nowMs = this.now();
    for (const set of this.sets.values()) {
      const pending = [...set.series.values()].filter((s) => s.due(nowMs)).map((s) => ({ name: s.name, values: s.take(nowMs) }));
      // Histograms with many observations span several documents of at most MAX_VALUES each.
      for (let offset = 0; pending.some((p) => p.values.length > offset); offset += MAX_VALUES) {
        if (Object.keys(set.dimensions).length > 0) this.emf.addDimensions(set.dimensions);
        for (const p of pending) {
          for (const v of p.values.slice(offset, offset + MAX_VALUES)) this.emf.addMetric(p.name, UNITS[p.name] ?? MetricUnit.NoUnit, v);
        }
        if (this.emf.hasStoredMetrics()) this.emf.publishStoredMetrics();
      }
    }
  }

  private series(name: string, labels: Labels, kind: Kind): Series {
    const key = labelKey(labels);
    let set = this.sets.get(key);
    if (!set) this.sets.set(key, (set = { dimensions: dimensionsOf(labels), series: new Map() }));
    let s = set.series.get(name);
    if (!s) set.series.set(name, (s = new Series(name, kind)));
    return s;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
}

/** CloudWatch drops empty dimension values; an empty label (e.g. no model) becomes "none". */
function dimensionsOf(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[k] = v === '' ? 'none' : v;
  return out;
}

/** Powertools Metrics for the gateway: POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_SERVICE_NAME from the stack. */
export function createEmfMetrics(opts: { namespace?: string; serviceName?: string; now?: () => number } = {}): EmfMetrics {
  return new EmfMetrics(
    new PowertoolsMetrics({
      namespace: opts.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'AiGateway',
      ...(opts.serviceName !== undefined ? { serviceName: opts.serviceName } : {}),
    }),
    opts.now,
  );
}
