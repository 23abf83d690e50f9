// The Messages API forwarded natively to Anthropic, and POST /v1/messages/count_tokens, over real
// sockets: the local gateway in front of the four provider fakes. The Messages ingress itself
// lives elsewhere; here a minimal one (test-only: plain text turns, a bare translated rendering)
// carries the native side under test, NativeMessages, through the whole chat pipeline.
import type { ChatIngress, StreamWriter } from '../../functions/core/ingress/ingress';
import { messagesErrorBody } from '../../functions/core/ingress/anthropic-messages/errors';
import { NativeMessages } from '../../functions/core/ingress/anthropic-messages/native';
import { ANTHROPIC_KEY } from '../../functions/core/tenant-auth';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { readFixture, readFixtureJson, splitSse } from '../fakes/fixtures';
import { startFourProviders, type FourProviders } from '../helpers/four-providers';
import { DEFAULT_KEY, type TestGateway } from '../helpers/gateway';

/** Just enough of a Messages ingress to reach the pipeline: text turns in, a bare message out. */
const testMessagesIngress: ChatIngress = {
  method: 'POST',
  path: '/v1/messages',
  passThrough: false,
  jsonHeaders: { 'content-type': 'application/json' },
  streamHeaders: { 'content-type': 'text/event-stream' },
  apiKey: ANTHROPIC_KEY,
  readRequest: (body) => ({
    model: String(body.model),
    max_tokens: Number(body.max_tokens),
    stream: body.stream === true,
    messages: (body.messages as Array<{ role: 'user' | 'assistant'; content: string }>).map((m) => ({ role: m.role, content: m.content })),
  }),
  renderCompletion: (completion, _raw, metadata) =>
    JSON.stringify({ type: 'message', content: [{ type: 'text', text: completion.choices[0]?.message.content ?? '' }], x_gateway: metadata }),
  openStream: (): StreamWriter => ({
    chunk: () => '',
    end: (_usage, metadata) => `event: message_stop\ndata: ${JSON.stringify({ type: 'message_stop', x_gateway: metadata })}\n\n`,
    error: (err) => `event: error\ndata: ${JSON.stringify(messagesErrorBody(err))}\n\n`,
  }),
  errorBody: (err) => messagesErrorBody(err),
  native: new NativeMessages(),
};

interface Meta {
  provider: string;
  model: string;
  cost_usd: number;
  attempts: Array<{ provider: string; status: number }>;
}

const RECORDED = readFixtureJson<Record<string, unknown>>('anthropic/messages-nonstream.response.json');
const RECORDED_EVENTS = splitSse(readFixture('anthropic/messages-stream.sse.txt'));
const eventTypes = (sse: string): string[] => [...sse.matchAll(/^event: (.*)$/gm)].map((m) => m[1] ?? '');
const eventData = (sse: string, type: string): Record<string, unknown> => {
  const block = sse.split('\n\n').find((e) => e.startsWith(`event: ${type}\n`));
  return JSON.parse(/^data: (.*)$/m.exec(block ?? '')?.[1] ?? 'null') as Record<string, unknown>;
};

describe('the Messages API forwarded natively to Anthropic', () => {
  let four: FourProviders;
  let fakes: FourProviders['fakes'];
  let gw: TestGateway;

  beforeAll(async () => {
    four = await startFourProviders({
      ingresses: [testMessagesIngress],
      routing: {
        routes: {
          'claude-first': {
            targets: [
              { provider: 'anthropic', model: 'claude-haiku-4-5' },
              { provider: 'openai', model: 'gpt-4o' },
            ],
          },
        },
      },
    });
    ({ fakes, gw } = four);
  });
  afterAll(() => four.close());
  beforeEach(() => {
    for (const fake of Object.values(fakes)) fake.requests.length = 0;
  });
  afterEach(() => four.reset());

  /** A tenant of its own, so its usage is only this test's. */
  function tenant(id: string): string {
    const key = `gw-${id}`;
    gw.tenants.put(key, { ...DEFAULT_TENANT, id, name: id });
    return key;
  }

  const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'x-api-key': DEFAULT_KEY, 'content-type': 'application/json', ...headers }, body });

  async function usageOf(key: string): Promise<{ request_count: number; prompt_tokens: number; completion_tokens: number; total_cost_usd: number }> {
    await gw.gateway.flush();
    const res = await fetch(`${gw.baseURL}/usage`, { headers: { authorization: `Bearer ${key}` } });
    return (await res.json()) as { request_count: number; prompt_tokens: number; completion_tokens: number; total_cost_usd: number };
  }

  test("the client's bytes reach Anthropic unchanged with anthropic-beta; the answer is Anthropic's JSON with x_gateway spliced in", async () => {
    const key = tenant('native-sync');
    const body = '{"model":"claude-haiku-4-5",  "max_tokens":64,\n"messages":[{"role":"user","content":"Hello"}]}';
    const res = await post('/v1/messages', body, { 'x-api-key': key, 'anthropic-beta': 'prompt-caching-2024-07-31', 'anthropic-version': '2023-06-01' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('anthropic');
    const sent = fakes.anthropic.requests;
    expect(sent.map((r) => r.path)).toEqual(['/v1/messages']);
    expect(sent[0]?.raw.equals(Buffer.from(body))).toBe(true);
    expect(sent[0]?.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');

    const text = await res.text();
    const { x_gateway: meta, ...answer } = JSON.parse(text) as Record<string, unknown> & { x_gateway: Meta };
    expect(answer).toEqual(RECORDED);
    // Spliced, not re-encoded: the upstream's bytes are the answer's up to the added field.
    expect(text.startsWith(JSON.stringify(RECORDED).slice(0, -1))).toBe(true);
    expect(meta).toMatchObject({ provider: 'anthropic', model: RECORDED.model });
    expect(meta.cost_usd).toBeGreaterThan(0);
    const usage = RECORDED.usage as Record<string, number>;
    expect(await usageOf(key)).toMatchObject({ request_count: 1, completion_tokens: usage.output_tokens });
  });

  test("a route's model is written into the body, which is re-encoded once", async () => {
    const res = await post('/v1/messages', JSON.stringify({ model: 'claude-first', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }));
    expect(res.status).toBe(200);
    expect(fakes.anthropic.requests[0]?.json).toEqual({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] });
  });

  test('prompt-cache reads and writes are billed at the cache prices', async () => {
    const key = tenant('native-cache');
    const usage = { input_tokens: 100, cache_read_input_tokens: 1000, cache_creation_input_tokens: 2000, output_tokens: 50 };
    fakes.anthropic.setBehaviour({ status: 200, body: JSON.stringify({ ...RECORDED, model: 'claude-haiku-4-5', usage }) });
    const res = await post('/v1/messages', JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Again' }] }), {
      'x-api-key': key,
    });
    const meta = ((await res.json()) as { x_gateway: Meta }).x_gateway;
    // claude-haiku-4-5 per million: input 1, output 5, cache read 0.1, cache write 1.25.
    const expected = (100 * 1 + 1000 * 0.1 + 2000 * 1.25 + 50 * 5) / 1e6;
    expect(meta.cost_usd).toBeCloseTo(expected, 12);
    expect(await usageOf(key)).toMatchObject({ request_count: 1, prompt_tokens: 3100, completion_tokens: 50 });
  });

  test('a stream passes every event through in order; message_delta carries x_gateway and message_stop still follows; usage is billed', async () => {
    const key = tenant('native-stream');
    const res = await post(
      '/v1/messages',
      JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      {
        authorization: `Bearer ${key}`,
        'x-api-key': '',
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(eventTypes(text)).toEqual(RECORDED_EVENTS.map((e) => /^event: (.*)$/m.exec(e)?.[1]));
    expect(eventTypes(text).at(-1)).toBe('message_stop');
    // Every event but message_delta is the upstream's, byte for byte.
    for (const event of RECORDED_EVENTS.filter((e) => !e.startsWith('event: message_delta'))) expect(text).toContain(event.trimEnd());
    const delta = eventData(text, 'message_delta') as { usage: { output_tokens: number }; x_gateway: Meta };
    expect(delta.x_gateway).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5-20251001' });
    expect(delta.usage.output_tokens).toBe(27);
    expect(await usageOf(key)).toMatchObject({ request_count: 1, prompt_tokens: 770, completion_tokens: 27 });
    expect((await usageOf(key)).total_cost_usd).toBeCloseTo(delta.x_gateway.cost_usd, 12);
  });

  test('a stream Anthropic cuts mid-way ends with an Anthropic error event; what it sent is billed as an estimate', async () => {
    const key = tenant('native-cut');
    fakes.anthropic.setBehaviour({ streamChunks: 10, failAfterChunks: 5 });
    const res = await post(
      '/v1/messages',
      JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      {
        'x-api-key': key,
      },
    );
    expect(res.status).toBe(200);
    const text = await res.text();
    const types = eventTypes(text);
    expect(types.slice(0, 2)).toEqual(['message_start', 'content_block_start']);
    expect(types).toContain('content_block_delta');
    expect(types).not.toContain('message_delta');
    expect(types.at(-1)).toBe('error');
    expect(eventData(text, 'error')).toEqual({ type: 'error', error: { type: 'overloaded_error', message: expect.stringContaining('anthropic') } });
    const usage = await usageOf(key);
    expect(usage.request_count).toBe(1);
    expect(usage.completion_tokens).toBeGreaterThan(0);
  });

  test('a stream failing after message_delta still passes what came, ends with an error event, and is billed once at its real usage', async () => {
    const key = tenant('native-late-cut');
    // The recording's events up to message_delta, then Anthropic's error event instead of message_stop.
    const beforeStop = RECORDED_EVENTS.findIndex((e) => e.startsWith('event: message_stop'));
    fakes.anthropic.setBehaviour({ failAfterChunks: beforeStop });
    const res = await post(
      '/v1/messages',
      JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      {
        'x-api-key': key,
      },
    );
    const text = await res.text();
    expect(eventTypes(text).slice(-2)).toEqual(['message_delta', 'error']);
    const delta = eventData(text, 'message_delta') as { x_gateway: Meta };
    const usage = await usageOf(key);
    expect(usage).toMatchObject({ request_count: 1, prompt_tokens: 770, completion_tokens: 27 });
    expect(usage.total_cost_usd).toBeCloseTo(delta.x_gateway.cost_usd, 12);
    // One request in the metrics too: answered (200), not counted again as the failure after it.
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const counted = metrics.split('\n').filter((l) => l.startsWith('aigateway_requests_total{') && l.includes('tenant="native-late-cut"'));
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatch(/status="200".* 1$/);
  });

  test('Anthropic overloaded (529) before the first byte falls back to the next target, whole and streamed', async () => {
    fakes.anthropic.setBehaviour({ status: 529 });
    const res = await post('/v1/messages', JSON.stringify({ model: 'claude-first', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }));
    expect(res.status).toBe(200);
    const meta = ((await res.json()) as { x_gateway: Meta }).x_gateway;
    expect(meta.provider).toBe('openai');
    expect(meta.attempts[0]).toMatchObject({ provider: 'anthropic', status: 502 });
    const streamed = await post(
      '/v1/messages',
      JSON.stringify({ model: 'claude-first', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(streamed.headers.get('x-gateway-provider')).toBe('openai');
    expect(eventTypes(await streamed.text())).toEqual(['message_stop']);
  });
});

describe('POST /v1/messages/count_tokens', () => {
  let four: FourProviders;
  let fakes: FourProviders['fakes'];
  let gw: TestGateway;
  const doc = readFixtureJson<{ request: Record<string, unknown>; response: { input_tokens: number } }>('anthropic/count-tokens.json');

  beforeAll(async () => {
    four = await startFourProviders({ routing: { routes: { smart: { targets: [{ provider: 'anthropic', model: 'claude-3-7-sonnet-20250219' }] } } } });
    ({ fakes, gw } = four);
    gw.tenants.put('gw-limited', { ...DEFAULT_TENANT, id: 'limited', name: 'limited', allowed_models: ['gpt-4o'] });
  });
  afterAll(() => four.close());
  beforeEach(() => {
    for (const fake of Object.values(fakes)) fake.requests.length = 0;
  });
  afterEach(() => four.reset());

  const count = (body: unknown, headers: Record<string, string> = { 'x-api-key': DEFAULT_KEY }, query = ''): Promise<Response> =>
    fetch(`${gw.baseURL}/messages/count_tokens${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  test("a model routed to Anthropic gets Anthropic's own count, marked exact; the request reaches it as sent", async () => {
    const body = JSON.stringify(doc.request);
    // As Claude Code sends it: the beta query and header.
    const res = await count(body, { 'x-api-key': DEFAULT_KEY, 'anthropic-beta': 'token-counting-2024-11-01' }, '?beta=true');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-token-count')).toBe('exact');
    expect(await res.json()).toEqual(doc.response);
    const sent = fakes.anthropic.requests;
    expect(sent.map((r) => r.path)).toEqual(['/v1/messages/count_tokens']);
    expect(sent[0]?.body).toBe(body);
    expect(sent[0]?.headers['anthropic-beta']).toBe('token-counting-2024-11-01');
  });

  test('a route alias is counted by its first target, with its model', async () => {
    const res = await count({ ...doc.request, model: 'smart' }, { authorization: `Bearer ${DEFAULT_KEY}` });
    expect(res.headers.get('x-gateway-token-count')).toBe('exact');
    expect(await res.json()).toEqual(doc.response);
  });

  test('a model served elsewhere gets an estimate from the request size, marked as such; nothing is sent upstream', async () => {
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'How many tokens is this?' }] });
    const res = await count(body);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-token-count')).toBe('estimate');
    expect(await res.json()).toEqual({ input_tokens: Math.ceil(Buffer.byteLength(body) / 4) });
    for (const fake of Object.values(fakes)) expect(fake.requests).toHaveLength(0);
  });

  test('Anthropic failing on its side falls back to the estimate; its refusal of the request is the client’s', async () => {
    fakes.anthropic.setBehaviour({ status: 500 });
    const body = JSON.stringify(doc.request);
    const failed = await count(body);
    expect(failed.status).toBe(200);
    expect(failed.headers.get('x-gateway-token-count')).toBe('estimate');
    expect(await failed.json()).toEqual({ input_tokens: Math.ceil(Buffer.byteLength(body) / 4) });
    fakes.anthropic.setBehaviour(null);
    const unknown = await count({ ...doc.request, model: 'anthropic/not-a-model' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  test('auth: no key or an unknown one is 401, a model outside the tenant’s list 403, a body without messages 400, each in Anthropic’s shape', async () => {
    const none = await count(doc.request, {});
    expect(none.status).toBe(401);
    const body = (await none.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(body.error.message).toContain('x-api-key');
    expect((await count(doc.request, { 'x-api-key': 'gw-unknown' })).status).toBe(401);
    const refused = await count(doc.request, { 'x-api-key': 'gw-limited' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    const invalid = await count({ model: 'claude-haiku-4-5' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('messages') } });
    expect(fakes.anthropic.requests).toHaveLength(0);
  });

  test('a count is neither billed nor counted as a request', async () => {
    gw.tenants.put('gw-counting', { ...DEFAULT_TENANT, id: 'counting', name: 'counting', rate_limit_rpm: 1 });
    for (let i = 0; i < 3; i++) expect((await count(doc.request, { 'x-api-key': 'gw-counting' })).status).toBe(200);
    await gw.gateway.flush();
    const usage = (await (await fetch(`${gw.baseURL}/usage`, { headers: { authorization: 'Bearer gw-counting' } })).json()) as { request_count: number };
    expect(usage.request_count).toBe(0);
  });
});

describe('count_tokens and the circuit breaker', () => {
  let four: FourProviders;
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const doc = readFixtureJson<{ request: Record<string, unknown>; response: { input_tokens: number } }>('anthropic/count-tokens.json');

  beforeAll(async () => {
    four = await startFourProviders({ now: () => clock, routing: { circuit_breaker: { failure_threshold: 1, success_threshold: 1, open_seconds: 30 } } });
  });
  afterAll(() => four.close());

  const count = async (): Promise<{ kind: string | null; body: unknown }> => {
    const res = await fetch(`${four.gw.baseURL}/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': DEFAULT_KEY, 'content-type': 'application/json' },
      body: JSON.stringify(doc.request),
    });
    return { kind: res.headers.get('x-gateway-token-count'), body: await res.json() };
  };

  test("a failing Anthropic opens its breaker: counts are estimated without asking it until the breaker's time is up", async () => {
    const anthropic = four.fakes.anthropic;
    anthropic.setBehaviour({ status: 503 });
    expect((await count()).kind).toBe('estimate');
    anthropic.setBehaviour(null);
    anthropic.requests.length = 0;
    expect((await count()).kind).toBe('estimate');
    expect(anthropic.requests).toHaveLength(0);
    clock += 31_000;
    expect(await count()).toEqual({ kind: 'exact', body: doc.response });
    expect(anthropic.requests).toHaveLength(1);
  });
});
