// How the gateway answers and records what it refuses, as a client and an operator see it: every
// API response is marked private and typed exactly (no-store, nosniff); a budget refusal says
// what would pass; and every request, refusals included, leaves one access-log line that names
// its status and code but never the key or the prompt.
import { composeGateway } from '../../functions/adapters/compose';
import { loadConfig } from '../../functions/config';
import { createJsonLogger } from '../../functions/core/logger';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { localRoutes } from '../../functions/local/routes';
import { startServer } from '../../functions/local/server';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { eventually } from '../helpers/eventually';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const PROMPT = 'my secret prompt text 7f3a';
const chat = (extra: Record<string, unknown> = {}): string => JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: PROMPT }], ...extra });
const auth = (key = DEFAULT_KEY): Record<string, string> => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

describe('refusals and response headers', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let output: CapturedOutput;

  beforeAll(async () => {
    output = captureOutput();
    upstream = await startOpenAIUpstream();
    gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url }, { log: true, routing: { fallback_providers: [] } });
    gw.tenants.put('gw-tiny-budget', { ...DEFAULT_TENANT, id: 'tiny', name: 'tiny', budget_usd: 0.00001 });
    gw.tenants.put('gw-only-mini', { ...DEFAULT_TENANT, id: 'mini', name: 'mini', allowed_models: ['gpt-4o-mini'] });
    gw.tenants.put('gw-one-rpm', { ...DEFAULT_TENANT, id: 'one-rpm', name: 'one-rpm', rate_limit_rpm: 1 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    output.restore();
  });

  const call = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${gw.url}${path}`, init);
  const post = (body: string, headers = auth()): Promise<Response> => call('/v1/chat/completions', { method: 'POST', headers, body });

  describe('every API response carries x-content-type-options: nosniff and cache-control: no-store', () => {
    const cases: Array<[string, () => Promise<Response>, number]> = [
      ['a completion', () => post(chat()), 200],
      ['a stream', () => post(chat({ stream: true })), 200],
      ['GET /v1/models', () => call('/v1/models', { headers: auth() }), 200],
      ['GET /v1/usage', () => call('/v1/usage', { headers: auth() }), 200],
      ['GET /health', () => call('/health'), 200],
      ['a 400', () => post('{"model":'), 400],
      ['a 401', () => post(chat(), auth('gw-nobody')), 401],
      ['a 404', () => call('/v1/nowhere'), 404],
      ['a 405', () => call('/v1/chat/completions'), 405],
    ];
    test.each(cases)('%s', async (_name, send, status) => {
      const res = await send();
      await res.arrayBuffer();
      expect(res.status).toBe(status);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('a request whose estimate exceeds what is left of the budget is told so', () => {
    test('estimate, what is left and max_tokens, with no rounding to zero', async () => {
      const res = await post(chat(), auth('gw-tiny-budget'));
      expect(res.status).toBe(429);
      const { error } = (await res.json()) as ErrorBody;
      expect(error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
      expect(error.message).toMatch(/cost estimate of 0\.0\d+ USD exceeds the 0\.00001 USD left of tenant "tiny"'s monthly budget of 0\.00001 USD/);
      expect(error.message).toContain('max_tokens');
      expect(error.message).toContain('1024 when unset');
      expect(error.message).not.toContain('has used its monthly budget');
      expect(error.message).not.toContain('0.000000 USD');
    });
  });

  describe('one access-log line per request, refusals included', () => {
    const accessLines = (requestId: string): Array<Record<string, unknown>> =>
      output
        .lines()
        .filter(
          (l) =>
            l.request_id === requestId &&
            (l.message === 'request completed' || l.message === 'request refused' || l.message === 'request served' || l.message === 'request failed'),
        );

    async function lineFor(res: Response): Promise<Record<string, unknown>> {
      await res.arrayBuffer();
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^req-/);
      const lines = accessLines(id!);
      expect(lines).toHaveLength(1);
      return lines[0]!;
    }

    test.each([
      ['400 invalid body', () => post(chat({ temperature: 'hot' })), 400, 'invalid_type'],
      [
        '400 deep JSON',
        () => post(`{"model":"gpt-4o","messages":[{"role":"user","content":"${PROMPT}"}],"x":${'['.repeat(100)}${']'.repeat(100)}}`),
        400,
        'json_too_deep',
      ],
      ['401 unknown key', () => post(chat(), auth('gw-not-a-real-key-123')), 401, 'invalid_api_key'],
      ['403 model not allowed', () => post(chat(), auth('gw-only-mini')), 403, 'model_not_allowed'],
      ['404 unknown path', () => call('/v1/nowhere', { headers: auth() }), 404, 'not_found'],
      ['405 wrong method', () => call('/v1/chat/completions', { method: 'PUT', headers: auth(), body: chat() }), 405, 'method_not_allowed'],
      ['429 over budget', () => post(chat(), auth('gw-tiny-budget')), 429, 'insufficient_quota'],
    ])('%s', async (_name, send, status, code) => {
      const res = await send();
      expect(res.status).toBe(status);
      const line = await lineFor(res);
      expect(line).toMatchObject({ level: 'info', message: 'request refused', status, code });
      expect(typeof line.method).toBe('string');
      expect(typeof line.path).toBe('string');
      expect(typeof line.latency_ms).toBe('number');
      const text = JSON.stringify(line);
      expect(text).not.toContain(PROMPT);
      expect(text).not.toContain('gw-');
    });

    test('429 rate limited', async () => {
      await (await post(chat(), auth('gw-one-rpm'))).arrayBuffer();
      const res = await post(chat(), auth('gw-one-rpm'));
      expect(res.status).toBe(429);
      expect(await lineFor(res)).toMatchObject({ message: 'request refused', status: 429, code: 'rate_limit_exceeded' });
    });

    test("a completion has the accountant's line only, a GET its own", async () => {
      const done = await lineFor(await post(chat()));
      expect(done).toMatchObject({ message: 'request completed', status: 200 });
      expect(await lineFor(await call('/v1/models', { headers: auth() }))).toMatchObject({
        message: 'request served',
        status: 200,
        method: 'GET',
        path: '/v1/models',
      });
    });

    test('a stream has one line, written when it ends', async () => {
      const res = await post(chat({ stream: true }));
      await res.text();
      const id = res.headers.get('x-request-id')!;
      await eventually('the access-log line', () => accessLines(id).length > 0, 2_000, 10);
      expect(accessLines(id)).toEqual([expect.objectContaining({ message: 'request completed', status: 200, stream: true })]);
    });
  });
});

describe('refusals before the body is read, wired as `npm start` wires the server', () => {
  test('an unknown key: 401 with the API headers and one access line, the body never read', async () => {
    const output = captureOutput();
    const logger = createJsonLogger('debug', (l) => process.stderr.write(l));
    const config = loadConfig({ ADDR: '127.0.0.1:0', OLLAMA_BASE_URL: 'http://127.0.0.1:1' }, () => '{}', 'test');
    const local = await composeGateway(config, logger);
    const admin = async (): Promise<never> => {
      throw new Error('no admin here');
    };
    const running = await startServer({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      logger,
      ...localRoutes(local.gateway, admin, true),
    });
    try {
      const res = await fetch(`${running.url}/v1/chat/completions`, { method: 'POST', headers: auth('gw-unknown-key-42'), body: chat() });
      expect(res.status).toBe(401);
      await res.arrayBuffer();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const id = res.headers.get('x-request-id');
      const lines = output.lines().filter((l) => l.request_id === id);
      expect(lines).toEqual([
        expect.objectContaining({ message: 'request refused', status: 401, code: 'invalid_api_key', method: 'POST', path: '/v1/chat/completions' }),
      ]);
      expect(JSON.stringify(lines)).not.toContain('gw-unknown-key-42');
    } finally {
      await running.shutdown(500);
      await local.state.close();
      output.restore();
    }
  });
});
