// OpenAIProvider.forward: the native Responses API forward, over real HTTP against the fake
// OpenAI upstream (recorded wire formats) and a scripted upstream for the faults.
import type { ServerResponse } from 'node:http';
import { CancelSignal } from '../../functions/core/cancel';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { OpenAIProvider } from '../../functions/core/providers/openai';
import type { CallContext, NativeStream, NativeSync } from '../../functions/core/providers/provider';
import { splitSse } from '../fakes/fixtures';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { SSE_HEAD, startScriptedUpstream, type ScriptedUpstream } from '../fakes/scripted-upstream';
import { eventually } from '../helpers/eventually';
import { fixtureJson, fixtureText, rejectionOf } from './fixture-files';
import { drain, gatewayError } from '../helpers/forwarded';

const KEY = 'sk-test-0123456789abcdef';
const prices = new PriceBook();
const ctx = (extra: Partial<CallContext> = {}): CallContext => ({ signal: new CancelSignal(), requestId: 'req-test', timeoutMs: 5000, ...extra });
const body = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
/** The Responses API request `raw`, forwarded as the pipeline forwards it. */
const forwardResponses = (p: OpenAIProvider, raw: Buffer, c: CallContext): Promise<NativeSync | NativeStream> =>
  p.forward('openai-responses', { body: raw, model: 'gpt-4o', headers: {} }, c);

async function sync(p: OpenAIProvider, raw: Buffer, c = ctx()): Promise<NativeSync> {
  const r = await forwardResponses(p, raw, c);
  if (r.kind !== 'json') throw new Error('expected a sync answer');
  return r;
}

async function stream(p: OpenAIProvider, raw: Buffer, c = ctx()): Promise<NativeStream> {
  const r = await forwardResponses(p, raw, c);
  if (r.kind !== 'stream') throw new Error('expected a stream');
  return r;
}

/** The recorded text stream's SSE events, each with its `\n\n`. */
const RECORDED_EVENTS = splitSse(fixtureText('openai/responses-stream.sse.txt'));

describe('OpenAIProvider.forward (Responses API) against the fake OpenAI upstream', () => {
  let up: FakeUpstream;
  let provider: OpenAIProvider;
  beforeAll(async () => {
    up = await startOpenAIUpstream({ apiKey: KEY });
    provider = new OpenAIProvider({ apiKey: KEY, baseUrl: up.url, explicitBaseUrl: true, prices });
  });
  afterAll(() => up.close());
  afterEach(() => up.setBehaviour(null));

  test('forwards the client bytes unchanged and returns the upstream JSON with its usage', async () => {
    // Spacing, a built-in tool and a reasoning item the gateway has no model for: all sent as they are.
    const raw = Buffer.from(
      '{ "model":"o4-mini", "input":[{"type":"reasoning","id":"rs_1","summary":[]},{"role":"user","content":"hi"}],\n' +
        ' "tools":[{"type":"web_search_preview"}], "reasoning":{"effort":"low"} }',
    );
    const answer = await sync(provider, raw);
    const sent = up.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/responses' });
    expect(sent.body).toBe(raw.toString());
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);

    const parsed = JSON.parse(answer.raw) as { object: string; model: string; output: Array<{ type: string }> };
    expect(parsed).toMatchObject({ object: 'response', model: 'o4-mini' });
    expect(answer.usage).toEqual({
      prompt_tokens: 14,
      completion_tokens: 50,
      total_tokens: 64,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  test('stream: every event in order, unchanged, usage on response.completed only', async () => {
    const answer = await stream(provider, body({ model: 'gpt-4o-mini', input: 'What is the capital of Minas Gerais?', stream: true }));
    const events = await drain(answer.events);
    const recordedTypes = RECORDED_EVENTS.map((e) => e.slice('event: '.length, e.indexOf('\n')));
    expect(events.map((e) => e.type)).toEqual(recordedTypes);
    expect(events.map((e) => (JSON.parse(e.data) as { sequence_number: number }).sequence_number)).toEqual(events.map((_, i) => i));
    for (const e of events) expect((JSON.parse(e.data) as { type: string }).type).toBe(e.type);
    expect(events.filter((e) => e.usage)).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', usage: { prompt_tokens: 25, completion_tokens: 10, total_tokens: 35 } });
  });

  test('function-call stream: argument deltas and a reasoning item pass through; reasoning tokens are counted', async () => {
    const tool = { type: 'function', name: 'lookup_weather', parameters: { type: 'object', properties: {} } };
    const events = await drain((await stream(provider, body({ model: 'gpt-5', input: 'Weather?', tools: [tool], stream: true }))).events);
    const types = events.map((e) => e.type);
    expect(types).toContain('response.function_call_arguments.delta');
    expect(types).toContain('response.function_call_arguments.done');
    expect(events.some((e) => e.data.includes('"type":"reasoning"'))).toBe(true);
    expect(events.at(-1)?.usage).toMatchObject({ completion_tokens: 469, completion_tokens_details: { reasoning_tokens: 448 } });
  });

  test('an upstream 400 reaches the client with its own message, param and code', async () => {
    const recorded = fixtureJson<{ status: number; body: { error: { message: string } } }>('openai/responses-error-400.recorded.json');
    up.setBehaviour({ status: recorded.status, body: JSON.stringify(recorded.body), times: 1 });
    const err = gatewayError(await rejectionOf(forwardResponses(provider, body({ model: 'gpt-4o', input: 'hi', temperature: -1 }), ctx())));
    expect(err).toMatchObject({ status: 400, message: recorded.body.error.message, param: 'temperature', code: 'decimal_below_min_value', retryable: false });
  });

  test('an upstream 5xx or 429 is a retryable 502 that does not repeat the provider text', async () => {
    for (const status of [500, 503, 429]) {
      up.setBehaviour({ status, times: 1 });
      const err = gatewayError(await rejectionOf(forwardResponses(provider, body({ model: 'gpt-4o', input: 'hi' }), ctx())));
      expect(err).toMatchObject({ status: 502, code: 'upstream_error', retryable: true });
      expect(err.message).toBe(`openai failed with status ${status}.`);
    }
  });

  test('no answer within the timeout is a retryable 504', async () => {
    up.setBehaviour({ hang: true, times: 1 });
    const err = gatewayError(await rejectionOf(forwardResponses(provider, body({ model: 'gpt-4o', input: 'hi' }), ctx({ timeoutMs: 100 }))));
    expect(err).toMatchObject({ status: 504, code: 'upstream_timeout', retryable: true });
  });

  test('a connection dropped mid-stream fails the stream as a retryable 502', async () => {
    up.setBehaviour({ failAfterChunks: 4, times: 1 });
    const answer = await stream(provider, body({ model: 'gpt-4o', input: 'hi', stream: true }));
    const seen: string[] = [];
    const err = gatewayError(
      await rejectionOf(
        (async () => {
          for await (const e of answer.events) seen.push(e.type);
        })(),
      ),
    );
    expect(seen).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(err).toMatchObject({ status: 502, retryable: true });
  });

  test('MAX_RESPONSE_BYTES caps a sync answer and a stream event', async () => {
    const big = gatewayError(await rejectionOf(forwardResponses(provider, body({ model: 'gpt-4o', input: 'hi' }), ctx({ maxResponseBytes: 200 }))));
    expect(big).toMatchObject({ status: 502, code: 'upstream_response_too_large' });
    const bigEvent = gatewayError(
      await rejectionOf(forwardResponses(provider, body({ model: 'gpt-4o', input: 'hi', stream: true }), ctx({ maxResponseBytes: 200 }))),
    );
    expect(bigEvent).toMatchObject({ status: 502, code: 'upstream_response_too_large' });
  });
});

describe('OpenAIProvider.forward (Responses API) against a faulty upstream', () => {
  let up: ScriptedUpstream;
  let provider: OpenAIProvider;
  beforeAll(async () => {
    up = await startScriptedUpstream('/v1');
    provider = new OpenAIProvider({ apiKey: KEY, baseUrl: up.url, explicitBaseUrl: true, prices });
  });
  afterAll(() => up.close());

  const request = body({ model: 'gpt-4o-mini', input: 'hi', stream: true });

  test('events are yielded as they arrive, before the upstream has sent the rest', async () => {
    let sendRest: (() => void) | undefined;
    up.script((_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.write(RECORDED_EVENTS[0]);
      sendRest = () => res.end(RECORDED_EVENTS.slice(1).join(''));
    });
    const events = (await stream(provider, request)).events[Symbol.asyncIterator]();
    const first = await events.next();
    expect(first.value?.type).toBe('response.created');
    expect(sendRest).toBeDefined(); // the rest is still held back by the upstream
    sendRest!();
    const rest: string[] = [];
    for (let e = await events.next(); !e.done; e = await events.next()) rest.push(e.value.type);
    expect(rest.at(-1)).toBe('response.completed');
    expect(rest).toHaveLength(RECORDED_EVENTS.length - 1);
  });

  test('a body that ends before a terminal event is a truncation (502, retryable)', async () => {
    up.script((_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.end(RECORDED_EVENTS.slice(0, 5).join(''));
    });
    const answer = await stream(provider, request);
    const err = gatewayError(await rejectionOf(drain(answer.events)));
    expect(err).toMatchObject({ status: 502, code: 'upstream_truncated', retryable: true });

    up.script((_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.end();
    });
    expect(gatewayError(await rejectionOf(forwardResponses(provider, request, ctx())))).toMatchObject({ status: 502, code: 'upstream_truncated' });
  });

  test('an error event mid-stream is the provider failing: 502, its text kept for the log', async () => {
    const errorEvent = 'event: error\ndata: {"type":"error","code":"server_error","message":"The server had an error","param":null,"sequence_number":4}\n\n';
    up.script((_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.end(RECORDED_EVENTS.slice(0, 4).join('') + errorEvent);
    });
    const answer = await stream(provider, request);
    const err = gatewayError(await rejectionOf(drain(answer.events)));
    expect(err).toMatchObject({ status: 502, code: 'upstream_error', retryable: true, detail: 'The server had an error' });
    expect(err.message).not.toContain('The server had an error');
  });

  test('a response.failed event ends the stream normally, with its usage', async () => {
    const failed = {
      type: 'response.failed',
      sequence_number: 2,
      response: {
        id: 'resp_1',
        object: 'response',
        status: 'failed',
        error: { code: 'server_error', message: 'x' },
        usage: { input_tokens: 5, output_tokens: 0, total_tokens: 5 },
      },
    };
    up.script((_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.end(`${RECORDED_EVENTS.slice(0, 2).join('')}event: response.failed\ndata: ${JSON.stringify(failed)}\n\ndata: [DONE]\n\n`);
    });
    const events = await drain((await stream(provider, request)).events);
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.failed']);
    expect(events.at(-1)?.usage).toEqual({ prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 });
  });

  test('a 2xx body that is not JSON is a retryable 502', async () => {
    up.script((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>gateway</html>');
    });
    expect(gatewayError(await rejectionOf(forwardResponses(provider, request, ctx())))).toMatchObject({
      status: 502,
      code: 'upstream_bad_response',
      retryable: true,
    });
  });

  test('a client that goes away cancels the upstream call mid-stream', async () => {
    let closed = false;
    up.script((_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.write(RECORDED_EVENTS[0]);
      res.on('close', () => {
        closed = true;
      });
    });
    const signal = new CancelSignal();
    const events = (await stream(provider, request, ctx({ signal }))).events[Symbol.asyncIterator]();
    expect((await events.next()).value?.type).toBe('response.created');
    const pending = events.next();
    signal.cancel();
    expect(gatewayError(await rejectionOf(pending))).toMatchObject({ status: 499, code: 'client_closed_request' });
    await eventually('the upstream connection is closed', () => closed, 2_000, 5);
  });
});
