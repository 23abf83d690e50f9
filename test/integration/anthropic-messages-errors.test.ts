// What an Anthropic client is told when the gateway refuses or fails a request on /v1/messages:
// Anthropic's error shape `{"type":"error","error":{"type","message"}}` with its error types and
// status codes (529 overloaded_error where the gateway's own answer is 503), the gateway's
// headers kept (x-request-id, retry-after); and a stream that fails after its first byte ends with
// Anthropic's `error` event.
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { startAnthropicUpstream, type FakeUpstream } from '../fakes/anthropic-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface AnthropicError {
  type: string;
  error: { type: string; message: string };
}

const MODEL = 'anthropic/claude-haiku-4-5';
const MAX_BODY_BYTES = 20_000;
const body = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], ...extra });

describe('errors on the Messages API', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let now = 1_000_000;

  beforeAll(async () => {
    upstream = await startAnthropicUpstream();
    gw = await startGateway(
      { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: upstream.url, MAX_BODY_BYTES: String(MAX_BODY_BYTES) },
      { now: () => now, routing: { fallback_providers: [] } },
    );
    gw.tenants.put('gw-off', { ...DEFAULT_TENANT, id: 'off', name: 'off', enabled: false });
    gw.tenants.put('gw-only-gpt', { ...DEFAULT_TENANT, id: 'only-gpt', name: 'only-gpt', allowed_models: ['gpt-4o'] });
    gw.tenants.put('gw-one-rpm', { ...DEFAULT_TENANT, id: 'one-rpm', name: 'one-rpm', rate_limit_rpm: 1 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });
  afterEach(() => upstream.setBehaviour(null));

  const post = (payload: string, headers: Record<string, string> = { 'x-api-key': DEFAULT_KEY }): Promise<Response> =>
    fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
      body: payload,
    });

  /** The status, Anthropic error body and request id of an answer that must be an error. */
  async function errorOf(res: Response): Promise<{ status: number; body: AnthropicError; requestId: string | null }> {
    const parsed = (await res.json()) as AnthropicError;
    expect(parsed.type).toBe('error');
    expect(Object.keys(parsed.error).sort()).toEqual(['message', 'type']);
    return { status: res.status, body: parsed, requestId: res.headers.get('x-request-id') };
  }

  test.each([
    ['no key', {}],
    ['an unknown x-api-key', { 'x-api-key': 'gw-nobody' }],
    ['an unknown Bearer key', { authorization: 'Bearer gw-nobody' }],
  ])('401 authentication_error for %s, naming both places a key goes', async (_name, headers) => {
    const { status, body: error, requestId } = await errorOf(await post(body(), headers));
    expect(status).toBe(401);
    expect(error.error.type).toBe('authentication_error');
    expect(requestId).toMatch(/^req-/);
    if (Object.keys(headers).length === 0) expect(error.error.message).toContain('x-api-key header, or as a Bearer token');
  });

  test("the Anthropic SDK's own key header is accepted, and a Bearer token too", async () => {
    const viaKey = new Anthropic({ apiKey: DEFAULT_KEY, baseURL: gw.url, maxRetries: 0 });
    const viaToken = new Anthropic({ authToken: DEFAULT_KEY, apiKey: null, baseURL: gw.url, maxRetries: 0 });
    for (const client of [viaKey, viaToken]) {
      const message = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
      expect(message.type).toBe('message');
    }
  });

  test.each([
    ['a disabled tenant', 'gw-off'],
    ['a model the tenant may not use', 'gw-only-gpt'],
  ])('403 permission_error for %s', async (_name, key) => {
    const { status, body: error } = await errorOf(await post(body(), { 'x-api-key': key }));
    expect(status).toBe(403);
    expect(error.error.type).toBe('permission_error');
  });

  test('404 not_found_error for a model no configured provider serves', async () => {
    const { status, body: error } = await errorOf(await post(body({ model: 'openai/gpt-4o' })));
    expect(status).toBe(404);
    expect(error.error).toMatchObject({ type: 'not_found_error' });
    expect(error.error.message).toContain('"gpt-4o"');
  });

  test('400 invalid_request_error naming the field at fault', async () => {
    const { status, body: error } = await errorOf(await post(body({ max_tokens: undefined })));
    expect(status).toBe(400);
    expect(error.error).toEqual({ type: 'invalid_request_error', message: 'max_tokens: Field required' });
  });

  test('413 request_too_large above MAX_BODY_BYTES', async () => {
    const { status, body: error } = await errorOf(await post(body({ system: 'x'.repeat(MAX_BODY_BYTES) })));
    expect(status).toBe(413);
    expect(error.error.type).toBe('request_too_large');
  });

  test("429 rate_limit_error with retry-after for the tenant's request limit", async () => {
    expect((await post(body(), { 'x-api-key': 'gw-one-rpm' })).status).toBe(200);
    const res = await post(body(), { 'x-api-key': 'gw-one-rpm' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const { status, body: error } = await errorOf(res);
    expect(status).toBe(429);
    expect(error.error.type).toBe('rate_limit_error');
  });

  test('529 overloaded_error when every target is overloaded, and once every breaker is open; the SDK reads it as such', async () => {
    upstream.setBehaviour({ status: 500, times: 1 });
    const failed = await errorOf(await post(body()));
    expect(failed.status).toBe(502);
    expect(failed.body.error.type).toBe('api_error');
    upstream.setBehaviour({ status: 529 });
    for (let i = 0; i < 4; i++) {
      const overloaded = await errorOf(await post(body()));
      expect(overloaded.status).toBe(529);
      expect(overloaded.body.error.type).toBe('overloaded_error');
    }
    // The breaker is open now: the gateway's own 503, answered the same way.
    const { status, body: error } = await errorOf(await post(body()));
    expect(status).toBe(529);
    expect(error.error.type).toBe('overloaded_error');
    const client = new Anthropic({ apiKey: DEFAULT_KEY, baseURL: gw.url, maxRetries: 0 });
    const err = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(529);
    expect((err as APIError).type).toBe('overloaded_error');
    // The breaker closes again after its open period and three successes: later tests start clean.
    upstream.setBehaviour(null);
    now += 60_000;
    for (let i = 0; i < 3; i++) expect((await post(body())).status).toBe(200);
  });

  test("a stream cut after its first byte ends with Anthropic's error event", async () => {
    upstream.setBehaviour({ failAfterChunks: 3 });
    const res = await post(body({ stream: true }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith('event: message_start\n')).toBe(true);
    const last = text.trim().split('\n\n').at(-1) ?? '';
    expect(last.split('\n')[0]).toBe('event: error');
    const data = JSON.parse(last.split('\n')[1]?.slice('data: '.length) ?? 'null') as AnthropicError;
    expect(data.type).toBe('error');
    // The upstream's own mid-stream error (the recorded overloaded_error) keeps its type.
    expect(data.error.type).toBe('overloaded_error');
    expect(text).not.toContain('message_stop');
  });
});
