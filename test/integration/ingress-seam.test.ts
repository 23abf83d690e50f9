// A client API the gateway has never heard of, added as one ingress adapter: "echo chat"
// (POST /v1/echo-chat, `{model, prompt, stream}` in, `{text}` out, newline-delimited JSON when
// streamed, `{problem}` errors, the key in `x-echo-key`). Served by two providers that speak
// different upstream formats, with no provider changed, and accounted like any chat request.
import type { ApiRequest } from '../../functions/core/api-types';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, StreamChunk, Usage } from '../../functions/core/chat/model';
import { badRequest, type GatewayError } from '../../functions/core/errors';
import type { ChatIngress, GatewayMetadata, StreamHead, StreamWriter } from '../../functions/core/ingress/ingress';
import { openAiChat } from '../../functions/core/ingress/openai-chat';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream';
import type { FakeUpstream } from '../fakes/fixtures';
import { startOpenAIUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface EchoProblem {
  problem: { status: number; message: string; field: string | null };
}
interface EchoGateway {
  provider: string;
  cost_usd: number;
  cache_hit: boolean;
}
interface EchoAnswer {
  text: string;
  gateway: EchoGateway;
}
interface EchoLine {
  delta?: string;
  done?: boolean;
  tokens?: { in: number; out: number };
  gateway?: EchoGateway;
  failed?: string;
}

const echoProblem = (err: GatewayError): EchoProblem => ({ problem: { status: err.status, message: err.message, field: err.param } });

/** Echo chat's stream: one JSON line per piece of text, then a `done` line with the tokens and the gateway's facts. */
class EchoStreamWriter implements StreamWriter {
  chunk(chunk: StreamChunk): string {
    const parsed = JSON.parse(chunk.json) as ChatCompletionChunk;
    const delta = parsed.choices[0]?.delta.content;
    return delta ? `${JSON.stringify({ delta })}\n` : '';
  }

  end(usage: Usage | undefined, metadata: GatewayMetadata): string {
    const tokens = usage ? { in: usage.prompt_tokens, out: usage.completion_tokens } : undefined;
    return `${JSON.stringify({ done: true, tokens, gateway: metadata })}\n`;
  }

  error(err: GatewayError): string {
    return `${JSON.stringify({ failed: err.message })}\n`;
  }
}

class EchoChatIngress implements ChatIngress {
  readonly method = 'POST';
  readonly path = '/v1/echo-chat';
  readonly passThrough = false;
  readonly jsonHeaders = { 'content-type': 'application/json' };
  readonly streamHeaders = { 'content-type': 'application/x-ndjson' };

  readonly apiKey = { read: (headers: ApiRequest['headers']) => headers['x-echo-key'], hint: "Send it as 'x-echo-key: gw-...'." };

  readonly readRequest = (body: Record<string, unknown>): ChatCompletionRequest => {
    if (typeof body.model !== 'string') throw badRequest('model: a string is required.', 'model');
    if (typeof body.prompt !== 'string' || body.prompt === '') throw badRequest('prompt: a non-empty string is required.', 'prompt');
    return { model: body.model, messages: [{ role: 'user', content: body.prompt }], stream: body.stream === true };
  };

  renderCompletion(completion: ChatCompletion, _canonicalJson: string | undefined, metadata: GatewayMetadata): string {
    return JSON.stringify({ text: completion.choices[0]?.message.content ?? '', gateway: metadata });
  }

  openStream(_request: ChatCompletionRequest, _head: StreamHead): StreamWriter {
    return new EchoStreamWriter();
  }

  errorBody(err: GatewayError): EchoProblem {
    return echoProblem(err);
  }
}

const lines = (text: string): EchoLine[] =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EchoLine);

describe('a chat API added as an ingress adapter', () => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    openai = await startOpenAIUpstream();
    anthropic = await startAnthropicUpstream();
    gw = await startGateway(
      {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: anthropic.url,
      },
      { ingresses: [openAiChat, new EchoChatIngress()] },
    );
  });
  afterAll(async () => {
    await gw.close();
    await openai.close();
    await anthropic.close();
  });
  afterEach(() => {
    openai.setBehaviour(null);
    anthropic.setBehaviour(null);
  });

  const echo = (body: unknown, key = DEFAULT_KEY): Promise<Response> =>
    fetch(`${gw.url}/v1/echo-chat`, { method: 'POST', headers: { 'x-echo-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const chat = async (model: string, content: string): Promise<ChatCompletion> => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    });
    return (await res.json()) as ChatCompletion;
  };

  test.each([
    ['gpt-4o', 'openai'],
    ['claude-haiku-4-5', 'anthropic'],
  ])('%s answers in echo chat’s format the text it answers OpenAI clients, priced by %s', async (model, provider) => {
    const res = await echo({ model, prompt: 'Say hello' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-gateway-provider')).toBe(provider);
    const answer = (await res.json()) as EchoAnswer;
    expect(answer.gateway).toMatchObject({ provider, cache_hit: false });
    expect(answer.gateway.cost_usd).toBeGreaterThan(0);
    const viaOpenAi = await chat(model, 'Say hello');
    expect(answer.text).not.toBe('');
    expect(answer.text).toBe(viaOpenAi.choices[0]?.message.content);
  });

  test('the upstream gets a request translated from the canonical one, never echo chat’s bytes', async () => {
    await echo({ model: 'gpt-4o', prompt: 'Translate me' });
    const sent = openai.requests.at(-1)?.json as Record<string, unknown>;
    expect(sent).toMatchObject({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Translate me' }] });
    expect(sent).not.toHaveProperty('prompt');
    await echo({ model: 'claude-haiku-4-5', prompt: 'Translate me too' });
    expect(anthropic.requests.at(-1)?.json).toMatchObject({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Translate me too' }] });
  });

  test.each([
    ['gpt-4o', 'openai'],
    ['claude-haiku-4-5', 'anthropic'],
  ])('%s streams in echo chat’s framing, ending with the tokens and the cost (%s)', async (model, provider) => {
    (provider === 'openai' ? openai : anthropic).setBehaviour({ streamChunks: 3 });
    const res = await echo({ model, prompt: 'Count', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const received = lines(await res.text());
    expect(
      received
        .filter((l) => l.delta !== undefined)
        .map((l) => l.delta)
        .join(''),
    ).toBe('tok0 tok1 tok2 ');
    const last = received.at(-1);
    expect(last).toMatchObject({ done: true, gateway: { provider, cache_hit: false } });
    expect(last?.tokens?.out).toBeGreaterThan(0);
    expect(last?.gateway?.cost_usd).toBeGreaterThan(0);
  });

  test('a stream that fails after its first piece ends with echo chat’s error line', async () => {
    anthropic.setBehaviour({ streamChunks: 5, failAfterChunks: 2 });
    const res = await echo({ model: 'claude-haiku-4-5', prompt: 'Fail midway', stream: true });
    expect(res.status).toBe(200);
    const received = lines(await res.text());
    expect(received.at(-1)?.failed).toEqual(expect.any(String));
    expect(received.some((l) => l.done)).toBe(false);
  });

  test('refusals take echo chat’s error shape: a bad body, a missing key, a wrong method', async () => {
    const bad = await echo({ model: 'gpt-4o' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ problem: { status: 400, message: 'prompt: a non-empty string is required.', field: 'prompt' } });

    const anonymous = await fetch(`${gw.url}/v1/echo-chat`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4o', prompt: 'hi' }) });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as EchoProblem).problem.status).toBe(401);

    const wrongMethod = await fetch(`${gw.url}/v1/echo-chat`, { headers: { 'x-echo-key': DEFAULT_KEY } });
    expect(wrongMethod.status).toBe(405);
    expect(((await wrongMethod.json()) as EchoProblem).problem.status).toBe(405);
    // The OpenAI route keeps OpenAI's shape beside it.
    const openAiBad = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${DEFAULT_KEY}` }, body: '{}' });
    expect(((await openAiBad.json()) as { error: { code: string } }).error.code).toBe('missing_required_parameter');
  });

  test('each answer is one usage event, with the cost the client was told, whichever provider served it', async () => {
    gw.tenants.put('gw-echo', { ...DEFAULT_TENANT, id: 'echo', name: 'echo' });
    const sync = (await (await echo({ model: 'gpt-4o', prompt: 'bill me' }, 'gw-echo')).json()) as EchoAnswer;
    const streamed = lines(await (await echo({ model: 'claude-haiku-4-5', prompt: 'bill me too', stream: true }, 'gw-echo')).text()).at(-1);
    const day = new Date().toISOString();
    await gw.gateway.flush();
    const totals = await gw.usage.stores.store.totals('echo', day, day);
    expect(totals.request_count).toBe(2);
    expect(totals.prompt_tokens).toBeGreaterThan(0);
    expect(totals.completion_tokens).toBeGreaterThan(0);
    expect(totals.cost_usd).toBeCloseTo(sync.gateway.cost_usd + (streamed?.gateway?.cost_usd ?? Number.NaN), 10);
  });

  test('a cached answer is replayed in the format of the API that asks for it', async () => {
    const headers = { 'x-echo-key': DEFAULT_KEY, 'x-cache-ttl': '60' };
    const send = (stream: boolean): Promise<Response> =>
      fetch(`${gw.url}/v1/echo-chat`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-4o', prompt: 'cache me', stream }) });
    const first = (await (await send(false)).json()) as EchoAnswer;
    expect(first.gateway.cache_hit).toBe(false);
    const calls = openai.requests.length;
    const replay = lines(await (await send(true)).text());
    expect(openai.requests.length).toBe(calls);
    expect(
      replay
        .filter((l) => l.delta !== undefined)
        .map((l) => l.delta)
        .join(''),
    ).toBe(first.text);
    expect(replay.at(-1)).toMatchObject({ done: true, gateway: { cache_hit: true, cost_usd: 0 } });
  });
});
