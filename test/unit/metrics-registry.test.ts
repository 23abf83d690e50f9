// The local /metrics exposition: Prometheus text with counters, gauges and histograms.
import { MetricsRegistry } from '../../functions/adapters/memory/metrics-registry';
import { CircuitBreaker } from '../../functions/core/breaker';
import { MemoryBreakerStore } from '../../functions/adapters/memory/breaker-store';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and cumulative histogram buckets in the text format', () => {
    const m = new MetricsRegistry();
    m.count('aigateway_requests_total', { tenant: 'default', status: '200' });
    m.count('aigateway_requests_total', { tenant: 'default', status: '200' }, 2);
    m.gauge('aigateway_active_streams', {}, 4);
    m.observe('aigateway_request_duration_seconds', { provider: 'openai' }, 0.02);
    m.observe('aigateway_request_duration_seconds', { provider: 'openai' }, 3);
    const text = m.render();
    expect(text).toContain('# TYPE aigateway_requests_total counter');
    expect(text).toContain('aigateway_requests_total{tenant="default",status="200"} 3');
    expect(text).toContain('aigateway_active_streams 4');
    expect(text).toContain('aigateway_request_duration_seconds_bucket{provider="openai",le="0.01"} 0');
    expect(text).toContain('aigateway_request_duration_seconds_bucket{provider="openai",le="0.025"} 1');
    expect(text).toContain('aigateway_request_duration_seconds_bucket{provider="openai",le="5"} 2');
    expect(text).toContain('aigateway_request_duration_seconds_bucket{provider="openai",le="+Inf"} 2');
    expect(text).toContain('aigateway_request_duration_seconds_sum{provider="openai"} 3.02');
    expect(text).toContain('aigateway_request_duration_seconds_count{provider="openai"} 2');
  });

  it('escapes label values', () => {
    const m = new MetricsRegistry();
    m.count('x_total', { model: 'a"b\\c\nd' });
    expect(m.render()).toContain('x_total{model="a\\"b\\\\c\\nd"} 1');
  });
});

describe('CircuitBreaker phase changes', () => {
  it('reports each phase change once, in order', async () => {
    const seen: string[] = [];
    const b = new CircuitBreaker(new MemoryBreakerStore(), { failure_threshold: 2, success_threshold: 1, open_seconds: 10 }, (p, phase) =>
      seen.push(`${p}:${phase}`),
    );
    await b.recordFailure('openai', await b.admit('openai', 0), 0);
    await b.recordFailure('openai', await b.admit('openai', 0), 0);
    expect(await b.admit('openai', 5_000)).toBe('rejected');
    const probe = await b.admit('openai', 10_000);
    expect(probe).toBe('probe');
    await b.recordSuccess('openai', probe);
    expect(seen).toEqual(['openai:open', 'openai:half_open', 'openai:closed']);
  });
});
