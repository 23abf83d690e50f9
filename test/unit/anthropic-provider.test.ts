// AnthropicProvider over real HTTP against the fake Anthropic upstream.
import { CancelSignal } from '../../functions/core/cancel';
import { GatewayError } from '../../functions/core/errors';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../functions/core/openai-types';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { AnthropicProvider } from '../../functions/core/providers/anthropic';
import type { StreamChunk, StreamResult, SyncResult } from '../../functions/core/chat/model';
import type { CallContext } from '../../functions/core/providers/provider';
import { startAnthropicUpstream, type FakeUpstream } from '../fakes/anthropic-upstream';
import { readFixtureJson } from '../fakes/fixtures';
import { eventually } from '../helpers/eventually';
import { rejectionOf } from './fixture-files';

const ctx = (signal = new CancelSignal()): CallContext => ({ signal, requestId: 'req-test', timeoutMs: 5000 });
const request = (extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'claude-haiku-4-5',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hi' },
  ],
  ...extra,
});

async function sync(p: AnthropicProvider, req: ChatCompletionRequest): Promise<SyncResult> {
  const r = await p.chat(req, ctx());
  if (r.kind !== 'json') throw new Error('expected a sync result');
  return r;
}

async function stream(p: AnthropicProvider, req: ChatCompletionRequest, signal?: CancelSignal): Promise<StreamResult> {
  const r = await p.chat({ ...req, stream: true }, ctx(signal));
  if (r.kind !== 'stream') throw new Error('expected a stream result');
  return r;
}

async function drain(chunks: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

describe('AnthropicProvider', () => {
  let up: FakeUpstream;
  let provider: AnthropicProvider;
  const prices = new PriceBook();

  beforeAll(async () => {
    up = await startAnthropicUpstream();
    provider = new AnthropicProvider({ apiKey: 'sk-ant-test', baseUrl: `${up.url}/`, explicitBaseUrl: true, prices });
  });
  afterAll(() => up.close());
  afterEach(() => up.setBehaviour(null));

  test('is configured by a key or an explicit base URL', () => {
    expect(provider.name).toBe('anthropic');
    expect(new AnthropicProvider({ baseUrl: 'https://api.anthropic.com', explicitBaseUrl: false, prices }).configured).toBe(false);
    expect(new AnthropicProvider({ apiKey: 'k', baseUrl: 'https://api.anthropic.com', explicitBaseUrl: false, prices }).configured).toBe(true);
    expect(new AnthropicProvider({ baseUrl: up.url, explicitBaseUrl: true, prices }).configured).toBe(true);
  });

  test('POSTs the translated body to /v1/messages with x-api-key and anthropic-version', async () => {
    const r = await sync(provider, request({ temperature: 1.4, stop: 'END' }));
    const sent = up.requests.at(-1);
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/v1/messages');
    expect(sent?.headers['x-api-key']).toBe('sk-ant-test');
    expect(sent?.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.json).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 4096,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 1,
      stop_sequences: ['END'],
    });
    const recorded = readFixtureJson<{ id: string; model: string }>('anthropic/messages-nonstream.response.json');
    expect(r.completion).toMatchObject({ id: recorded.id, model: recorded.model, object: 'chat.completion' });
    expect(r.raw).toBeUndefined();
  });

  test('a bad request is refused before anything is sent', async () => {
    const before = up.requests.length;
    await expect(provider.chat(request({ n: 3 }), ctx())).rejects.toMatchObject({ status: 400, param: 'n' });
    expect(up.requests.length).toBe(before);
  });

  test("a stream result carries Anthropic's id and model before the first chunk is read", async () => {
    const r = await stream(provider, request());
    expect(r.id).toBe('msg_0158JyopQTFaomteeJoDpS5q');
    expect(r.model).toBe('claude-haiku-4-5-20251001');
    const chunks = await drain(r.chunks);
    const parsed = chunks.map((c) => JSON.parse(c.json) as ChatCompletionChunk);
    expect(parsed[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-1)?.usageOnly).toBe(true);
    expect(up.requests.at(-1)?.json).toMatchObject({ stream: true });
  });

  test.each([
    [400, 400, false],
    [401, 502, true],
    [403, 502, true],
    [404, 404, false],
    [413, 413, false],
    [429, 502, true],
    [500, 502, true],
    [529, 502, true],
  ])('upstream %p → GatewayError %p (retryable %p)', async (upstream, status, retryable) => {
    up.setBehaviour({ status: upstream });
    const err = await rejectionOf(provider.chat(request(), ctx()));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status, retryable });
    if (!retryable) expect((err as GatewayError).message).not.toMatch(/^anthropic /);
    else expect((err as GatewayError).message).toMatch(/^anthropic /);
  });

  test("the recorded 400 comes back with Anthropic's own message and type", async () => {
    up.setBehaviour({ status: 400 });
    const recorded = readFixtureJson<{ body: { error: { type: string; message: string } } }>('anthropic/error-400.recorded.json').body.error;
    await expect(provider.chat(request(), ctx())).rejects.toMatchObject({ status: 400, message: recorded.message, type: recorded.type });
  });

  test('a mid-stream overloaded_error makes the chunk iteration throw a retryable 502', async () => {
    up.setBehaviour({ failAfterChunks: 4 });
    const r = await stream(provider, request());
    const err = await rejectionOf(drain(r.chunks));
    expect(err).toMatchObject({ status: 502, retryable: true });
    expect((err as GatewayError).detail).toContain('Overloaded');
  });

  test('an error as the very first event fails chat() itself (before any byte reached the client)', async () => {
    up.setBehaviour({ failAfterChunks: 0 });
    await expect(provider.chat(request({ stream: true }), ctx())).rejects.toMatchObject({ status: 502, retryable: true });
  });

  test('cancelling mid-stream aborts the upstream request', async () => {
    up.setBehaviour({ streamChunks: 50, chunkDelayMs: 20 });
    const signal = new CancelSignal();
    const r = await stream(provider, request(), signal);
    const abortedBefore = up.aborted;
    const it = r.chunks[Symbol.asyncIterator]();
    await it.next();
    signal.cancel();
    await expect(drain({ [Symbol.asyncIterator]: () => it })).rejects.toMatchObject({ status: 499 });
    await eventually('the upstream request aborted', () => up.aborted !== abortedBefore, 1_000, 10);
    expect(up.aborted).toBe(abortedBefore + 1);
  });

  test("listModels is the catalog's anthropic models", async () => {
    const models = await provider.listModels();
    const ids = models.map((m) => m.id);
    expect(ids).toEqual(prices.modelsOf('anthropic').map(([id]) => id));
    expect(ids).toContain('claude-haiku-4-5');
    expect(models.every((m) => m.owned_by === 'anthropic' && m.object === 'model')).toBe(true);
  });

  test('health probes GET /v1/models with the auth headers', async () => {
    expect(await provider.health()).toBe('ok');
    const probe = up.requests.at(-1);
    expect(probe).toMatchObject({ method: 'GET', path: '/v1/models' });
    expect(probe?.headers['x-api-key']).toBe('sk-ant-test');
    expect(probe?.headers['anthropic-version']).toBe('2023-06-01');
    expect(await new AnthropicProvider({ apiKey: 'wrong', baseUrl: up.url, explicitBaseUrl: true, prices }).health()).toBe('error');
    expect(await new AnthropicProvider({ baseUrl: 'http://127.0.0.1:1', explicitBaseUrl: false, prices }).health()).toBe('unconfigured');
    expect(await new AnthropicProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1', explicitBaseUrl: false, prices }).health()).toBe('unreachable');
  });
});
