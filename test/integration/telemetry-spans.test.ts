// The spans the gateway makes, as an exporter would receive them: one SERVER span per request
// continuing the client's trace, one CLIENT span per provider attempt with the GenAI semantic
// conventions' attributes, the upstream called inside that trace, and no message content (nor any
// key) unless content capture is on.
import { connect } from 'node:net';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startFourProviders } from '../helpers/four-providers';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import { RecordingTelemetry, type RecordedSpan } from '../helpers/recording-telemetry';
import { FIRST_CHUNK_EVENT } from '../../functions/core/telemetry';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_PARENT = '00f067aa0ba902b7';
const TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`;
const SECRET = 'sk-proj-abcdefghijklmnopqrstuvwxyz123456';
const headers = { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json', traceparent: TRACEPARENT, tracestate: 'vendor=1' };
const ROUTING = {
  routes: {
    smart: {
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'ollama', model: 'llama3.2' },
      ],
    },
  },
  cache: { default_ttl_seconds: 0 },
};

interface Gateways {
  openai: FakeUpstream;
  ollama: FakeUpstream;
  gw: TestGateway;
  telemetry: RecordingTelemetry;
}

async function start(env: Record<string, string> = {}): Promise<Gateways> {
  const openai = await startOpenAIUpstream({ apiKey: 'sk-test-upstream-key' });
  const ollama = await startOllamaUpstream();
  const telemetry = new RecordingTelemetry();
  const gw = await startGateway(
    { OPENAI_API_KEY: 'sk-test-upstream-key', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url, ...env },
    { routing: ROUTING, telemetry },
  );
  return { openai, ollama, gw, telemetry };
}

async function stop(g: Gateways): Promise<void> {
  await g.gw.close();
  await g.openai.close();
  await g.ollama.close();
}

const chat = (g: Gateways, body: Record<string, unknown>, extra: Record<string, string> = {}): Promise<Response> =>
  fetch(`${g.gw.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) });

const only = (spans: RecordedSpan[]): RecordedSpan => {
  expect(spans).toHaveLength(1);
  return spans[0] as RecordedSpan;
};

describe('telemetry spans', () => {
  let g: Gateways;
  beforeAll(async () => {
    g = await start();
  });
  afterAll(() => stop(g));
  beforeEach(() => {
    g.telemetry.spans.length = 0;
    g.openai.setBehaviour(null);
    g.ollama.setBehaviour(null);
  });

  test('a sync chat: SERVER span in the client trace, one CLIENT span with the GenAI attributes, traceparent sent upstream', async () => {
    const before = g.openai.requests.length;
    const res = await chat(g, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: `my key is ${SECRET}` }],
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; model: string; x_gateway: { trace_id: string } };

    const server = only(g.telemetry.ofKind('server'));
    expect(server).toMatchObject({
      name: 'POST /v1/chat/completions',
      traceId: CLIENT_TRACE,
      parentSpanId: CLIENT_PARENT,
      ended: true,
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/v1/chat/completions',
        'url.path': '/v1/chat/completions',
        'http.response.status_code': 200,
        'ai_gateway.tenant.id': 'default',
      },
    });
    expect(body.x_gateway.trace_id).toBe(server.traceId);

    const client = only(g.telemetry.ofKind('client'));
    expect(client).toMatchObject({ name: 'chat gpt-4o-mini', traceId: CLIENT_TRACE, parentSpanId: server.spanId, ended: true });
    expect(client.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.stream': false,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.response.model': body.model,
      'gen_ai.response.id': body.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'ai_gateway.cache_hit': false,
      'ai_gateway.fallback.attempt': 0,
      'ai_gateway.circuit_breaker.state': 'closed',
    });
    expect(client.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
    expect(client.attributes['gen_ai.usage.output_tokens']).toEqual(expect.any(Number));
    expect(client.attributes['ai_gateway.cost_usd']).toEqual(expect.any(Number));
    expect(client.error).toBeUndefined();

    // The upstream was called inside the client's trace, as the CLIENT span's child.
    const upstream = g.openai.requests[before];
    expect(upstream?.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${client.spanId}-01`);
    // The client's vendors' trace state goes along with it.
    expect(upstream?.headers.tracestate).toBe('vendor=1');

    // No message content by default, and no key anywhere.
    expect(client.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(client.attributes['gen_ai.output.messages']).toBeUndefined();
    const all = g.telemetry.everything();
    expect(all).not.toContain('my key is');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('sk-test-upstream-key');
    expect(all).not.toContain(DEFAULT_KEY);
  });

  test('a stream: the CLIENT span marks the first chunk and ends when the stream ends', async () => {
    const res = await chat(g, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const first = await reader.read();
    expect(first.done).toBe(false);
    const client = only(g.telemetry.ofKind('client'));
    expect(client.events.map((e) => e.name)).toContain(FIRST_CHUNK_EVENT);
    expect(client.events[0]?.attributes['ai_gateway.time_to_first_chunk_ms']).toEqual(expect.any(Number));
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      /* read to the end */
    }
    expect(client.ended).toBe(true);
    expect(client.attributes).toMatchObject({ 'gen_ai.request.stream': true, 'gen_ai.response.model': expect.any(String) });
    // Read off the chunks as they passed: no cache and no content capture assembled this stream.
    expect(client.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(client.attributes['gen_ai.usage.output_tokens']).toEqual(expect.any(Number));
    expect(client.error).toBeUndefined();
    const server = only(g.telemetry.ofKind('server'));
    expect(server.ended).toBe(true);
    expect(client.parentSpanId).toBe(server.spanId);
  });

  test('a fallback: two CLIENT spans, the first failed with error.type, the second the answer', async () => {
    g.openai.setBehaviour({ status: 500, times: 1 });
    const before = g.ollama.requests.length;
    const res = await chat(g, { model: 'smart', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(200);
    const [failed, served] = g.telemetry.ofKind('client');
    expect(g.telemetry.ofKind('client')).toHaveLength(2);
    expect(failed).toMatchObject({ name: 'chat gpt-4o', ended: true, attributes: { 'gen_ai.provider.name': 'openai', 'ai_gateway.fallback.attempt': 0 } });
    expect(failed?.attributes['error.type']).toEqual(expect.any(String));
    expect(served).toMatchObject({ name: 'chat llama3.2', ended: true, attributes: { 'gen_ai.provider.name': 'ollama', 'ai_gateway.fallback.attempt': 1 } });
    expect(served?.error).toBeUndefined();
    expect(g.ollama.requests[before]?.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${served?.spanId}-01`);
  });

  test('embeddings: one CLIENT span named for the operation', async () => {
    const res = await fetch(`${g.gw.url}/v1/embeddings`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'text-embedding-3-small', input: `secret ${SECRET}` }),
    });
    expect(res.status).toBe(200);
    const server = only(g.telemetry.ofKind('server'));
    expect(server).toMatchObject({ name: 'POST /v1/embeddings', attributes: { 'http.response.status_code': 200, 'ai_gateway.tenant.id': 'default' } });
    const client = only(g.telemetry.ofKind('client'));
    expect(client).toMatchObject({
      name: 'embeddings text-embedding-3-small',
      ended: true,
      attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'text-embedding-3-small' },
    });
    expect(client.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
    expect(client.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
    expect(g.telemetry.everything()).not.toContain(SECRET);
  });

  test('a stream cut off after it began ends its CLIENT span with error.type', async () => {
    g.openai.setBehaviour({ failAfterChunks: 2, times: 1 });
    const res = await chat(g, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(res.status).toBe(200);
    await res.text();
    const client = only(g.telemetry.ofKind('client'));
    expect(client.ended).toBe(true);
    expect(client.events.map((e) => e.name)).toContain(FIRST_CHUNK_EVENT);
    expect(client.attributes['error.type']).toEqual(expect.any(String));
  });

  test('a refused request has its SERVER span with the status and no CLIENT span', async () => {
    const res = await chat(g, { model: 'gpt-4o-mini', messages: [] }, { authorization: 'Bearer gw-unknown-key-123' });
    expect(res.status).toBe(401);
    expect(only(g.telemetry.ofKind('server')).attributes['http.response.status_code']).toBe(401);
    expect(g.telemetry.ofKind('client')).toHaveLength(0);
    expect(g.telemetry.everything()).not.toContain('gw-unknown-key-123');
  });

  test('without a client traceparent the SERVER span starts a trace, and x_gateway.trace_id is it', async () => {
    const res = await chat(g, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { traceparent: '', tracestate: '' });
    const body = (await res.json()) as { x_gateway: { trace_id: string } };
    const server = only(g.telemetry.ofKind('server'));
    expect(server.parentSpanId).toBeUndefined();
    expect(server.traceId).not.toBe(CLIENT_TRACE);
    expect(body.x_gateway.trace_id).toBe(server.traceId);
  });
});

describe("telemetry spans of the local server's own refusals", () => {
  let g: Gateways;
  beforeAll(async () => {
    g = await start({ MAX_BODY_BYTES: '1024' });
  });
  afterAll(() => stop(g));
  beforeEach(() => {
    g.telemetry.spans.length = 0;
  });

  test('a body over MAX_BODY_BYTES: a SERVER span in the client trace with 413 and error.type, named by its route', async () => {
    const res = await chat(g, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(4096) }] });
    expect(res.status).toBe(413);
    const server = only(g.telemetry.ofKind('server'));
    expect(server).toMatchObject({
      name: 'POST /v1/chat/completions',
      traceId: CLIENT_TRACE,
      parentSpanId: CLIENT_PARENT,
      ended: true,
      attributes: { 'http.route': '/v1/chat/completions', 'http.response.status_code': 413, 'error.type': 'request_too_large' },
    });
    expect(res.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(g.telemetry.ofKind('client')).toHaveLength(0);
  });

  test('a request that is not valid HTTP: a SERVER span with 400 and error.type', async () => {
    const answer = await rawExchange(new URL(g.gw.url), 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
    expect(answer.startsWith('HTTP/1.1 400')).toBe(true);
    const server = only(g.telemetry.ofKind('server'));
    expect(server).toMatchObject({ ended: true, attributes: { 'http.response.status_code': 400, 'error.type': 'bad_http_request' } });
  });
});

/** Writes `request` on a fresh connection and reads until the server closes it. */
function rawExchange(url: URL, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('telemetry spans of a token count', () => {
  test("count_tokens counted by Anthropic: a CLIENT span for the call, the upstream in the client's trace", async () => {
    const anthropic = await startAnthropicUpstream({ apiKey: 'sk-ant-upstream-key' });
    const telemetry = new RecordingTelemetry();
    const gw = await startGateway({ ANTHROPIC_API_KEY: 'sk-ant-upstream-key', ANTHROPIC_BASE_URL: anthropic.url }, { telemetry });
    try {
      const res = await fetch(`${gw.url}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: {
          'x-api-key': DEFAULT_KEY,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
          traceparent: TRACEPARENT,
          tracestate: 'vendor=1',
        },
        body: JSON.stringify({ model: 'claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-token-count')).toBe('exact');
      const { input_tokens } = (await res.json()) as { input_tokens: number };
      const server = only(telemetry.ofKind('server'));
      expect(server).toMatchObject({ name: 'POST /v1/messages/count_tokens', traceId: CLIENT_TRACE, attributes: { 'http.response.status_code': 200 } });
      const client = only(telemetry.ofKind('client'));
      expect(client).toMatchObject({
        name: 'count_tokens claude-3-5-haiku-latest',
        parentSpanId: server.spanId,
        ended: true,
        attributes: {
          'gen_ai.operation.name': 'count_tokens',
          'gen_ai.provider.name': 'anthropic',
          'gen_ai.request.model': 'claude-3-5-haiku-latest',
          'ai_gateway.counted_input_tokens': input_tokens,
        },
      });
      // A count is not usage: no token attributes that a metric would add up.
      expect(client.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
      const upstream = anthropic.requests.at(-1);
      expect(upstream?.path).toBe('/v1/messages/count_tokens');
      expect(upstream?.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${client.spanId}-01`);
      expect(upstream?.headers.tracestate).toBe('vendor=1');
    } finally {
      await gw.close();
      await anthropic.close();
    }
  });
});

describe('telemetry spans with the response cache', () => {
  let g: Gateways;
  beforeAll(async () => {
    g = await start();
  });
  afterAll(() => stop(g));

  test('a cache hit has a SERVER span marked cache_hit and no CLIENT span', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cache me' }] };
    expect((await chat(g, body, { 'x-cache-ttl': '60' })).status).toBe(200);
    g.telemetry.spans.length = 0;
    const res = await chat(g, body, { 'x-cache-ttl': '60' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { x_gateway: { cache_hit: boolean } }).x_gateway.cache_hit).toBe(true);
    expect(only(g.telemetry.ofKind('server')).attributes['ai_gateway.cache_hit']).toBe(true);
    expect(g.telemetry.ofKind('client')).toHaveLength(0);
  });
});

describe('telemetry spans with message content captured', () => {
  let g: Gateways;
  beforeAll(async () => {
    g = await start({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' });
  });
  afterAll(() => stop(g));

  test('input and output messages are recorded parts-shaped, with key-shaped text redacted', async () => {
    const res = await chat(g, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `my key is ${SECRET}` }] });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    const client = only(g.telemetry.ofKind('client'));
    const input = JSON.parse(String(client.attributes['gen_ai.input.messages'])) as unknown;
    expect(input).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'my key is sk-proj-[REDACTED]' }] }]);
    const output = JSON.parse(String(client.attributes['gen_ai.output.messages'])) as unknown;
    expect(output).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: answer.choices[0]?.message.content }], finish_reason: 'stop' }]);
    expect(g.telemetry.everything()).not.toContain(SECRET);
  });

  test('a stream records its assembled output', async () => {
    g.telemetry.spans.length = 0;
    const res = await chat(g, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
    await res.text();
    const client = only(g.telemetry.ofKind('client'));
    const output = JSON.parse(String(client.attributes['gen_ai.output.messages'])) as Array<{ role: string; parts: unknown[] }>;
    expect(output[0]).toMatchObject({ role: 'assistant', parts: [{ type: 'text', content: expect.any(String) }] });
  });
});

describe('telemetry spans of a request forwarded natively', () => {
  test('the Responses API forwarded to OpenAI: the CLIENT span has the response status as its finish reason, whole or streamed', async () => {
    const g = await start();
    try {
      const body = { model: 'gpt-4o', input: 'Hello' };
      const res = await fetch(`${g.gw.url}/v1/responses`, { method: 'POST', headers, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { status: string; id: string };
      expect(answer.status).toBe('completed');
      const client = only(g.telemetry.ofKind('client'));
      expect(client).toMatchObject({
        name: 'chat gpt-4o',
        ended: true,
        attributes: { 'gen_ai.provider.name': 'openai', 'gen_ai.response.finish_reasons': ['completed'] },
      });
      expect(g.openai.requests.at(-1)?.path).toBe('/v1/responses');

      g.telemetry.spans.length = 0;
      const streamed = await fetch(`${g.gw.url}/v1/responses`, { method: 'POST', headers, body: JSON.stringify({ ...body, stream: true }) });
      const events = await streamed.text();
      expect(events).toContain('event: response.completed');
      const streamedCall = only(g.telemetry.ofKind('client'));
      expect(streamedCall.ended).toBe(true);
      expect(streamedCall.attributes['gen_ai.response.finish_reasons']).toEqual(['completed']);
    } finally {
      await stop(g);
    }
  });

  test('Anthropic Messages to Anthropic: the CLIENT span names anthropic and its stop reason (whole or streamed), and the upstream gets its traceparent', async () => {
    const anthropic = await startAnthropicUpstream({ apiKey: 'sk-ant-upstream-key' });
    const telemetry = new RecordingTelemetry();
    const gw = await startGateway({ ANTHROPIC_API_KEY: 'sk-ant-upstream-key', ANTHROPIC_BASE_URL: anthropic.url }, { telemetry });
    try {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': DEFAULT_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', traceparent: TRACEPARENT },
        body: JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      const server = only(telemetry.ofKind('server'));
      expect(server).toMatchObject({ name: 'POST /v1/messages', traceId: CLIENT_TRACE, attributes: { 'http.response.status_code': 200 } });
      const client = only(telemetry.ofKind('client'));
      expect(client).toMatchObject({
        name: 'chat claude-3-5-haiku-latest',
        parentSpanId: server.spanId,
        ended: true,
        attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.max_tokens': 64 },
      });
      expect(client.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
      const answer = (await res.json()) as { stop_reason: string };
      expect(client.attributes['gen_ai.response.finish_reasons']).toEqual([answer.stop_reason]);
      expect(anthropic.requests.at(-1)?.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${client.spanId}-01`);
      expect(telemetry.everything()).not.toContain('sk-ant-upstream-key');

      // Streamed: the reason comes with the message_delta event, as the stream passes.
      telemetry.spans.length = 0;
      const streamed = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': DEFAULT_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', traceparent: TRACEPARENT },
        body: JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const events = await streamed.text();
      const delta = /event: message_delta\ndata: (.*)\n/.exec(events)?.[1];
      const stopReason = (JSON.parse(delta ?? '{}') as { delta?: { stop_reason?: string } }).delta?.stop_reason;
      expect(stopReason).toEqual(expect.any(String));
      const streamedCall = only(telemetry.ofKind('client'));
      expect(streamedCall.ended).toBe(true);
      expect(streamedCall.attributes['gen_ai.response.finish_reasons']).toEqual([stopReason]);
    } finally {
      await gw.close();
      await anthropic.close();
    }
  });
});

describe('telemetry spans of a Bedrock call', () => {
  test("chat and embeddings: Bedrock is sent the attempt's traceparent and the client's tracestate, signed with the request", async () => {
    const telemetry = new RecordingTelemetry();
    const four = await startFourProviders({ telemetry });
    try {
      const bedrock = four.fakes.bedrock;
      const sent = { ...headers, authorization: `Bearer ${DEFAULT_KEY}` };
      const res = await fetch(`${four.gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: sent,
        body: JSON.stringify({ model: 'bedrock/anthropic.claude-3-haiku-20240307-v1:0', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      const client = only(telemetry.ofKind('client'));
      expect(client.attributes['gen_ai.provider.name']).toBe('aws.bedrock');
      const call = bedrock.requests.at(-1);
      expect(call?.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${client.spanId}-01`);
      expect(call?.headers.tracestate).toBe('vendor=1');
      // Added before signing: the fake checks the SigV4 signature over the headers it names.
      expect(String(call?.headers.authorization)).toContain('traceparent');

      telemetry.spans.length = 0;
      const embedded = await fetch(`${four.gw.url}/v1/embeddings`, {
        method: 'POST',
        headers: sent,
        body: JSON.stringify({ model: 'bedrock/amazon.titan-embed-text-v2:0', input: 'hi' }),
      });
      expect(embedded.status).toBe(200);
      const embedding = only(telemetry.ofKind('client'));
      expect(bedrock.requests.at(-1)?.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${embedding.spanId}-01`);
    } finally {
      await four.close();
    }
  });
});
