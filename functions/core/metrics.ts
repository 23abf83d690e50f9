// The metrics port: the core records what happened; a runtime decides where it goes
// (Prometheus text on the local server, CloudWatch EMF in Lambda).

export type Labels = Record<string, string>;

/** One labelled counter series, bound once so the hot path only adds to it. */
export interface Counter {
  add(value?: number): void;
}

/** One labelled histogram series. */
export interface Histogram {
  observe(value: number): void;
}

export interface Metrics {
  /** Adds to a counter. */
  count(name: string, labels: Labels, value?: number): void;
  /** Records one observation of a histogram (seconds, bytes, ...). */
  observe(name: string, labels: Labels, value: number): void;
  /** Sets a gauge. */
  gauge(name: string, labels: Labels, value: number): void;
  /** The series of a counter, for callers that add to it often. */
  counter(name: string, labels: Labels): Counter;
  histogram(name: string, labels: Labels): Histogram;
}

const noSeries = { add() {}, observe() {} };
export const noMetrics: Metrics = { count() {}, observe() {}, gauge() {}, counter: () => noSeries, histogram: () => noSeries };

/** The metric names, shared by every runtime (the seed's names plus the gateway's own). */
export const METRIC = {
  requests: 'aigateway_requests_total',
  duration: 'aigateway_request_duration_seconds',
  tokens: 'aigateway_tokens_total',
  cost: 'aigateway_cost_usd_total',
  activeStreams: 'aigateway_active_streams',
  breakerState: 'aigateway_circuit_breaker_state',
  fallbacks: 'aigateway_fallbacks_total',
  cacheHits: 'aigateway_cache_hits_total',
  cacheMisses: 'aigateway_cache_misses_total',
  rateLimited: 'aigateway_rate_limit_rejections_total',
  unpricedModels: 'aigateway_unpriced_requests_total',
  storeErrors: 'aigateway_store_errors_total',
  storeDegraded: 'aigateway_store_degraded',
} as const;

/** Gauge values of aigateway_circuit_breaker_state. */
export const BREAKER_STATE_VALUE = { closed: 0, open: 1, half_open: 2 } as const;
