// OTLP_ENDPOINT set: the local gateway exports its spans and GenAI metrics to a (fake) collector
// over real sockets, one trace per request that continues the client's, with the provider call
// inside it and the upstream told the same trace; x_gateway.trace_id names it.
import OpenAI from 'openai';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fakes/otlp-receiver';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

describe('OTLP export from the local gateway', () => {
  let receiver: OtlpReceiver;
  let openai: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    [receiver, openai] = await Promise.all([startOtlpReceiver(), startOpenAIUpstream()]);
    gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'gw-under-test' });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([receiver.close(), openai.close()]);
  });

  /** The spans of one trace once the gateway handed them over. */
  async function traceOf(traceId: string): Promise<ReceivedSpan[]> {
    await gw.gateway.flush();
    return receiver.spans.filter((s) => s.traceId === traceId);
  }

  test("a chat request: a SERVER span in the client's trace, a GenAI CLIENT span under it, the upstream in the same trace", async () => {
    const client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
    const completion = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }], max_tokens: 20 },
      { headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` } },
    );
    expect((completion as unknown as { x_gateway: { trace_id: string } }).x_gateway.trace_id).toBe(CLIENT_TRACE);
    const spans = await traceOf(CLIENT_TRACE);
    const server = spans.find((s) => s.kind === 2);
    const call = spans.find((s) => s.kind === 3);
    expect(server).toMatchObject({ name: 'POST /v1/chat/completions', parentSpanId: CLIENT_SPAN });
    expect(server?.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': 200 });
    expect(server?.resource['service.name']).toBe('gw-under-test');
    expect(call).toMatchObject({ name: 'chat gpt-4o-mini', parentSpanId: server?.spanId });
    expect(call?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.max_tokens': 20,
      'gen_ai.usage.input_tokens': completion.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage?.completion_tokens,
    });
    // The upstream was told the provider call's span, in the client's trace.
    expect(openai.requests.at(-1)?.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${call?.spanId}-01`);
    // No message content by default, and never the keys.
    const everything = JSON.stringify(spans, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(everything).not.toContain('Say hi');
    expect(everything).not.toContain('sk-test');
    expect(everything).not.toContain(DEFAULT_KEY);
    const tokens = receiver.metrics.find((m) => m.name === 'gen_ai.client.token.usage');
    expect(tokens?.points.map((p) => p.attributes['gen_ai.token.type']).sort()).toEqual(['input', 'output']);
  });

  test('a request without a traceparent starts a trace of its own, named by x_gateway.trace_id', async () => {
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] }),
    });
    const traceId = ((await res.json()) as { x_gateway: { trace_id: string } }).x_gateway.trace_id;
    const spans = await traceOf(traceId);
    expect(spans.map((s) => s.kind).sort()).toEqual([2, 3]);
    expect(spans.find((s) => s.kind === 2)?.parentSpanId).toBe('');
  });
});
