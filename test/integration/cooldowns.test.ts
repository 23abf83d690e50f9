// Retry-After as a client sees it: an upstream's 429/503 with a retry hint takes that deployment
// out for that long (capped) on every instance sharing state, requests meanwhile go to the other
// targets without touching it, one bounded retry waits it out when nothing else can serve, and
// when every target is cooling the client gets 429 with retry-after. Fake upstreams on 127.0.0.1,
// a fake clock every instance reads, a fake sleep that moves it.
import type { ServerResponse } from 'node:http';
import { startOllamaUpstream, type FakeUpstream } from '../fakes/ollama-upstream';
import { openaiCompletion, startScriptedUpstream, type ScriptedUpstream } from '../fakes/scripted-upstream';
import { startBareInstance, type BareInstance } from '../helpers/bare-instance';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import type { Env } from '../../functions/config';

interface Attempt {
  provider: string;
  model: string;
  status: number;
  error?: string;
}
interface Answer {
  status: number;
  retryAfter: string | null;
  provider?: string;
  attempts: Attempt[];
  error?: { message: string; type: string; code: string | null };
}

const ROUTES = {
  routes: {
    smart: {
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'ollama', model: 'llama3.2' },
      ],
    },
    solo: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
    pair: {
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'groq', model: 'llama-3.1-8b-instant' },
      ],
    },
    claude: {
      targets: [
        { provider: 'anthropic', model: 'claude-haiku-4-5' },
        { provider: 'ollama', model: 'llama3.2' },
      ],
    },
  },
  providers: { groq: { type: 'openai', base_url: 'http://127.0.0.1:1/v1', api_key_env: 'GROQ_API_KEY' } },
};

/** Answers an OpenAI chat call normally, or with `status` and `headers` (a provider-shaped error). */
function openaiScript(upstream: ScriptedUpstream, failure?: { status: number; headers: Record<string, string> }): void {
  upstream.script((_req, res) => {
    if (failure) errorAnswer(res, failure.status, failure.headers, { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } });
    else res.writeHead(200, { 'content-type': 'application/json' }).end(openaiCompletion('hello'));
  });
}

function errorAnswer(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function ask(url: string, model: string, path = '/v1/chat/completions'): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as { x_gateway?: { provider: string; attempts: Attempt[] }; error?: Answer['error'] };
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    provider: body.x_gateway?.provider,
    attempts: body.x_gateway?.attempts ?? [],
    error: body.error,
  };
}

let clock = Date.UTC(2030, 0, 15, 12, 0, 0);
const now = (): number => clock;

describe.each(['redis', 'dynamodb'] as const)('a 429 with retry-after: 20 on two instances sharing state through %s', (backend) => {
  let openai: ScriptedUpstream;
  let ollama: FakeUpstream;
  let redis: RunningRedis | undefined;
  let dynalite: RunningDynalite | undefined;
  const instances: BareInstance[] = [];
  const saved = { ...process.env };

  async function instance(env: Env): Promise<string> {
    const started = await startBareInstance(env, now);
    instances.push(started);
    return started.url;
  }

  beforeAll(async () => {
    openai = await startScriptedUpstream('/v1');
    ollama = await startOllamaUpstream();
    const env: Env = {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      OLLAMA_BASE_URL: ollama.url,
      GROQ_API_KEY: 'sk-groq',
      GATEWAY_CONFIG_JSON: JSON.stringify(ROUTES),
      STORE_TIMEOUT: '5000',
    };
    if (backend === 'redis') {
      redis = await startRedis();
      env.REDIS_URL = redis.url;
    } else {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' });
      dynalite = await startDynalite();
      Object.assign(env, { DYNAMODB_ENDPOINT: dynalite.endpoint, TENANTS_TABLE: `t-${Date.now()}`, STATE_TABLE: `s-${Date.now()}` });
    }
    await instance(env);
    await instance(env);
  });
  afterAll(async () => {
    for (const i of instances) await i.close();
    await redis?.stop();
    await dynalite?.close();
    await openai.close();
    await ollama.close();
    process.env = saved;
  });

  test('the deployment is out for 20 s on both instances, the other target serving without touching it; back after', async () => {
    const [a, b] = instances.map((i) => i.url) as [string, string];
    const started = clock;
    openaiScript(openai, { status: 429, headers: { 'retry-after': '20' } });
    const first = await ask(a, 'smart');
    expect(first).toMatchObject({ status: 200, provider: 'ollama' });
    expect(first.attempts[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o', status: 502, error: expect.stringContaining('status 429') });
    expect(openai.calls).toBe(1);

    // From here OpenAI would answer: any call to it would show as a 200 from openai.
    openaiScript(openai);
    clock += 1001; // past the other instance's cache of the shared state
    for (const url of [a, b, a, b]) {
      const meanwhile = await ask(url, 'smart');
      expect(meanwhile).toMatchObject({ status: 200, provider: 'ollama' });
      expect(meanwhile.attempts[0]).toEqual({ provider: 'openai', model: 'gpt-4o', status: 429, latency_ms: 0, error: 'cooling down for 19 s (retry-after)' });
    }
    expect(openai.calls).toBe(1);

    clock = started + 20_000;
    for (const url of [a, b])
      expect(await ask(url, 'smart')).toMatchObject({ status: 200, provider: 'openai', attempts: [{ provider: 'openai', status: 200 }] });
    expect(openai.calls).toBe(3);
  });
});

describe('one gateway', () => {
  let openai: ScriptedUpstream;
  let groq: ScriptedUpstream;
  let anthropic: ScriptedUpstream;
  let ollama: FakeUpstream;
  let gw: TestGateway | undefined;
  const slept: number[] = [];
  /** The gateway's waits: recorded, and the clock moved instead of the test sleeping. */
  const fakeSleep = async (ms: number): Promise<void> => {
    slept.push(ms);
    clock += ms;
  };

  beforeAll(async () => {
    [openai, groq, anthropic] = await Promise.all([startScriptedUpstream('/v1'), startScriptedUpstream('/v1'), startScriptedUpstream()]);
    ollama = await startOllamaUpstream();
  });
  afterAll(async () => {
    await Promise.all([openai.close(), groq.close(), anthropic.close(), ollama.close()]);
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    slept.length = 0;
    clock += 3_600_000; // no cooldown outlives its test
  });

  async function start(env: Env = {}): Promise<string> {
    const routing = { ...ROUTES, providers: { groq: { ...ROUTES.providers.groq, base_url: groq.url } } };
    gw = await startGateway(
      {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: anthropic.url,
        OLLAMA_BASE_URL: ollama.url,
        GROQ_API_KEY: 'sk-groq',
        ...env,
      },
      { routing, now, sleep: fakeSleep },
    );
    return gw.url;
  }

  test('COOLDOWN_MAX_SECONDS caps a long hint', async () => {
    const url = await start({ COOLDOWN_MAX_SECONDS: '5' });
    const started = clock;
    openaiScript(openai, { status: 429, headers: { 'retry-after': '600' } });
    await ask(url, 'smart');
    openaiScript(openai);
    const calls = openai.calls;
    expect((await ask(url, 'smart')).attempts[0]).toMatchObject({ provider: 'openai', error: 'cooling down for 5 s (retry-after)' });
    clock = started + 5000;
    expect(await ask(url, 'smart')).toMatchObject({ status: 200, provider: 'openai' });
    expect(openai.calls).toBe(calls + 1);
  });

  test("OpenAI's x-ratelimit-reset-* headers without retry-after: the exhausted limit's reset", async () => {
    const url = await start();
    const started = clock;
    openaiScript(openai, {
      status: 429,
      headers: {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '6s',
        'x-ratelimit-remaining-tokens': '9000',
        'x-ratelimit-reset-tokens': '1m0s',
      },
    });
    await ask(url, 'smart');
    openaiScript(openai);
    expect((await ask(url, 'smart')).attempts[0]).toMatchObject({ error: 'cooling down for 6 s (x-ratelimit-reset-requests)' });
    clock = started + 6000;
    expect(await ask(url, 'smart')).toMatchObject({ status: 200, provider: 'openai' });
  });

  test("Anthropic's anthropic-ratelimit-*-reset timestamps, measured against the wall clock", async () => {
    const url = await start();
    // The recorded header set, its timestamps moved to now: input tokens reset last, in 7 s.
    const at = (s: number): string => new Date(Math.ceil(Date.now() / 1000) * 1000 + s * 1000).toISOString();
    const headers = {
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': at(2),
      'anthropic-ratelimit-input-tokens-remaining': '0',
      'anthropic-ratelimit-input-tokens-reset': at(7),
      'anthropic-ratelimit-output-tokens-remaining': '8000',
      'anthropic-ratelimit-output-tokens-reset': at(6),
    };
    anthropic.script((_req, res) => errorAnswer(res, 429, headers, { type: 'error', error: { type: 'rate_limit_error', message: 'Rate limited' } }));
    const first = await ask(url, 'claude');
    expect(first).toMatchObject({ status: 200, provider: 'ollama' });
    const calls = anthropic.calls;
    const meanwhile = await ask(url, 'claude');
    expect(meanwhile.attempts[0]).toMatchObject({
      provider: 'anthropic',
      status: 429,
      error: expect.stringMatching(/^cooling down for [78] s \(anthropic-ratelimit-input-tokens-reset\)$/),
    });
    expect(anthropic.calls).toBe(calls);
  });

  test('a single target: one bounded retry after the advised delay, the client never seeing the 429', async () => {
    const url = await start();
    let calls = 0;
    openai.script((_req, res) => {
      if (++calls === 1) errorAnswer(res, 429, { 'retry-after': '2' }, { error: { message: 'Rate limit reached', type: 'requests', code: null } });
      else res.writeHead(200, { 'content-type': 'application/json' }).end(openaiCompletion('hello'));
    });
    const answer = await ask(url, 'solo');
    expect(answer).toMatchObject({ status: 200, provider: 'openai' });
    expect(answer.attempts).toEqual([
      expect.objectContaining({ provider: 'openai', status: 502, error: expect.stringContaining('status 429') }),
      expect.objectContaining({ provider: 'openai', status: 200 }),
    ]);
    expect(slept).toEqual([2000]);
    expect(calls).toBe(2);
  });

  test('a single target whose wait does not fit REQUEST_DEADLINE: no wait, 429 with retry-after', async () => {
    const url = await start({ REQUEST_DEADLINE: '10' });
    openaiScript(openai, { status: 429, headers: { 'retry-after': '20' } });
    const answer = await ask(url, 'solo');
    expect(answer).toMatchObject({ status: 429, retryAfter: '20', error: { type: 'rate_limit_error', code: 'upstream_cooling_down' } });
    expect(slept).toEqual([]);
  });

  test('COOLDOWN_RETRY=false: no wait, 429 with retry-after', async () => {
    const url = await start({ COOLDOWN_RETRY: 'false' });
    openaiScript(openai, { status: 429, headers: { 'retry-after': '2' } });
    expect(await ask(url, 'solo')).toMatchObject({ status: 429, retryAfter: '2' });
    expect(slept).toEqual([]);
  });

  test("every target cooling: 429 with the smallest remaining cooldown, no upstream called, in each client API's shape", async () => {
    const url = await start({ COOLDOWN_RETRY: 'false' });
    openaiScript(openai, { status: 429, headers: { 'retry-after': '20' } });
    openaiScript(groq, { status: 429, headers: { 'retry-after-ms': '8000' } });
    const first = await ask(url, 'pair');
    expect(first).toMatchObject({ status: 429, retryAfter: '8', error: { code: 'upstream_cooling_down' } });
    expect(first.error?.message).toContain('openai/gpt-4o (20 s, retry-after)');
    expect(first.error?.message).toContain('groq/llama-3.1-8b-instant (8 s, retry-after-ms)');

    const calls = openai.calls + groq.calls;
    clock += 3000;
    expect(await ask(url, 'pair')).toMatchObject({ status: 429, retryAfter: '5' });
    const messages = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': DEFAULT_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'pair', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(messages.status).toBe(429);
    expect(messages.headers.get('retry-after')).toBe('5');
    expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(openai.calls + groq.calls).toBe(calls);
  });

  test('an overloaded upstream (503 with retry-after) cooling every target: 503, which the Messages API says as 529', async () => {
    const url = await start({ COOLDOWN_RETRY: 'false' });
    openaiScript(openai, { status: 503, headers: { 'retry-after': '4' } });
    expect(await ask(url, 'solo')).toMatchObject({ status: 503, retryAfter: '4', error: { code: 'upstream_cooling_down' } });
    const messages = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': DEFAULT_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'solo', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(messages.status).toBe(529);
    expect(messages.headers.get('retry-after')).toBe('4');
  });

  test('a 429 without a hint changes nothing: the next request tries the deployment again', async () => {
    const url = await start();
    openaiScript(openai, { status: 429, headers: {} });
    await ask(url, 'smart');
    const calls = openai.calls;
    openaiScript(openai);
    expect(await ask(url, 'smart')).toMatchObject({ status: 200, provider: 'openai' });
    expect(openai.calls).toBe(calls + 1);
  });
});

describe('the shared store down', () => {
  let openai: ScriptedUpstream;
  let ollama: FakeUpstream;
  let redis: RunningRedis;
  /** Between the instances and Redis: refusing connections is the outage. */
  let proxy: TcpProxy;
  const instances: BareInstance[] = [];

  beforeAll(async () => {
    openai = await startScriptedUpstream('/v1');
    ollama = await startOllamaUpstream();
    redis = await startRedis();
    proxy = await startTcpProxy({ port: Number(new URL(redis.url).port) });
    const env: Env = {
      ADDR: '127.0.0.1:0',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      OLLAMA_BASE_URL: ollama.url,
      GATEWAY_CONFIG_JSON: JSON.stringify({ routes: { smart: ROUTES.routes.smart } }),
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      STORE_TIMEOUT: '200',
    };
    for (let i = 0; i < 2; i++) instances.push(await startBareInstance(env, now));
  });
  afterAll(async () => {
    await proxy.restore(); // the store back first, so the instances close cleanly
    for (const i of instances) await i.close();
    await proxy.close();
    await redis.stop();
    await openai.close();
    await ollama.close();
  });

  test('cooldowns are per instance meanwhile, and every request is served', async () => {
    const [a, b] = instances.map((i) => i.url) as [string, string];
    await proxy.refuse();
    openaiScript(openai, { status: 429, headers: { 'retry-after': '20' } });
    expect(await ask(a, 'smart')).toMatchObject({ status: 200, provider: 'ollama' });
    openaiScript(openai);
    clock += 1001;
    const onA = await ask(a, 'smart');
    expect(onA).toMatchObject({ status: 200, provider: 'ollama' });
    expect(onA.attempts[0]).toMatchObject({ provider: 'openai', error: 'cooling down for 19 s (retry-after)' });
    // The other instance never heard of it: it calls OpenAI, which answers.
    expect(await ask(b, 'smart')).toMatchObject({ status: 200, provider: 'openai' });
  });
});
