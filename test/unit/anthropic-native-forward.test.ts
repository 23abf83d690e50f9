// AnthropicProvider.forward and countInputTokens: a Messages API request forwarded natively, over
// real HTTP against the fake Anthropic upstream (recorded wire formats) and a scripted upstream
// for the faults and for usage the recordings do not have (prompt-cache reads and writes).
import type { ServerResponse } from 'node:http';
import { CancelSignal } from '../../functions/core/cancel';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { AnthropicProvider } from '../../functions/core/providers/anthropic';
import type { CallContext, NativeCall, NativeStream, NativeSync } from '../../functions/core/providers/provider';
import { startAnthropicUpstream, type FakeUpstream } from '../fakes/anthropic-upstream';
import { splitSse } from '../fakes/fixtures';
import { SSE_HEAD, startScriptedUpstream, type ScriptedUpstream } from '../fakes/scripted-upstream';
import { fixtureJson, fixtureText, rejectionOf } from './fixture-files';
import { drain, gatewayError } from '../helpers/forwarded';

const KEY = 'sk-ant-test';
const prices = new PriceBook();
const ctx = (extra: Partial<CallContext> = {}): CallContext => ({ signal: new CancelSignal(), requestId: 'req-test', timeoutMs: 5000, ...extra });
const call = (body: string | object, headers: Record<string, string> = {}): NativeCall => ({
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  model: 'claude-haiku-4-5',
  headers,
});

async function sync(p: AnthropicProvider, c: NativeCall): Promise<NativeSync> {
  const r = await p.forward('anthropic-messages', c, ctx());
  if (r.kind !== 'json') throw new Error('expected a whole answer');
  return r;
}

async function stream(p: AnthropicProvider, c: NativeCall): Promise<NativeStream> {
  const r = await p.forward('anthropic-messages', c, ctx());
  if (r.kind !== 'stream') throw new Error('expected a stream');
  return r;
}

/** The data line of each recorded event, as the upstream sent it. */
const RECORDED_DATA = splitSse(fixtureText('anthropic/messages-stream.sse.txt')).map((e) => /^data: (.*)$/m.exec(e)?.[1]);

describe('AnthropicProvider.forward against the fake Anthropic upstream', () => {
  let up: FakeUpstream;
  let provider: AnthropicProvider;
  beforeAll(async () => {
    up = await startAnthropicUpstream({ apiKey: KEY });
    provider = new AnthropicProvider({ apiKey: KEY, baseUrl: up.url, explicitBaseUrl: true, prices });
  });
  afterAll(() => up.close());
  afterEach(() => up.setBehaviour(null));

  test('speaks the Messages API only', () => {
    expect(provider.forwards('anthropic-messages')).toBe(true);
    expect(provider.forwards('openai-responses')).toBe(false);
  });

  test('sends the client bytes and its beta and version headers, never a client credential; returns the answer bytes with usage', async () => {
    // Spacing and a field the gateway has no model for: sent as they are.
    const body = '{ "model":"claude-haiku-4-5", "max_tokens": 64,\n "messages":[{"role":"user","content":"hi"}], "context_management": {"edits": []} }';
    const headers = { 'anthropic-beta': 'context-management-2025-06-27', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-client' };
    const answer = await sync(provider, call(body, headers));
    const sent = up.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/messages' });
    expect(sent.raw.equals(Buffer.from(body))).toBe(true);
    expect(sent.headers).toMatchObject({ 'anthropic-beta': 'context-management-2025-06-27', 'anthropic-version': '2023-06-01', 'x-api-key': KEY });

    const recorded = fixtureJson<{ usage: Record<string, number> }>('anthropic/messages-nonstream.response.json');
    expect(JSON.parse(answer.raw)).toEqual(recorded);
    const u = recorded.usage;
    const prompt = u.input_tokens! + u.cache_read_input_tokens! + u.cache_creation_input_tokens!;
    expect(answer.usage).toEqual({
      prompt_tokens: prompt,
      completion_tokens: u.output_tokens,
      total_tokens: prompt + u.output_tokens!,
      prompt_tokens_details: { cached_tokens: u.cache_read_input_tokens, cache_creation_tokens: u.cache_creation_input_tokens },
    });
  });

  test('a client without a version gets the gateway its own', async () => {
    await sync(provider, call({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }));
    expect(up.requests.at(-1)?.headers['anthropic-version']).toBe('2023-06-01');
    expect(up.requests.at(-1)?.headers['anthropic-beta']).toBeUndefined();
  });

  test('stream: every event in order and unchanged; message_delta carries the usage of message_start and its own', async () => {
    const answer = await stream(provider, call({ model: 'claude-haiku-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    const events = await drain(answer.events);
    expect(events.map((e) => e.data)).toEqual(RECORDED_DATA);
    expect(events.map((e) => e.type)).toEqual(RECORDED_DATA.map((d) => (JSON.parse(d ?? '{}') as { type: string }).type));
    expect(events.at(-1)?.type).toBe('message_stop');
    const withUsage = events.filter((e) => e.usage);
    expect(withUsage.map((e) => e.type)).toEqual(['message_delta']);
    // The recording: input 770 (no cache) at message_start, 27 output tokens at message_delta.
    expect(withUsage[0]?.usage).toMatchObject({ prompt_tokens: 770, completion_tokens: 27, total_tokens: 797 });
  });

  test('errors before the first byte keep the upstream error mapping: 529 is a retryable 502, a 400 is the client’s', async () => {
    up.setBehaviour({ status: 529 });
    const overloaded = gatewayError(await rejectionOf(provider.forward('anthropic-messages', call({ model: 'claude-haiku-4-5' }), ctx())));
    expect(overloaded).toMatchObject({ status: 502, retryable: true, code: 'upstream_error' });
    up.setBehaviour(null);
    const invalid = gatewayError(await rejectionOf(provider.forward('anthropic-messages', call({ model: 'claude-haiku-4-5', messages: [] }), ctx())));
    expect(invalid).toMatchObject({ status: 400, retryable: false });
    expect(invalid.message).toContain('max_tokens');
  });

  test("a mid-stream `error` event fails the stream after what came before it, as the provider's fault", async () => {
    up.setBehaviour({ streamChunks: 6, failAfterChunks: 4 });
    const answer = await stream(provider, call({ model: 'claude-haiku-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    const seen: string[] = [];
    const err = await rejectionOf(
      (async () => {
        for await (const e of answer.events) seen.push(e.type);
      })(),
    );
    expect(gatewayError(err)).toMatchObject({ status: 502, retryable: true });
    expect(seen).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta']);
  });

  test("count_tokens: Anthropic's own count of the documented request, with the client's headers", async () => {
    const doc = fixtureJson<{ request: object; response: { input_tokens: number } }>('anthropic/count-tokens.json');
    const counted = await provider.countInputTokens('anthropic-messages', call(doc.request, { 'anthropic-beta': 'token-counting-2024-11-01' }), ctx());
    expect(counted).toBe(doc.response.input_tokens);
    expect(up.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/messages/count_tokens', body: JSON.stringify(doc.request) });
    expect(up.requests.at(-1)?.headers['anthropic-beta']).toBe('token-counting-2024-11-01');
    up.setBehaviour({ status: 500 });
    expect(gatewayError(await rejectionOf(provider.countInputTokens('anthropic-messages', call(doc.request), ctx())))).toMatchObject({
      status: 502,
      retryable: true,
    });
  });
});

describe('AnthropicProvider.forward against a scripted upstream', () => {
  let up: ScriptedUpstream;
  let provider: AnthropicProvider;
  beforeAll(async () => {
    up = await startScriptedUpstream();
    provider = new AnthropicProvider({ apiKey: KEY, baseUrl: up.url, explicitBaseUrl: true, prices });
  });
  afterAll(() => up.close());

  const sse = (...events: object[]): string => events.map((e) => `event: ${(e as { type: string }).type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
  const answerWith =
    (text: string) =>
    (_req: unknown, res: ServerResponse): void => {
      res.writeHead(200, SSE_HEAD).end(text);
    };
  const request = call({ model: 'claude-haiku-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const start = (usage: object): object => ({
    type: 'message_start',
    message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [], usage },
  });

  test('usage: cache reads and writes from message_start, output from message_delta, in the canonical shape', async () => {
    up.script(
      answerWith(
        sse(
          start({ input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 50, output_tokens: 1 }),
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
          { type: 'content_block_stop', index: 0 },
          { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } },
          { type: 'message_stop' },
        ),
      ),
    );
    const events = await drain((await stream(provider, request)).events);
    expect(events.find((e) => e.type === 'message_delta')?.usage).toEqual({
      prompt_tokens: 160,
      completion_tokens: 7,
      total_tokens: 167,
      prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 50 },
    });
  });

  test('a stream that fails at once (an error event first) fails before resolving, so it can fall back', async () => {
    up.script(answerWith(sse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })));
    expect(gatewayError(await rejectionOf(provider.forward('anthropic-messages', request, ctx())))).toMatchObject({ status: 502, retryable: true });
  });

  test('a stream that ends before message_stop is truncated, even after message_delta', async () => {
    up.script(
      answerWith(sse(start({ input_tokens: 3, output_tokens: 1 }), { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } })),
    );
    const answer = await stream(provider, request);
    const seen: string[] = [];
    const err = await rejectionOf(
      (async () => {
        for await (const e of answer.events) seen.push(e.type);
      })(),
    );
    expect(seen).toEqual(['message_start', 'message_delta']);
    expect(gatewayError(err)).toMatchObject({ status: 502, code: 'upstream_truncated' });
  });

  test('a whole answer that is not a JSON object is a bad response', async () => {
    up.script((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('[1]');
    });
    const err = gatewayError(await rejectionOf(provider.forward('anthropic-messages', request, ctx())));
    expect(err).toMatchObject({ status: 502, code: 'upstream_bad_response' });
  });
});
