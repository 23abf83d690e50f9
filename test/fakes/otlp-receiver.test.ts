// The fake OTLP receiver against OpenTelemetry's own exporters: what the SDK sends over
// http/protobuf and http/json arrives as the same spans and metrics, attributes and ids intact.
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver';

describe('the fake OTLP receiver', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    receiver.spans.length = 0;
    receiver.metrics.length = 0;
    receiver.exports.length = 0;
    receiver.failWith(null);
  });

  /** One client span under one server span, exported through `exporter` and flushed. */
  async function exportTwoSpans(exporter: SpanExporter): Promise<{ traceId: string; serverId: string; clientId: string }> {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'ai-gateway-test' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('receiver-test');
    const server = tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST' } });
    const parent = trace.setSpan(context.active(), server);
    const client = tracer.startSpan(
      'chat gpt-4o',
      { kind: SpanKind.CLIENT, attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 12, 'gen_ai.request.stream': true } },
      parent,
    );
    client.addEvent('gen_ai.first_chunk', { 'ai_gateway.ttfc_ms': 4.5 });
    client.setAttribute('gen_ai.response.finish_reasons', ['stop']);
    client.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 502' });
    client.end();
    server.end();
    await provider.forceFlush();
    await provider.shutdown();
    return { traceId: server.spanContext().traceId, serverId: server.spanContext().spanId, clientId: client.spanContext().spanId };
  }

  test.each([
    ['http/protobuf', () => new ProtoTraceExporter({ url: `${receiver.url}/v1/traces`, headers: { 'x-tenant': 'acme' } }), 'application/x-protobuf'],
    ['http/json', () => new JsonTraceExporter({ url: `${receiver.url}/v1/traces`, headers: { 'x-tenant': 'acme' } }), 'application/json'],
  ])('spans over %s arrive with their ids, parent, kind, attributes, events and status', async (_protocol, make, contentType) => {
    const ids = await exportTwoSpans(make());
    expect(receiver.exports.map((e) => e.contentType)).toContain(contentType);
    expect(receiver.exports[0]?.headers['x-tenant']).toBe('acme');
    const server = receiver.spans.find((s) => s.spanId === ids.serverId);
    const client = receiver.spans.find((s) => s.spanId === ids.clientId);
    expect(server).toMatchObject({ traceId: ids.traceId, parentSpanId: '', kind: 2, name: 'POST /v1/chat/completions' });
    expect(server?.resource['service.name']).toBe('ai-gateway-test');
    expect(client).toMatchObject({
      traceId: ids.traceId,
      parentSpanId: ids.serverId,
      kind: 3,
      name: 'chat gpt-4o',
      status: { code: 2, message: 'upstream 502' },
    });
    expect(client?.attributes).toEqual({
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(client?.events).toEqual([expect.objectContaining({ name: 'gen_ai.first_chunk', attributes: { 'ai_gateway.ttfc_ms': 4.5 } })]);
    expect(client && client.endNs >= client.startNs && client.startNs > 0n).toBe(true);
  });

  test('metrics over http/protobuf arrive as histograms and sums with their attributes', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: new ProtoMetricExporter({ url: `${receiver.url}/v1/metrics` }),
      exportIntervalMillis: 60_000,
    });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('receiver-test');
    const usage = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}' });
    usage.record(12, { 'gen_ai.token.type': 'input', 'gen_ai.request.model': 'gpt-4o' });
    usage.record(30, { 'gen_ai.token.type': 'output', 'gen_ai.request.model': 'gpt-4o' });
    meter.createCounter('ai_gateway.requests').add(2, { tenant: 't1' });
    await provider.forceFlush();
    await provider.shutdown();
    const tokens = receiver.metrics.find((m) => m.name === 'gen_ai.client.token.usage');
    expect(tokens).toMatchObject({ kind: 'histogram', unit: '{token}' });
    expect(tokens?.points.find((p) => p.attributes['gen_ai.token.type'] === 'output')).toMatchObject({ value: 30, count: 1 });
    expect(receiver.metrics.find((m) => m.name === 'ai_gateway.requests')?.points).toEqual([{ attributes: { tenant: 't1' }, value: 2 }]);
  });

  test('answers what it was told to fail with, and still records the export', async () => {
    receiver.failWith(503);
    const res = await fetch(`${receiver.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(503);
    expect(receiver.exports).toHaveLength(1);
    expect(receiver.spans).toHaveLength(0);
  });
});
