// The OpenTelemetry-SDK Telemetry against the fake OTLP receiver over real sockets: spans continue
// the client's trace, keep their parent, kind, attributes, events and error; the GenAI metrics are
// derived from provider spans as they end; the protocol, headers, resource and sampler settings hold.
import type { OtlpExport } from '../../functions/config/otlp';
import { exportingTelemetry, type ExportingTelemetry } from '../../functions/adapters/otel/telemetry';
import { FIRST_CHUNK_EVENT, TIME_TO_FIRST_CHUNK_MS } from '../../functions/core/telemetry';
import { startOtlpReceiver, type OtlpReceiver } from '../fakes/otlp-receiver';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
/** Epoch milliseconds, as the gateway's clock gives them (the SDK reads small numbers as performance time). */
const T0 = Date.UTC(2026, 11, 3, 12);
const ns = (ms: number): bigint => BigInt(T0 + ms) * 1_000_000n;

// Each case runs with the export pipeline on the request path's thread (a Lambda) and in the worker thread (the server).
describe.each(['inline', 'worker'] as const)('the exporting Telemetry (OpenTelemetry SDK → OTLP/HTTP), exporting %s', (thread) => {
  let receiver: OtlpReceiver;
  const opened: ExportingTelemetry[] = [];
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await Promise.all(opened.map((t) => t.shutdown()));
    await receiver.close();
  });
  beforeEach(() => {
    receiver.spans.length = 0;
    receiver.metrics.length = 0;
    receiver.exports.length = 0;
  });

  const settings = (over: Partial<OtlpExport> = {}): OtlpExport => ({
    tracesUrl: `${receiver.url}/v1/traces`,
    metricsUrl: `${receiver.url}/v1/metrics`,
    protocol: 'http/protobuf',
    headers: { authorization: 'Bearer collector-token' },
    serviceName: 'ai-gateway',
    resourceAttributes: { 'deployment.environment.name': 'test' },
    sampler: { name: 'parentbased_always_on', ratio: 1 },
    timeoutMs: 500,
    ...over,
  });
  const open = (over: Partial<OtlpExport> = {}): ExportingTelemetry => {
    const t = exportingTelemetry(settings(over), '1.2.3', undefined, thread);
    opened.push(t);
    return t;
  };

  /** A request: its server span under the client's trace, one streamed provider call that failed after its first chunk. */
  function oneRequest(t: ExportingTelemetry): { server: string; client: string; traceparent: string } {
    const server = t.startSpan('POST /v1/chat/completions', {
      kind: 'server',
      parent: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=x' },
      attributes: { 'http.request.method': 'POST', 'http.route': '/v1/chat/completions' },
      startMs: T0,
    });
    const client = t.startSpan('chat gpt-4o', {
      kind: 'client',
      parent: server,
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.stream': true },
      startMs: T0 + 10,
    });
    client.addEvent(FIRST_CHUNK_EVENT, { [TIME_TO_FIRST_CHUNK_MS]: 50 }, T0 + 60);
    client.setAttributes({ 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 30, 'gen_ai.response.finish_reasons': ['stop'] });
    client.recordError('upstream_truncated', 'openai ended the stream early');
    client.end(T0 + 510);
    server.setAttributes({ 'http.response.status_code': 200 });
    server.end(T0 + 520);
    return { server: server.spanId, client: client.spanId, traceparent: client.traceparent() };
  }

  test.each(['http/protobuf', 'http/json'] as const)(
    'over %s: the spans continue the client trace, with their parent, kind, times, attributes and error',
    async (protocol) => {
      const t = open({ protocol });
      const ids = oneRequest(t);
      await t.flush();
      expect(ids.traceparent).toBe(`00-${CLIENT_TRACE}-${ids.client}-01`);
      const server = receiver.spans.find((s) => s.spanId === ids.server);
      const client = receiver.spans.find((s) => s.spanId === ids.client);
      expect(server).toMatchObject({ traceId: CLIENT_TRACE, parentSpanId: CLIENT_SPAN, kind: 2, startNs: ns(0), endNs: ns(520) });
      expect(client).toMatchObject({
        traceId: CLIENT_TRACE,
        parentSpanId: ids.server,
        kind: 3,
        name: 'chat gpt-4o',
        status: { code: 2, message: 'openai ended the stream early' },
      });
      expect(client?.attributes).toMatchObject({
        'gen_ai.usage.output_tokens': 30,
        'gen_ai.response.finish_reasons': ['stop'],
        'error.type': 'upstream_truncated',
      });
      expect(client?.events).toEqual([{ name: FIRST_CHUNK_EVENT, timeNs: ns(60), attributes: { [TIME_TO_FIRST_CHUNK_MS]: 50 } }]);
      expect(server?.resource).toMatchObject({ 'service.name': 'ai-gateway', 'service.version': '1.2.3', 'deployment.environment.name': 'test' });
      const contentType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
      expect(receiver.exports.every((e) => e.contentType === contentType && e.headers.authorization === 'Bearer collector-token')).toBe(true);
    },
  );

  test('a provider span gives the GenAI metrics: token usage by type, operation duration, time to first chunk', async () => {
    const t = open();
    oneRequest(t);
    await t.flush();
    const metric = (name: string) => receiver.metrics.find((m) => m.name === name);
    const common = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'error.type': 'upstream_truncated' };
    expect(metric('gen_ai.client.token.usage')?.points).toEqual(
      expect.arrayContaining([
        { attributes: { ...common, 'gen_ai.token.type': 'input' }, value: 12, count: 1 },
        { attributes: { ...common, 'gen_ai.token.type': 'output' }, value: 30, count: 1 },
      ]),
    );
    expect(metric('gen_ai.client.operation.duration')).toMatchObject({ unit: 's', points: [{ attributes: common, value: 0.5, count: 1 }] });
    expect(metric('gen_ai.client.operation.time_to_first_chunk')?.points).toEqual([{ attributes: common, value: 0.05, count: 1 }]);
  });

  test('the sampler: always_off exports no span, and a parent-based one follows an unsampled client trace', async () => {
    const off = open({ sampler: { name: 'always_off', ratio: 1 } });
    oneRequest(off);
    await off.flush();
    const parentBased = open();
    const span = parentBased.startSpan('POST /v1/chat/completions', { kind: 'server', parent: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00` } });
    expect(span.traceparent()).toMatch(/-00$/);
    span.end();
    await parentBased.flush();
    expect(receiver.spans).toHaveLength(0);
  });

  test.each(['garbage', `ff-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`])(
    'a traceparent that is not valid W3C trace context (%p) starts a trace of its own',
    async (traceparent) => {
      const t = open();
      const span = t.startSpan('POST /v1/chat/completions', { kind: 'server', parent: { traceparent, tracestate: 'vendor=x' } });
      span.end();
      await t.flush();
      expect(span.traceId).toMatch(/^[\da-f]{32}$/);
      expect(span.traceId).not.toBe(CLIENT_TRACE);
      expect(span.tracestate()).toBeUndefined();
      expect(receiver.spans.find((s) => s.spanId === span.spanId)).toMatchObject({ traceId: span.traceId, parentSpanId: '' });
    },
  );

  test('a collector that refuses exports costs the caller nothing: spans and flushes still complete', async () => {
    receiver.failWith(503);
    try {
      const t = open();
      oneRequest(t);
      await expect(t.flush()).resolves.toBeUndefined();
      expect(receiver.exports.length).toBeGreaterThan(0);
    } finally {
      receiver.failWith(null);
    }
  });
});
