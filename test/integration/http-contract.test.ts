// The gateway's HTTP contract at the wire level: status codes, OpenAI error bodies, headers.
import http from 'node:http';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { eventually } from '../helpers/eventually';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const auth = { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' };
const chatBody = (extra: Record<string, unknown> = {}): string => JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra });

async function expectError(res: Response, status: number, match: { param?: string | null; code?: string | null; message?: RegExp }): Promise<ErrorBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error.type).toBe('string');
  if (match.param !== undefined) expect(body.error.param).toBe(match.param);
  if (match.code !== undefined) expect(body.error.code).toBe(match.code);
  if (match.message) expect(body.error.message).toMatch(match.message);
  return body;
}

describe('HTTP contract', () => {
  let openai: FakeUpstream;
  let ollama: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    openai = await startOpenAIUpstream();
    ollama = await startOllamaUpstream();
    // Provider-level fallback is off here so each failure shows as the client would see it from
    // a single provider; test/integration/fallback.test.ts covers falling back.
    gw = await startGateway(
      { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url, MAX_BODY_BYTES: '2048', UPSTREAM_TIMEOUT: '1' },
      { routing: { fallback_providers: [] } },
    );
  });
  afterAll(async () => {
    await gw.close();
    await openai.close();
    await ollama.close();
  });
  afterEach(() => {
    openai.setBehaviour(null);
    ollama.setBehaviour(null);
  });

  const post = (body: string, headers: Record<string, string> = auth): Promise<Response> =>
    fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body });

  describe('bad input gets a 4xx naming what is wrong, before anything goes upstream', () => {
    const cases: Array<[string, string, number, { param?: string | null; code?: string | null; message?: RegExp }]> = [
      ['malformed JSON', '{"model": "gpt-4o", "messages": [', 400, { param: null, message: /not valid JSON/ }],
      ['empty body', '', 400, { message: /empty/ }],
      ['array body', '[]', 400, { message: /JSON object/ }],
      [
        'missing model',
        JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
        400,
        { param: 'model', code: 'missing_required_parameter', message: /'model'/ },
      ],
      [
        'model of the wrong type',
        JSON.stringify({ model: 7, messages: [{ role: 'user', content: 'x' }] }),
        400,
        { param: 'model', code: 'invalid_type', message: /expected a string, but got number/ },
      ],
      ['missing messages', JSON.stringify({ model: 'gpt-4o' }), 400, { param: 'messages', message: /'messages'/ }],
      ['messages not an array', JSON.stringify({ model: 'gpt-4o', messages: 'hi' }), 400, { param: 'messages', code: 'invalid_type' }],
      ['a bad role', JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'robot', content: 'x' }] }), 400, { param: 'messages[0].role', message: /role/ }],
      ['temperature out of range', chatBody({ temperature: 5 }), 400, { param: 'temperature', message: /range/ }],
      ['stream not a boolean', chatBody({ stream: 'yes' }), 400, { param: 'stream', code: 'invalid_type' }],
      ['tools without a name', chatBody({ tools: [{ type: 'function', function: {} }] }), 400, { param: 'tools[0].function.name' }],
    ];
    test.each(cases)('%s', async (_name, body, status, match) => {
      const before = openai.requests.length;
      await expectError(await post(body), status, match);
      expect(openai.requests.length).toBe(before);
    });

    test('missing key → 401', async () => {
      await expectError(await post(chatBody(), { 'content-type': 'application/json' }), 401, { code: 'invalid_api_key', message: /didn't provide an API key/ });
    });

    test('unknown key → 401, and the key is not echoed', async () => {
      const body = await expectError(await post(chatBody(), { ...auth, authorization: 'Bearer gw-not-a-real-key-123' }), 401, { code: 'invalid_api_key' });
      expect(body.error.message).not.toContain('gw-not-a-real-key-123');
    });

    test('unknown path → 404; wrong method → 405', async () => {
      await expectError(await fetch(`${gw.url}/v1/nope`, { headers: auth }), 404, { message: /Unknown path/ });
      const res = await fetch(`${gw.url}/v1/chat/completions`, { headers: auth });
      await expectError(res, 405, { code: 'method_not_allowed' });
      expect(res.headers.get('allow')).toBe('POST');
    });

    test('body over MAX_BODY_BYTES → 413, with or without a content-length', async () => {
      const big = chatBody({ padding: 'x'.repeat(4096) });
      await expectError(await post(big), 413, { code: 'request_too_large', message: /2048-byte limit/ });
      // Chunked upload: the size is only known while reading.
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth, 'transfer-encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(big.slice(0, 1500));
        req.end(big.slice(1500));
      });
      expect(status).toBe(413);
    });

    test('invalid X-Cache-TTL → 400 naming the header', async () => {
      await expectError(await post(chatBody(), { ...auth, 'x-cache-ttl': 'soon' }), 400, { param: 'X-Cache-TTL' });
    });

    test('unknown X-Provider → 400 naming the header', async () => {
      await expectError(await post(chatBody(), { ...auth, 'x-provider': 'acme' }), 400, { param: 'X-Provider' });
    });

    test('an image URL Ollama cannot take → 400 naming the content part', async () => {
      const body = JSON.stringify({
        model: 'ollama/llama3.2',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
      });
      await expectError(await post(body), 400, { param: 'messages[0].content[0].image_url.url' });
    });
  });

  describe('upstream failures', () => {
    test('provider failing with 500 → 502 naming the provider', async () => {
      openai.setBehaviour({ status: 500 });
      const res = await post(chatBody());
      await expectError(res, 502, { code: 'upstream_error', message: /^openai failed with status 500/ });
      expect(res.headers.get('x-gateway-provider')).toBe('openai');
      expect(res.headers.get('x-request-id')).toMatch(/^req-/);
    });

    test("provider rejecting the gateway's own key → 502, not the client's 401", async () => {
      openai.setBehaviour({ status: 401 });
      await expectError(await post(chatBody()), 502, { message: /rejected the gateway's credentials/ });
    });

    test("provider's 400 is the client's fault and comes back as 400 with the provider's message", async () => {
      openai.setBehaviour({
        status: 400,
        body: JSON.stringify({ error: { message: 'Invalid schema for function', type: 'invalid_request_error', param: 'tools', code: null } }),
      });
      await expectError(await post(chatBody()), 400, { param: 'tools', message: /Invalid schema/ });
    });

    test('provider unreachable → 502 saying so', async () => {
      const dead = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' });
      try {
        const res = await fetch(`${dead.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: chatBody() });
        await expectError(res, 502, { code: 'upstream_unreachable', message: /Could not reach openai at 127.0.0.1:1/ });
      } finally {
        await dead.close();
      }
    });

    test('provider not answering within UPSTREAM_TIMEOUT → 504', async () => {
      openai.setBehaviour({ hang: true });
      await expectError(await post(chatBody()), 504, { code: 'upstream_timeout', message: /did not answer within 1000 ms/ });
    });

    test('a model whose provider is not configured → 404 model_not_found', async () => {
      await expectError(await post(JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'x' }] })), 404, {
        param: 'model',
        code: 'model_not_found',
        message: /anthropic/,
      });
    });

    test('a stream broken by the provider ends with an SSE error event, not a silent truncation', async () => {
      openai.setBehaviour({ streamChunks: 10, failAfterChunks: 3 });
      const res = await post(chatBody({ stream: true }));
      expect(res.status).toBe(200);
      const text = await res.text();
      const events = text.split('\n\n').filter(Boolean);
      const last = JSON.parse((events.at(-1) ?? '').replace(/^data: /, '')) as ErrorBody;
      expect(last.error.code).toBe('upstream_unreachable');
      expect(text).not.toContain('[DONE]');
    });

    test("Ollama's mid-stream error line becomes an SSE error event in the gateway's words (the provider's text stays in the log)", async () => {
      ollama.setBehaviour({ streamChunks: 5, failAfterChunks: 2 });
      const res = await post(JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }], stream: true }));
      const events = (await res.text())
        .split('\n\n')
        .filter(Boolean)
        .map((e) => e.replace(/^data: /, ''));
      const contentChunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: Array<{ delta: { content?: string } }> });
      expect(contentChunks.map((c) => c.choices[0]?.delta.content).join('')).toBe('tok0 tok1 ');
      const error = (JSON.parse(events.at(-1) ?? '{}') as ErrorBody).error;
      expect(error).toMatchObject({ code: 'upstream_error', message: 'ollama failed mid-stream.' });
      expect(error.message).not.toContain('an error was encountered while running the model');
    });

    test('a client that disconnects mid-stream aborts the upstream request', async () => {
      openai.setBehaviour({ streamChunks: 50, chunkDelayMs: 20 });
      const abortedBefore = openai.aborted;
      const controller = new AbortController();
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: chatBody({ stream: true }), signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      await eventually('the upstream request aborted', () => openai.aborted >= abortedBefore + 1, 3_000, 20);
      expect(openai.aborted).toBeGreaterThanOrEqual(abortedBefore + 1);
      // The gateway is still serving.
      expect((await post(chatBody())).status).toBe(200);
    });
  });

  describe('headers and metadata', () => {
    test('X-Request-ID is kept as the correlation id and traceparent gives the trace id', async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const res = await post(chatBody(), { ...auth, 'x-request-id': 'my-req-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
      expect(res.headers.get('x-correlation-id')).toBe('my-req-1');
      const body = (await res.json()) as { x_gateway: { request_id: string; trace_id: string; attempts: unknown[] } };
      expect(body.x_gateway).toMatchObject({ correlation_id: 'my-req-1', trace_id: traceId });
      // The request id stays the gateway's own, unique even when clients reuse theirs.
      expect(body.x_gateway.request_id).toMatch(/^req-[0-9a-f]{32}$/);
      expect(res.headers.get('x-request-id')).toBe(body.x_gateway.request_id);
      const again = (await (await post(chatBody(), { ...auth, 'x-request-id': 'my-req-1' })).json()) as { x_gateway: { request_id: string } };
      expect(again.x_gateway.request_id).not.toBe(body.x_gateway.request_id);
      expect(body.x_gateway.attempts).toEqual([expect.objectContaining({ provider: 'openai', status: 200 })]);
    });

    test('streams are served as text/event-stream with the gateway headers', async () => {
      const res = await post(chatBody({ stream: true }));
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(res.headers.get('x-gateway-provider')).toBe('openai');
      expect(res.headers.get('x-request-id')).toMatch(/^req-/);
      const text = await res.text();
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    });

    test('X-Provider forces the provider; provider/model prefixes route and strip the prefix', async () => {
      const forced = await post(JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }), { ...auth, 'x-provider': 'ollama' });
      expect(forced.headers.get('x-gateway-provider')).toBe('ollama');
      const prefixed = await post(JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }));
      expect(prefixed.headers.get('x-gateway-provider')).toBe('openai');
      expect((openai.requests.at(-1)!.json as { model: string }).model).toBe('gpt-4o-mini');
    });

    test('unknown model names go to DEFAULT_PROVIDER (ollama)', async () => {
      const res = await post(JSON.stringify({ model: 'deepseek-r1', messages: [{ role: 'user', content: 'x' }] }));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-provider')).toBe('ollama');
    });
  });
});
