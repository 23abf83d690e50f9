// An ended span's trip to the export worker: written to a batch (numbers in a transferred buffer,
// strings in one text, name and keys as table indexes), and read back on the other side as the same span (context, parent, kind, times,
// error, events, attributes, with a later value of a key winning), also once the table is full.
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExportedSpan, type SpanHome } from '../../functions/adapters/otel/exported-span';
import { SpanBatchReader, SpanBatchWriter } from '../../functions/adapters/otel/span-batch';
import { TextIndex, TextTable } from '../../functions/adapters/otel/span-texts';
import { FIRST_CHUNK_EVENT, TIME_TO_FIRST_CHUNK_MS } from '../../functions/core/telemetry';

const T0 = Date.UTC(2026, 11, 3, 12);

function trip(spans: (home: SpanHome) => void): ExportedSpan[] {
  const index = new TextIndex();
  const table = new TextTable();
  const writer = new SpanBatchWriter(index);
  const home: SpanHome = { resource: resourceFromAttributes({}), scope: { name: 'ai-gateway' }, ended: (s) => s.writeTo(writer) };
  spans(home);
  // As a batch travels: its new texts, then the batch, its numbers' buffer moved rather than copied.
  const batch = writer.take();
  const message = structuredClone({ texts: index.takeAdded(), batch }, { transfer: [batch.numbers] });
  expect(batch.numbers.byteLength).toBe(0);
  table.add(message.texts);
  const reader = new SpanBatchReader(message.batch, table);
  const out: ExportedSpan[] = [];
  while (!reader.done) out.push(ExportedSpan.readFrom(reader, home, (s) => new TraceState(s)));
  return out;
}

test('a server span under a remote parent and a failed streamed provider call come back as they ended', () => {
  // In the order they ended: the provider call first.
  const [client, server] = trip((home) => {
    const remote = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('vendor=x'),
    };
    const own = { traceId: remote.traceId, traceFlags: TraceFlags.SAMPLED, traceState: remote.traceState };
    const s = new ExportedSpan(
      'POST /v1/chat/completions',
      SpanKind.SERVER,
      { ...own, spanId: 'aaaaaaaaaaaaaaaa' },
      remote,
      T0,
      { 'http.route': '/v1/chat/completions' },
      home,
      false,
    );
    const c = new ExportedSpan(
      'chat gpt-4o',
      SpanKind.CLIENT,
      { ...own, spanId: 'bbbbbbbbbbbbbbbb' },
      s.spanContext(),
      T0 + 10,
      { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' },
      home,
      true,
    );
    c.setAttributes({ 'gen_ai.usage.input_tokens': 12, 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.request.model': 'gpt-4o-2' });
    c.addEvent(FIRST_CHUNK_EVENT, { [TIME_TO_FIRST_CHUNK_MS]: 25 }, T0 + 35);
    c.recordError('upstream_error', 'the stream was cut');
    c.end(T0 + 60);
    s.setAttributes({ 'http.response.status_code': 200 });
    s.end(T0 + 70);
  });
  expect(client?.name).toBe('chat gpt-4o');
  expect(client?.kind).toBe(SpanKind.CLIENT);
  expect(client?.spanContext()).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'bbbbbbbbbbbbbbbb', traceFlags: TraceFlags.SAMPLED });
  expect(client?.spanContext().traceState?.serialize()).toBe('vendor=x');
  expect(client?.parentSpanContext).toMatchObject({ spanId: 'aaaaaaaaaaaaaaaa', isRemote: false, traceFlags: TraceFlags.SAMPLED });
  expect(client?.attributes).toEqual({
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'gpt-4o-2',
    'gen_ai.usage.input_tokens': 12,
    'gen_ai.response.finish_reasons': ['stop'],
    'error.type': 'upstream_error',
  });
  expect(client?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the stream was cut' });
  expect(client?.startTime).toEqual([Math.floor((T0 + 10) / 1000), 10_000_000]);
  expect(client?.endTime).toEqual([Math.floor((T0 + 60) / 1000), 60_000_000]);
  expect(client?.events.map((e) => e.name)).toEqual([FIRST_CHUNK_EVENT]);
  expect(client?.providerCallFacts()).toMatchObject({
    operation: 'chat',
    requestModel: 'gpt-4o-2',
    inputTokens: 12,
    firstChunkS: 0.025,
    durationS: 0.05,
    errorType: 'upstream_error',
  });

  expect(server?.name).toBe('POST /v1/chat/completions');
  expect(server?.kind).toBe(SpanKind.SERVER);
  expect(server?.parentSpanContext).toMatchObject({ spanId: '00f067aa0ba902b7', isRemote: true, traceFlags: TraceFlags.SAMPLED });
  expect(server?.attributes).toEqual({ 'http.route': '/v1/chat/completions', 'http.response.status_code': 200 });
  expect(server?.status.code).toBe(SpanStatusCode.UNSET);
  expect(server?.providerCallFacts()).toBeUndefined();
});

test('names beyond the table (client-chosen model names) travel as themselves', () => {
  const names = Array.from({ length: 5000 }, (_, i) => `chat model-${i}`);
  const back = trip((home) => {
    for (const [i, name] of names.entries()) {
      const context = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: i.toString(16).padStart(16, '0'), traceFlags: TraceFlags.NONE };
      new ExportedSpan(name, SpanKind.CLIENT, context, undefined, T0, { 'gen_ai.request.model': `model-${i}` }, home, true).end(T0 + 1);
    }
  });
  expect(back.map((s) => s.name)).toEqual(names);
  expect(back.map((s) => s.attributes['gen_ai.request.model'])).toEqual(names.map((n) => n.slice('chat '.length)));
  expect(back.every((s) => s.spanContext().traceFlags === TraceFlags.NONE && s.parentSpanContext === undefined)).toBe(true);
});

test('every kind of attribute value comes back as it was set, strings of any script included', () => {
  const set = {
    'gen_ai.request.stream': true,
    'ai_gateway.cache_hit': false,
    'ai_gateway.cost_usd': 0.000405,
    'gen_ai.usage.input_tokens': 0,
    'gen_ai.request.temperature': -0.5,
    'gen_ai.response.id': 'chatcmpl-ü✓😀',
    'gen_ai.output.messages': '',
    'gen_ai.response.finish_reasons': ['stop', 'länge', ''],
    'test.no_strings': [],
  };
  const [span] = trip((home) => {
    const context = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00000000000000aa', traceFlags: TraceFlags.SAMPLED };
    const s = new ExportedSpan('chat gpt-4o', SpanKind.CLIENT, context, undefined, T0, undefined, home, true);
    s.setAttributes(set);
    s.end(T0 + 1);
  });
  // A copy came back, equal in every value and type.
  expect(span?.attributes).not.toBe(set);
  expect(span?.attributes).toStrictEqual(set);
});
