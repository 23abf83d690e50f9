import type { Counter, Histogram as HistogramSeries, Labels, Metrics } from '../../core/metrics';

const HELP: Record<string, string> = {
  aigateway_requests_total: 'Chat requests by tenant, provider, model and status.',
  aigateway_request_duration_seconds: 'Request latency in seconds, by provider.',
  aigateway_tokens_total: 'Tokens by tenant, provider, model and type (input/output).',
  aigateway_cost_usd_total: 'Cost in USD by tenant, provider and model.',
  aigateway_active_streams: 'Streams being served right now.',
  aigateway_circuit_breaker_state: 'Circuit breaker state per provider (0 closed, 1 open, 2 half-open).',
  aigateway_fallbacks_total: 'Requests moved to the next target, by failed provider and reason.',
  aigateway_cache_hits_total: 'Responses served from the cache.',
  aigateway_cache_misses_total: 'Cacheable requests not found in the cache.',
  aigateway_rate_limit_rejections_total: 'Requests refused by a tenant rate limit.',
  aigateway_unpriced_requests_total: 'Requests whose model has no known price (recorded at cost 0).',
  aigateway_store_errors_total: 'Failed or timed-out calls to a shared store (redis, dynamodb), by store and operation.',
  aigateway_store_degraded: 'Whether a shared store is marked down and its steps degraded (1) or not (0).',
};

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

class Series implements Counter {
  value = 0;
  constructor(readonly labels: Labels) {}
  add(value = 1): void {
    this.value += value;
  }
}

class Histogram implements HistogramSeries {
  readonly counts = BUCKETS.map(() => 0);
  sum = 0;
  count = 0;
  constructor(readonly labels: Labels) {}
  observe(value: number): void {
    for (let i = 0; i < BUCKETS.length; i++) if (value <= (BUCKETS[i] as number)) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

const labelKey = (labels: Labels): string => {
  let key = '';
  for (const k in labels) key += `${k}\u0000${labels[k]}\u0001`;
  return key;
};

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

const formatLabels = (labels: Labels, extra?: [string, string]): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(`${extra[0]}="${extra[1]}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

/** In-process metrics, rendered in Prometheus' text exposition format for GET /metrics. */
export class MetricsRegistry implements Metrics {
  private readonly counters = new Map<string, Map<string, Series>>();
  private readonly gauges = new Map<string, Map<string, Series>>();
  private readonly histograms = new Map<string, Map<string, Histogram>>();

  count(name: string, labels: Labels, value = 1): void {
    series(this.counters, name, labels).add(value);
  }

  counter(name: string, labels: Labels): Counter {
    return series(this.counters, name, labels);
  }

  histogram(name: string, labels: Labels): HistogramSeries {
    let byLabels = this.histograms.get(name);
    if (!byLabels) this.histograms.set(name, (byLabels = new Map()));
    const key = labelKey(labels);
    let h = byLabels.get(key);
    if (!h) byLabels.set(key, (h = new Histogram(labels)));
    return h;
  }

  gauge(name: string, labels: Labels, value: number): void {
    series(this.gauges, name, labels).value = value;
  }

  observe(name: string, labels: Labels, value: number): void {
    this.histogram(name, labels).observe(value);
  }

  /** Current value of a counter or gauge series (0 when absent); for tests and health views. */
  value(name: string, labels: Labels): number {
    const key = labelKey(labels);
    return this.counters.get(name)?.get(key)?.value ?? this.gauges.get(name)?.get(key)?.value ?? 0;
  }

  render(): string {
    const out: string[] = [];
    const head = (name: string, type: string): void => {
      if (HELP[name]) out.push(`# HELP ${name} ${HELP[name]}`);
      out.push(`# TYPE ${name} ${type}`);
    };
    for (const [name, byLabels] of this.counters) {
      head(name, 'counter');
      for (const s of byLabels.values()) out.push(`${name}${formatLabels(s.labels)} ${s.value}`);
    }
    for (const [name, byLabels] of this.gauges) {
      head(name, 'gauge');
      for (const s of byLabels.values()) out.push(`${name}${formatLabels(s.labels)} ${s.value}`);
    }
    for (const [name, byLabels] of this.histograms) {
      head(name, 'histogram');
      for (const h of byLabels.values()) {
        BUCKETS.forEach((b, i) => out.push(`${name}_bucket${formatLabels(h.labels, ['le', String(b)])} ${h.counts[i]}`));
        out.push(`${name}_bucket${formatLabels(h.labels, ['le', '+Inf'])} ${h.count}`);
        out.push(`${name}_sum${formatLabels(h.labels)} ${h.sum}`);
        out.push(`${name}_count${formatLabels(h.labels)} ${h.count}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}

function series(map: Map<string, Map<string, Series>>, name: string, labels: Labels): Series {
  let byLabels = map.get(name);
  if (!byLabels) map.set(name, (byLabels = new Map()));
  const key = labelKey(labels);
  let s = byLabels.get(key);
  if (!s) byLabels.set(key, (s = new Series(labels)));
  return s;
}
