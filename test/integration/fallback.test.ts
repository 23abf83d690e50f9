// Fallback and circuit breaking as a client sees them: which failures move to the next target,
// which come back as they are, and a dead provider skipped without a connection attempt.
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import { DEFAULT_TENANT } from '../../functions/core/tenants';

interface Meta {
  x_gateway: { provider: string; model: string; attempts: Array<{ provider: string; model: string; status: number; error?: string }> };
}
interface ErrorBody {
  error: { message: string; code: string | null };
}

const headers = { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' };
const ROUTE = {
  routes: {
    smart: {
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'ollama', model: 'llama3.2' },
      ],
    },
  },
};

/** Reads an SSE body into its data payloads. */
async function sseEvents(res: Response): Promise<string[]> {
  return (await res.text())
    .split('\n\n')
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ''));
}

describe('fallback across route targets', () => {
  let openai: FakeUpstream;
  let ollama: FakeUpstream;
  let gw: TestGateway;
  // The fake's 429 says when its limit resets: each test starts past the cooldown that leaves.
  let clock = Date.now();

  beforeAll(async () => {
    openai = await startOpenAIUpstream();
    ollama = await startOllamaUpstream();
    gw = await startGateway(
      { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url },
      {
        routing: { ...ROUTE, circuit_breaker: { failure_threshold: 1000, success_threshold: 1, open_seconds: 30 } },
        now: () => clock,
      },
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
    clock += 61_000;
  });

  const send = (stream: boolean, extra: Record<string, string> = {}): Promise<Response> =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...headers, ...extra },
      body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hi' }], stream }),
    });

  // Provider-side faults: the next target answers, and attempts say why the first failed.
  const fallsBack = [408, 409, 429, 500, 502, 503, 529, 401, 403];
  // The client's own faults: returned as they are, the next target never called.
  const returned = [400, 404, 413, 422];

  describe.each([false, true])('stream: %s', (stream) => {
    test.each(fallsBack)('upstream %i → the next target answers', async (status) => {
      openai.setBehaviour({ status });
      const ollamaCalls = ollama.requests.length;
      const res = await send(stream);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-provider')).toBe('ollama');
      const meta = stream ? (JSON.parse((await sseEvents(res)).at(-2) ?? '{}') as Meta) : ((await res.json()) as Meta);
      expect(meta.x_gateway.provider).toBe('ollama');
      expect(meta.x_gateway.attempts).toEqual([
        expect.objectContaining({ provider: 'openai', model: 'gpt-4o', status: 502, error: expect.stringContaining(`status ${status}`) }),
        expect.objectContaining({ provider: 'ollama', model: 'llama3.2', status: 200 }),
      ]);
      expect(ollama.requests.length).toBe(ollamaCalls + 1);
    });

    test.each(returned)('upstream %i → returned to the client, no fallback', async (status) => {
      openai.setBehaviour({ status });
      const ollamaCalls = ollama.requests.length;
      const res = await send(stream);
      expect(res.status).toBe(status);
      expect(((await res.json()) as ErrorBody).error.message).toBeTruthy();
      expect(ollama.requests.length).toBe(ollamaCalls);
    });

    test('every target failing → 502 summing up each attempt', async () => {
      openai.setBehaviour({ status: 503 });
      ollama.setBehaviour({ status: 500 });
      const res = await send(stream);
      expect(res.status).toBe(502);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.message).toMatch(/All 2 providers tried failed/);
      expect(body.error.message).toContain('openai/gpt-4o');
      expect(body.error.message).toContain('ollama/llama3.2');
    });
  });

  test('a stream that fails after its first byte ends with an SSE error and does not fall back', async () => {
    openai.setBehaviour({ streamChunks: 10, failAfterChunks: 3 });
    const ollamaCalls = ollama.requests.length;
    const res = await send(true);
    expect(res.status).toBe(200);
    const events = await sseEvents(res);
    expect((JSON.parse(events.at(-1) ?? '{}') as ErrorBody).error.code).toBe('upstream_unreachable');
    expect(ollama.requests.length).toBe(ollamaCalls);
  });

  test('X-Provider forces one provider: no fallback', async () => {
    openai.setBehaviour({ status: 500 });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...headers, 'x-provider': 'openai' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-gateway-provider')).toBe('openai');
  });
});

describe('provider-level fallback', () => {
  let openai: FakeUpstream;
  let ollama: FakeUpstream;
  beforeAll(async () => {
    openai = await startOpenAIUpstream();
    ollama = await startOllamaUpstream();
  });
  afterAll(async () => {
    await openai.close();
    await ollama.close();
  });
  afterEach(() => openai.setBehaviour(null));

  const env = (): Record<string, string> => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url });
  const ask = (gw: TestGateway, key = DEFAULT_KEY): Promise<Response> =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });

  test('without config, every configured provider backs up the others with its default model', async () => {
    const gw = await startGateway(env());
    try {
      openai.setBehaviour({ status: 500 });
      const meta = (await (await ask(gw)).json()) as Meta;
      expect(meta.x_gateway.provider).toBe('ollama');
      expect(meta.x_gateway.attempts.map((a) => `${a.provider}/${a.model}`)).toEqual(['openai/gpt-4o', 'ollama/llama3.2']);
    } finally {
      await gw.close();
    }
  });

  test("providers.<name>.default_model picks the fallback model; fallback_providers: [] turns it off; a tenant's list wins", async () => {
    const gw = await startGateway(env(), { routing: { providers: { ollama: { default_model: 'deepseek-r1' } } } });
    const off = await startGateway(env(), { routing: { fallback_providers: [] } });
    try {
      openai.setBehaviour({ status: 500 });
      const meta = (await (await ask(gw)).json()) as Meta;
      expect(meta.x_gateway.attempts.at(-1)).toMatchObject({ provider: 'ollama', model: 'deepseek-r1', status: 200 });
      expect((await ask(off)).status).toBe(502);
      off.tenants.put('gw-with-fallback', { ...DEFAULT_TENANT, id: 'fb', name: 'fb', fallback_providers: ['ollama'] });
      expect((await ask(off, 'gw-with-fallback')).status).toBe(200);
    } finally {
      await gw.close();
      await off.close();
    }
  });

  test('the overall deadline stops further attempts', async () => {
    const gw = await startGateway({ ...env(), UPSTREAM_TIMEOUT: '1', REQUEST_DEADLINE: '1' });
    try {
      openai.setBehaviour({ hang: true });
      const ollamaCalls = ollama.requests.length;
      const res = await ask(gw);
      expect(res.status).toBe(504);
      expect(((await res.json()) as ErrorBody).error.code).toBe('deadline_exceeded');
      expect(ollama.requests.length).toBe(ollamaCalls);
    } finally {
      await gw.close();
    }
  });
});

describe('circuit breaker in the request path', () => {
  test('a dead provider is skipped without a connection attempt once its breaker opens; /health and /metrics say so', async () => {
    const openai = await startOpenAIUpstream();
    const ollama = await startOllamaUpstream();
    let now = 5_000_000;
    const gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url }, { routing: ROUTE, now: () => now });
    try {
      openai.setBehaviour({ status: 503 });
      const send = (): Promise<Response> =>
        fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] }),
        });
      for (let i = 0; i < 5; i++) expect((await send()).status).toBe(200); // served by ollama each time
      const openaiCalls = openai.requests.length;
      const meta = (await (await send()).json()) as Meta;
      expect(openai.requests.length).toBe(openaiCalls);
      expect(meta.x_gateway.attempts[0]).toMatchObject({ provider: 'openai', status: 503, error: 'circuit open' });
      expect(meta.x_gateway.provider).toBe('ollama');

      now += 6000; // past the health cache
      const health = (await (await fetch(`${gw.url}/health`)).json()) as { circuit_breakers: Record<string, string> };
      expect(health.circuit_breakers).toMatchObject({ openai: 'open', ollama: 'closed' });
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toContain('aigateway_circuit_breaker_state{provider="openai"} 1');
      expect(metrics).toMatch(/aigateway_fallbacks_total\{from="openai",to="ollama"\} 5/);
    } finally {
      await gw.close();
      await openai.close();
      await ollama.close();
    }
  });
});
