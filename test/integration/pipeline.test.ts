// The pipeline's steps seen from a client: cache, rate limit, circuit breaker, accounting.
import OpenAI from 'openai';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface Meta {
  x_gateway: { cache_hit: boolean; cost_usd: number; provider: string };
}

const auth = (key = DEFAULT_KEY): Record<string, string> => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const body = (extra: Record<string, unknown> = {}): string => JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'cache me' }], ...extra });

describe('pipeline steps', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
    gw.tenants.put('gw-limited', { ...DEFAULT_TENANT, id: 'limited', name: 'limited', rate_limit_rpm: 3 });
    gw.tenants.put('gw-other', { ...DEFAULT_TENANT, id: 'other', name: 'other' });
    gw.tenants.put('gw-off', { ...DEFAULT_TENANT, id: 'off', name: 'off', enabled: false });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });
  afterEach(() => upstream.setBehaviour(null));

  const post = (b: string, headers = auth()): Promise<Response> => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body: b });

  describe('cache', () => {
    test('a deterministic request is served from cache the second time, at zero cost', async () => {
      const b = body({ temperature: 0, messages: [{ role: 'user', content: 'deterministic 1' }] });
      const first = (await (await post(b)).json()) as Meta;
      const calls = upstream.requests.length;
      const second = (await (await post(b)).json()) as Meta;
      expect(first.x_gateway.cache_hit).toBe(false);
      expect(first.x_gateway.cost_usd).toBeGreaterThan(0);
      expect(second.x_gateway).toMatchObject({ cache_hit: true, cost_usd: 0, provider: 'openai' });
      expect(upstream.requests.length).toBe(calls);
    });

    test('non-deterministic requests are not cached unless X-Cache-TTL asks', async () => {
      const b = body({ messages: [{ role: 'user', content: 'creative' }] });
      await post(b);
      expect(((await (await post(b)).json()) as Meta).x_gateway.cache_hit).toBe(false);
      await post(b, { ...auth(), 'x-cache-ttl': '60' });
      expect(((await (await post(b, { ...auth(), 'x-cache-ttl': '60' })).json()) as Meta).x_gateway.cache_hit).toBe(true);
      // X-Cache-TTL: 0 turns caching off even for a deterministic request.
      const d = body({ temperature: 0, messages: [{ role: 'user', content: 'no cache' }] });
      await post(d, { ...auth(), 'x-cache-ttl': '0' });
      expect(((await (await post(d, { ...auth(), 'x-cache-ttl': '0' })).json()) as Meta).x_gateway.cache_hit).toBe(false);
    });

    test('a cached answer is never served to another tenant', async () => {
      const b = body({ temperature: 0, messages: [{ role: 'user', content: 'tenant scoped' }] });
      await post(b);
      expect(((await (await post(b)).json()) as Meta).x_gateway.cache_hit).toBe(true);
      expect(((await (await post(b, auth('gw-other'))).json()) as Meta).x_gateway.cache_hit).toBe(false);
    });

    test('a streaming request is served from cache as a replayed SSE stream', async () => {
      const messages = [{ role: 'user' as const, content: 'replay me' }];
      const client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
      const sync = await client.chat.completions.create({ model: 'gpt-4o', messages, temperature: 0 });
      const calls = upstream.requests.length;
      const final = await client.chat.completions.stream({ model: 'gpt-4o', messages, temperature: 0 }).finalChatCompletion();
      expect(upstream.requests.length).toBe(calls);
      expect(final.choices[0]?.message.content).toBe(sync.choices[0]?.message.content);
    });

    test('a streamed deterministic answer is cached too, and replays to a sync client', async () => {
      const messages = [{ role: 'user' as const, content: 'stream first' }];
      const client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
      const streamed = await client.chat.completions.stream({ model: 'gpt-4o', messages, temperature: 0 }).finalChatCompletion();
      const calls = upstream.requests.length;
      const sync = await client.chat.completions.create({ model: 'gpt-4o', messages, temperature: 0 });
      expect(upstream.requests.length).toBe(calls);
      expect((sync as unknown as Meta).x_gateway.cache_hit).toBe(true);
      expect(sync.choices[0]?.message.content).toBe(streamed.choices[0]?.message.content);
      expect(sync.choices[0]?.finish_reason).toBe('stop');
    });
  });

  describe('rate limit', () => {
    test("requests over the tenant's per-minute limit get 429 with Retry-After and x-ratelimit headers", async () => {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await post(body(), auth('gw-limited'));
        statuses.push(last.status);
        if (i === 0) {
          expect(last.headers.get('x-ratelimit-limit-requests')).toBe('3');
          expect(last.headers.get('x-ratelimit-remaining-requests')).toBe('2');
          expect(last.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
        }
        if (i < 3) await last.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(last?.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const err = (await last?.json()) as { error: { code: string; type: string } };
      expect(err.error).toMatchObject({ code: 'rate_limit_exceeded' });
    });

    test("tokens per minute: once a window's spent tokens reach the limit, requests get 429 with x-ratelimit-*-tokens", async () => {
      // The recorded completion uses 51 tokens: the first request passes (0 spent), the second
      // too (51 < 60), the third is refused (102 ≥ 60).
      gw.tenants.put('gw-tpm', { ...DEFAULT_TENANT, id: 'tpm', name: 'tpm', rate_limit_tpm: 60 });
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 3; i++) {
        last = await post(body({ messages: [{ role: 'user', content: `tpm ${i}` }] }), auth('gw-tpm'));
        statuses.push(last.status);
        if (i === 0) expect(last.headers.get('x-ratelimit-limit-tokens')).toBe('60');
        await last.arrayBuffer();
        await new Promise((r) => setImmediate(r)); // the token count is recorded after the answer
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(last?.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    test('a tenant whose monthly budget is spent gets 429 insufficient_quota, unless it allows overage', async () => {
      // One recorded completion on gpt-4o costs about 0.0004 USD; the budget covers one request's reservation.
      gw.tenants.put('gw-budget', { ...DEFAULT_TENANT, id: 'budget', name: 'budget', budget_usd: 0.002 });
      gw.tenants.put('gw-overage', { ...DEFAULT_TENANT, id: 'overage', name: 'overage', budget_usd: 0.0000001, allow_overage: true });
      const first = await post(body({ max_tokens: 50, messages: [{ role: 'user', content: 'budget 1' }] }), auth('gw-budget'));
      expect(first.status).toBe(200);
      await first.arrayBuffer();
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await post(body({ max_tokens: 50, messages: [{ role: 'user', content: `budget more ${i}` }] }), auth('gw-budget'));
        statuses.push(res.status);
        if (res.status === 429) {
          expect(((await res.json()) as { error: { code: string; type: string } }).error).toMatchObject({
            code: 'insufficient_quota',
            type: 'insufficient_quota',
          });
          break;
        }
        await res.arrayBuffer();
      }
      expect(statuses.at(-1)).toBe(429);
      for (let i = 0; i < 3; i++) expect((await post(body({ messages: [{ role: 'user', content: `overage ${i}` }] }), auth('gw-overage'))).status).toBe(200);
    });

    test('a disabled tenant gets 403', async () => {
      const res = await post(body(), auth('gw-off'));
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('tenant_disabled');
    });
  });

  describe('accounting', () => {
    test('each completed request emits one usage event that the aggregator totals for the tenant', async () => {
      gw.tenants.put('gw-acct', { ...DEFAULT_TENANT, id: 'acct', name: 'acct' });
      const costs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = (await (await post(body({ messages: [{ role: 'user', content: `acct ${i}` }] }), auth('gw-acct'))).json()) as Meta;
        costs.push(res.x_gateway.cost_usd);
      }
      const day = new Date().toISOString();
      await gw.gateway.flush();
      const totals = await gw.usage.stores.store.totals('acct', day, day);
      expect(totals.request_count).toBe(3);
      expect(totals.cost_usd).toBeCloseTo(
        costs.reduce((a, b) => a + b, 0),
        10,
      );
      expect(totals.prompt_tokens).toBeGreaterThan(0);

      // The tenant sees the same through GET /v1/usage, in the seed's shape.
      const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: auth('gw-acct') })).json()) as Record<string, unknown>;
      expect(usage).toMatchObject({ tenant_id: 'acct', request_count: 3, budget_usd: DEFAULT_TENANT.budget_usd });
      expect(usage.total_cost_usd).toBeCloseTo(totals.cost_usd, 10);
      expect(usage.budget_used_pct).toBeCloseTo((totals.cost_usd / DEFAULT_TENANT.budget_usd) * 100, 5);
      expect(String(usage.period_start)).toMatch(/^\d{4}-\d{2}-01T00:00:00Z$/);
    });
  });
});

describe('limits and budget together', () => {
  test('requests a rate limit refuses give their budget reservation back', async () => {
    const upstream = await startOpenAIUpstream();
    let now = Date.UTC(2030, 0, 10, 12, 0, 0);
    const gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url }, { now: () => now });
    try {
      // One gpt-4o completion costs ~0.0004 USD and reserves ~0.0006 (max_tokens 50): the budget
      // has room for the first request and two more reservations, not for six held ones.
      gw.tenants.put('gw-both', { ...DEFAULT_TENANT, id: 'both', name: 'both', rate_limit_rpm: 1, budget_usd: 0.002 });
      const send = (content: string): Promise<Response> =>
        fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: auth('gw-both'),
          body: body({ max_tokens: 50, messages: [{ role: 'user', content }] }),
        });
      expect((await send('first')).status).toBe(200);
      for (let i = 0; i < 6; i++) {
        const refused = await send(`over the limit ${i}`);
        expect(refused.status).toBe(429);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
      }
      now += 60_000; // the next minute: the limit admits again, and the budget still has room
      expect((await send('next minute')).status).toBe(200);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

describe('circuit breaker', () => {
  test('opens after consecutive provider failures: requests then fail fast with 503 and /health shows it', async () => {
    const upstream = await startOpenAIUpstream();
    let now = 1_000_000;
    const gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url }, { now: () => now, routing: { fallback_providers: [] } });
    try {
      upstream.setBehaviour({ status: 503 });
      const send = (): Promise<Response> => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: body() });
      for (let i = 0; i < 5; i++) expect((await send()).status).toBe(502);
      const calls = upstream.requests.length;
      const rejected = await send();
      expect(rejected.status).toBe(503);
      expect(((await rejected.json()) as { error: { code: string } }).error.code).toBe('circuit_open');
      expect(upstream.requests.length).toBe(calls); // no network call while open
      const health = (await (await fetch(`${gw.url}/health`)).json()) as { circuit_breakers: Record<string, string> };
      expect(health.circuit_breakers.openai).toBe('open');

      // After open_seconds, a probe goes through; success_threshold (3) successes close it.
      upstream.setBehaviour(null);
      now += 30_000;
      for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200);
      now += 6_000; // past the health cache
      const healed = (await (await fetch(`${gw.url}/health`)).json()) as { circuit_breakers: Record<string, string> };
      expect(healed.circuit_breakers.openai).toBe('closed');
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

describe('the documented local key', () => {
  test('DEFAULT_TENANT_ENABLED=false turns gw-default-key off (as the deployed stack does)', async () => {
    const gw = await startGateway({ DEFAULT_TENANT_ENABLED: 'false' });
    try {
      const res = await fetch(`${gw.url}/v1/models`, { headers: auth() });
      expect(res.status).toBe(401);
    } finally {
      await gw.close();
    }
  });
});

describe('tenant model policy', () => {
  test('a model outside allowed_models gets 403 naming it, and fallback never leaves the list', async () => {
    const upstream = await startOpenAIUpstream();
    const gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, OLLAMA_BASE_URL: 'http://127.0.0.1:1' });
    try {
      gw.tenants.put('gw-limited-models', { ...DEFAULT_TENANT, id: 'lm', name: 'lm', allowed_models: ['gpt-4o'] });
      const ask = (model: string): Promise<Response> =>
        fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: auth('gw-limited-models'),
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
        });
      expect((await ask('gpt-4o')).status).toBe(200);
      const refused = await ask('gpt-4o-mini');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { message: string; param: string; code: string } }).error).toMatchObject({
        param: 'model',
        code: 'model_not_allowed',
        message: expect.stringContaining('gpt-4o-mini'),
      });
      // OpenAI failing: the automatic fallback (ollama/llama3.2) is not on the list, so it is not tried.
      upstream.setBehaviour({ status: 500 });
      const failed = await ask('gpt-4o');
      expect(failed.status).toBe(502);
      expect(((await failed.json()) as { error: { message: string } }).error.message).not.toContain('ollama');
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
