// The Lambda chat handler behind an emulated RESPONSE_STREAM function URL, driven by the official
// `openai` client and a raw HTTP client, with the fake OpenAI upstream behind it. The provider key
// comes from Secrets Manager: the real SDK client against a fake endpoint speaking its JSON
// protocol, which records each request and answers with the secret text the test sets.
import http from 'node:http';
import OpenAI from 'openai';
import type { FunctionUrlEvent } from '../../functions/adapters/lambda/function-url';
import { startFakeSecretsManager, type FakeSecretsManager } from '../fakes/aws-services';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { eventually } from '../helpers/eventually';
import { DEFAULT_KEY } from '../helpers/gateway';
import { installLambdaStreamingGlobals, serveFunctionUrl, uninstallLambdaStreamingGlobals, type EmulatedFunctionUrl } from '../helpers/lambda-streaming';
import { fixtureJson } from '../unit/fixture-files';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ai-gateway/provider-keys-AbCdEf';
const ROTATED_KEY = 'sk-rotated-0123456789abcdef';
const ORIGINAL_SECRET = JSON.stringify({ OPENAI_API_KEY: 'sk-test', ANTHROPIC_API_KEY: '' });

interface XGateway {
  provider: string;
  request_id: string;
  cost_usd: number;
}

const ENV = {
  LOG_LEVEL: 'info',
  DEFAULT_PROVIDER: 'openai',
  PROVIDER_SECRET_ARN: SECRET_ARN,
  PROVIDER_SECRET_REFRESH: '1',
  POWERTOOLS_SERVICE_NAME: 'ai-gateway-chat',
  POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
};

/** The documented function URL event (test/fixtures/lambda), carrying the emulated request's method, path, headers and body. */
function documentedEvent(emulated: FunctionUrlEvent): FunctionUrlEvent {
  const doc = fixtureJson<FunctionUrlEvent & { requestContext: { http: Record<string, string> } }>('lambda/function-url-event.json');
  doc.rawPath = emulated.rawPath;
  doc.rawQueryString = emulated.rawQueryString ?? '';
  doc.headers = { ...doc.headers, ...emulated.headers };
  doc.requestContext.http.method = emulated.requestContext.http.method;
  doc.requestContext.http.path = emulated.rawPath;
  doc.body = emulated.body ?? null;
  doc.isBase64Encoded = emulated.isBase64Encoded ?? false;
  return doc;
}

/** POSTs with a raw HTTP client and notes when each body chunk arrived. */
function postTimed(url: string, body: unknown): Promise<{ status: number; chunks: Array<{ at: number; text: string }>; started: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' } }, (res) => {
      const chunks: Array<{ at: number; text: string }> = [];
      res.setEncoding('utf8');
      res.on('data', (text: string) => chunks.push({ at: Date.now() - started, text }));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, chunks, started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('chat Lambda (function URL, response streaming) with the OpenAI SDK', () => {
  let upstream: FakeUpstream;
  let secrets: FakeSecretsManager;
  let fn: EmulatedFunctionUrl;
  let documented: EmulatedFunctionUrl;
  let client: OpenAI;
  const saved: Record<string, string | undefined> = {};
  /** What the function printed (Powertools logs and EMF go to stdout/stderr, as in Lambda). */
  let output: CapturedOutput;
  const outputLines = (): Array<Record<string, unknown>> => output.lines();
  /** The Secrets Manager calls made while the function started (cold start). */
  let coldStartCalls: Array<[string, unknown]>;
  /** How far the function's clock runs ahead of real time: a test moves it on instead of waiting. */
  let clockAheadMs = 0;
  let clock: jest.Spied<typeof Date.now>;

  beforeAll(async () => {
    output = captureOutput();
    [upstream, secrets] = await Promise.all([startOpenAIUpstream(), startFakeSecretsManager()]);
    secrets.text = ORIGINAL_SECRET;
    // The handler reads its configuration at import (cold start): env and globals come first.
    const env = {
      ...ENV,
      OPENAI_BASE_URL: upstream.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    installLambdaStreamingGlobals();
    // The handler's clock (for the PROVIDER_SECRET_REFRESH interval) is Date.now, taken at the cold start.
    const realNow = Date.now;
    clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + clockAheadMs);
    const { handler } = await import('../../functions/chat/handler');
    fn = await serveFunctionUrl(handler);
    documented = await serveFunctionUrl((event, stream, context) => handler(documentedEvent(event), stream, context));
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: `${fn.url}/v1`, maxRetries: 0 });
    await eventually('the cold start to read the provider keys', () => outputLines().some((l) => l.message === 'provider keys read'));
    coldStartCalls = secrets.requests.map((r) => [r.action, r.body]);
  });

  afterAll(async () => {
    await fn?.close();
    await documented?.close();
    await upstream?.close();
    await secrets?.close();
    output.restore();
    clock?.mockRestore();
    uninstallLambdaStreamingGlobals();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  afterEach(() => upstream.setBehaviour(null));

  test('sync completion returns the answer with x_gateway and the gateway headers', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
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

  test('the provider key came from the secret: exactly one GetSecretValue for PROVIDER_SECRET_ARN at cold start', () => {
    expect(coldStartCalls).toEqual([['GetSecretValue', { SecretId: SECRET_ARN }]]);
    expect(outputLines()).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'provider keys read', providers: ['openai'] }));
  });

  test("the documented function URL event, streamed: the first chunk reaches the HTTP client before the upstream's 300 ms pause ends", async () => {
    upstream.setBehaviour({ streamChunks: 2, chunkDelayMs: 300 });
    const res = await postTimed(`${documented.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'two' }], stream: true });
    expect(res.status).toBe(200);
    const first = res.chunks.find((c) => c.text.includes('tok0'));
    const second = res.chunks.find((c) => c.text.includes('tok1'));
    expect(first && second).toBeTruthy();
    // The upstream waits 300 ms between its events: the client holds tok0 at least ~300 ms before tok1.
    expect(second!.at - first!.at).toBeGreaterThan(250);
    expect(res.chunks.at(-1)!.at - first!.at).toBeGreaterThan(250);
    expect(res.chunks.map((c) => c.text).join('')).toContain('data: [DONE]');
  });

  test('each invocation prints its EMF metrics and JSON logs with the request id, and never the provider key', async () => {
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'secret prompt 7f3a' }] }).withResponse();
    const requestId = response.headers.get('x-request-id');
    const lines = outputLines();
    const emf = lines.filter((l) => l._aws !== undefined && l.aigateway_requests_total !== undefined && l.status === '200');
    expect(emf.length).toBeGreaterThan(0);
    expect(emf.at(-1)).toMatchObject({ service: 'ai-gateway-chat', tenant: 'default', provider: 'openai', aigateway_requests_total: 1 });
    expect(JSON.stringify(emf.at(-1)?._aws)).toContain('"Namespace":"AiGateway"');
    expect(lines.some((l) => l.aigateway_request_duration_seconds !== undefined)).toBe(true);
    expect(requestId).toMatch(/^req-/);
    // One access-log line per request: Powertools JSON with the tenant, provider, model and cost.
    const access = lines.find((l) => l.message === 'request completed' && l.request_id === requestId);
    expect(access).toMatchObject({ level: 'INFO', tenant: 'default', provider: 'openai', status: 200, cache_hit: false, stream: false });
    expect(access?.cost_usd).toBeGreaterThan(0);
    expect(String(access?.model)).toMatch(/^gpt-4o/);
    expect(output.text()).not.toContain('sk-test');
    expect(output.text()).not.toContain('secret prompt 7f3a'); // the prompt is never logged
  });

  test('usage is handed over before the invocation ends: GET /v1/usage counts the request just made', async () => {
    const before = (await (await fetch(`${fn.url}/v1/usage`, { headers: { authorization: `Bearer ${DEFAULT_KEY}` } })).json()) as { request_count: number };
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'count me' }] });
    const after = (await (await fetch(`${fn.url}/v1/usage`, { headers: { authorization: `Bearer ${DEFAULT_KEY}` } })).json()) as {
      request_count: number;
      tenant_id: string;
    };
    expect(after).toMatchObject({ tenant_id: 'default', request_count: before.request_count + 1 });
  });

  test('stream: true iterates the chunks; x_gateway rides on the last, the finish_reason chunk', async () => {
    upstream.setBehaviour({ streamChunks: 3 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'count' }], stream: true });
    let text = '';
    const metas: XGateway[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      const meta = (chunk as unknown as { x_gateway?: XGateway }).x_gateway;
      if (meta) {
        expect(chunk.choices[0]?.finish_reason).toBe('stop');
        metas.push(meta);
      }
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
    await eventually('the upstream request aborted', () => upstream.aborted !== abortedBefore, 2_000, 20);
    expect(upstream.aborted).toBe(abortedBefore + 1);
  });

  test('a body over MAX_BODY_BYTES is refused with the OpenAI-shaped 413 before going upstream', async () => {
    const sent = upstream.requests.length;
    const huge = 'x'.repeat(6 * 1024 * 1024 + 1);
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: huge }] })).rejects.toMatchObject({
      status: 413,
      error: { code: 'request_too_large' },
    });
    expect(upstream.requests.length).toBe(sent);
  });

  test('GET /v1/models/{id} answers a provider/model name through the same handler', async () => {
    const model = await client.models.retrieve('openai/gpt-4o');
    expect(model).toMatchObject({ id: 'openai/gpt-4o', object: 'model', x_gateway: { provider: 'openai' } });
    await expect(client.models.retrieve('openai/no-such-model')).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  test('GET /health answers through the same handler', async () => {
    const res = await fetch(`${fn.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ providers: { openai: 'ok' } });
  });

  test('a rotated key is read in the background after PROVIDER_SECRET_REFRESH and used from then on, never logged', async () => {
    const calls = secrets.requests.length;
    /** The Authorization header each request carried upstream (the fake refuses any key but sk-test: fine here). */
    const seen: string[] = [];
    const askUntilUpstreamSees = (key: string): Promise<unknown> =>
      eventually(
        `the upstream to see ${key === ROTATED_KEY ? 'the rotated' : 'the original'} key`,
        async () => {
          await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'rotate' }] }).catch(() => undefined);
          seen.push(upstream.requests.at(-1)?.headers.authorization ?? '');
          return seen.at(-1) === `Bearer ${key}`;
        },
        5_000,
        10,
      );
    try {
      secrets.text = JSON.stringify({ OPENAI_API_KEY: ROTATED_KEY, ANTHROPIC_API_KEY: '' });
      clockAheadMs += 1_100; // past the 1 s refresh interval
      await askUntilUpstreamSees(ROTATED_KEY);
      // The request that noticed the stale secret was still served with the cached key.
      expect(seen[0]).toBe('Bearer sk-test');
      expect(seen.at(-1)).toBe(`Bearer ${ROTATED_KEY}`);
      expect(secrets.requests.length).toBeGreaterThan(calls);
      expect(secrets.requests.every((r) => r.action === 'GetSecretValue' && JSON.stringify(r.body) === JSON.stringify({ SecretId: SECRET_ARN }))).toBe(true);
      expect(outputLines()).toContainEqual(expect.objectContaining({ message: 'provider keys changed; serving with the new keys' }));
      expect(output.text()).not.toContain(ROTATED_KEY);
    } finally {
      // Back to the key the other tests expect, the same way.
      secrets.text = ORIGINAL_SECRET;
      clockAheadMs += 1_100;
      await askUntilUpstreamSees('sk-test');
    }
  });
});
