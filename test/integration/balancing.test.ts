// Deployments behind one gateway: three OpenAI-compatible fakes under named providers, routes that
// balance them by weight or by latency, a fallback chain that keeps its order, and a failing
// first pick falling back to the next deployment. Requests are counted at each fake.
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface Answer {
  status: number;
  provider: string;
  attempts: Array<{ provider: string; model: string; status: number }>;
}

const NAMES = ['east', 'west', 'north'] as const;
type Name = (typeof NAMES)[number];

describe('balanced routes', () => {
  const fakes = {} as Record<Name, FakeUpstream>;
  let gw: TestGateway;

  beforeAll(async () => {
    const started = await Promise.all(NAMES.map(() => startOpenAIUpstream()));
    NAMES.forEach((name, i) => {
      fakes[name] = started[i] as FakeUpstream;
    });
    const providers = Object.fromEntries(NAMES.map((name) => [name, { type: 'openai', base_url: fakes[name].url, api_key_env: 'FAKES_KEY' }]));
    gw = await startGateway(
      { FAKES_KEY: 'sk-test' },
      {
        routing: {
          providers,
          routes: {
            'gpt-4o': {
              strategy: 'weighted',
              targets: [
                { provider: 'east', model: 'gpt-4o', weight: 3 },
                { provider: 'west', model: 'gpt-4o', weight: 1 },
                { provider: 'north', model: 'gpt-4o-2024-08-06' },
              ],
            },
            // Its own deployments (latency is kept per provider and model, whichever route used them).
            fast: {
              strategy: 'least-latency',
              targets: [
                { provider: 'east', model: 'gpt-4o-mini-2024-07-18' },
                { provider: 'west', model: 'gpt-4o-mini-2024-07-18' },
              ],
            },
            streams: {
              strategy: 'least-latency',
              targets: [
                { provider: 'east', model: 'gpt-4o-mini-streams' },
                { provider: 'west', model: 'gpt-4o-mini-streams' },
              ],
            },
            chain: {
              targets: [
                { provider: 'east', model: 'gpt-4o-mini' },
                { provider: 'west', model: 'gpt-4o-mini' },
              ],
            },
          },
          circuit_breaker: { failure_threshold: 1000, success_threshold: 1, open_seconds: 30 },
        },
      },
    );
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(NAMES.map((name) => fakes[name].close()));
  });
  afterEach(() => {
    for (const name of NAMES) fakes[name].setBehaviour(null);
  });

  async function ask(model: string): Promise<Answer> {
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] }),
    });
    const body = (await res.json()) as { x_gateway?: { provider: string; attempts: Answer['attempts'] } };
    return { status: res.status, provider: body.x_gateway?.provider ?? '', attempts: body.x_gateway?.attempts ?? [] };
  }

  /** Chat requests each fake receives while `run` runs. */
  async function counted(run: () => Promise<void>): Promise<Record<Name, number>> {
    const chats = (name: Name): number => fakes[name].requests.filter((r) => r.path.endsWith('/chat/completions')).length;
    const before = NAMES.map(chats);
    await run();
    return Object.fromEntries(NAMES.map((name, i) => [name, chats(name) - (before[i] ?? 0)])) as Record<Name, number>;
  }

  /** `n` requests, `concurrency` at a time; the providers that answered, in order of completion. */
  async function load(model: string, n: number, concurrency = 1): Promise<string[]> {
    const answered: string[] = [];
    let sent = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < n) {
          sent++;
          const answer = await ask(model);
          expect(answer.status).toBe(200);
          answered.push(answer.provider);
        }
      }),
    );
    return answered;
  }

  test('weighted: 1,000 requests split 3:1:1 within a few percent, each deployment named in x_gateway', async () => {
    const counts = await counted(async () => {
      await load('gpt-4o', 1000, 8);
    });
    expect(counts.east + counts.west + counts.north).toBe(1000);
    expect(counts.east / 1000).toBeCloseTo(0.6, 1);
    expect(Math.abs(counts.east - 600)).toBeLessThanOrEqual(30);
    expect(Math.abs(counts.west - 200)).toBeLessThanOrEqual(30);
    expect(Math.abs(counts.north - 200)).toBeLessThanOrEqual(30);
    const sent = fakes.north.requests.at(-1)?.json as { model: string };
    expect(sent.model).toBe('gpt-4o-2024-08-06');
  });

  test('a failing first pick falls back to the next deployment, by descending weight', async () => {
    fakes.north.setBehaviour({ status: 503 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask('gpt-4o')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const fellBack = answers.filter((a) => a.attempts[0]?.provider === 'north');
    expect(fellBack.length).toBeGreaterThanOrEqual(1);
    for (const answer of fellBack) {
      expect(answer.attempts.map((a) => [a.provider, a.model, a.status])).toEqual([
        ['north', 'gpt-4o-2024-08-06', 502],
        ['east', 'gpt-4o', 200],
      ]);
    }
  });

  test('a route without strategy or weights is a fallback chain in the order given, as before', async () => {
    const counts = await counted(async () => {
      expect(new Set(await load('chain', 20, 4))).toEqual(new Set(['east']));
    });
    expect(counts).toEqual({ east: 20, west: 0, north: 0 });
    fakes.east.setBehaviour({ status: 500, times: 1 });
    const answer = await ask('chain');
    expect(answer.attempts.map((a) => `${a.provider}:${a.status}`)).toEqual(['east:502', 'west:200']);
  });

  test('least-latency: traffic leaves a slowed deployment within a few requests and comes back after it recovers', async () => {
    // west answers in ~40 ms throughout; east is fast, then slow, then fast again.
    fakes.west.setBehaviour({ delayMs: 40 });
    const warm = await load('fast', 20);
    expect(warm.slice(10).filter((p) => p === 'east').length).toBeGreaterThanOrEqual(8);

    fakes.east.setBehaviour({ delayMs: 150 });
    const slowed = await load('fast', 30);
    // After the first slow answer only exploration (one pick in ten) still reaches east.
    expect(slowed.slice(5).filter((p) => p === 'east').length).toBeLessThanOrEqual(3);

    fakes.east.setBehaviour(null);
    const recovered = await load('fast', 60);
    expect(recovered.slice(40).filter((p) => p === 'east').length).toBeGreaterThanOrEqual(15);
  });

  test('least-latency times a stream to its first chunk, not to its end', async () => {
    // east starts at once but trickles its chunks; west starts 40 ms late.
    fakes.east.setBehaviour({ streamChunks: 3, chunkDelayMs: 25 });
    fakes.west.setBehaviour({ delayMs: 40 });
    const counts = await counted(async () => {
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${gw.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'streams', stream: true, messages: [{ role: 'user', content: 'Hello' }] }),
        });
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('[DONE]');
      }
    });
    // Both measured once (no data goes first), then east but for one exploring pick.
    expect(counts.east).toBeGreaterThanOrEqual(9);
  });
});
