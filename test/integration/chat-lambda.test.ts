// The Lambda chat handler behind an emulated RESPONSE_STREAM function URL, driven by the official
// `openai` client, with the fake OpenAI upstream behind it.
import OpenAI from 'openai';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY } from '../helpers/gateway';
import { installLambdaStreamingGlobals, serveFunctionUrl, uninstallLambdaStreamingGlobals, type EmulatedFunctionUrl } from '../helpers/lambda-streaming';

interface XGateway {
  provider: string;
  request_id: string;
  cost_usd: number;
}

const ENV = { OPENAI_API_KEY: 'sk-test', LOG_LEVEL: 'error', DEFAULT_PROVIDER: 'openai' };

describe('chat Lambda (function URL, response streaming) with the OpenAI SDK', () => {
  let upstream: FakeUpstream;
  let fn: EmulatedFunctionUrl;
  let client: OpenAI;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    // The handler reads its configuration at import (cold start): env and globals come first.
    const env = { ...ENV, OPENAI_BASE_URL: upstream.url };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    installLambdaStreamingGlobals();
    const { handler } = await import('../../functions/chat/handler');
    fn = await serveFunctionUrl(handler);
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: `${fn.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await fn?.close();
    await upstream?.close();
    uninstallLambdaStreamingGlobals();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  afterEach(() => upstream.setBehaviour(null));

  test('sync completion returns the answer with x_gateway and the gateway headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toBeTruthy();
    const meta = (data as unknown as { x_gateway: XGateway }).x_gateway;
    expect(meta.provider).toBe('openai');
    expect(meta.cost_usd).toBeGreaterThan(0);
    expect(response.headers.get('x-request-id')).toBe(meta.request_id);
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
    // The function URL event carried the SDK's JSON body as text, and the provider key went upstream.
    expect(fn.events.at(-1)).toMatchObject({ rawPath: '/v1/chat/completions', isBase64Encoded: false, requestContext: { http: { method: 'POST' } } });
    expect(upstream.requests.at(-1)?.headers.authorization).toBe('Bearer sk-test');
  });

  test('stream: true iterates the chunks and ends with the x_gateway chunk', async () => {
    upstream.setBehaviour({ streamChunks: 3 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'count' }], stream: true });
    let text = '';
    const metas: XGateway[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      const meta = (chunk as unknown as { x_gateway?: XGateway }).x_gateway;
      if (meta) metas.push(meta);
    }
    expect(text).toBe('tok0 tok1 tok2 ');
    expect(metas).toHaveLength(1);
    expect(metas[0]?.provider).toBe('openai');
  });

  test('stream chunks reach the client as they are written, not at the end', async () => {
    upstream.setBehaviour({ streamChunks: 5, chunkDelayMs: 100 });
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'slowly' }], stream: true });
    const contentAt: number[] = [];
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) contentAt.push(Date.now() - started);
    }
    const endAt = Date.now() - started;
    expect(contentAt).toHaveLength(5);
    // Buffered delivery would put every chunk at the end; paced delivery spreads them ~100 ms apart.
    expect(contentAt[0]!).toBeLessThan(endAt - 250);
    expect(contentAt[4]! - contentAt[0]!).toBeGreaterThan(250);
  });

  test('a client that disconnects mid-stream cancels the upstream request', async () => {
    upstream.setBehaviour({ streamChunks: 50, chunkDelayMs: 50 });
    const abortedBefore = upstream.aborted;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'long' }], stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    // The SDK ends the iteration quietly when its own signal aborts it.
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++received === 2) controller.abort();
    }
    expect(received).toBe(2);
    const deadline = Date.now() + 2000;
    while (upstream.aborted === abortedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(upstream.aborted).toBe(abortedBefore + 1);
  });

  test('a body over MAX_BODY_BYTES is refused with the OpenAI-shaped 413 before going upstream', async () => {
    const sent = upstream.requests.length;
    const huge = 'x'.repeat(6 * 1024 * 1024 + 1);
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: huge }] }))
      .rejects.toMatchObject({ status: 413, error: { code: 'request_too_large' } });
    expect(upstream.requests.length).toBe(sent);
  });

  test('GET /health answers through the same handler', async () => {
    const res = await fetch(`${fn.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ providers: { openai: 'ok' } });
  });
});
