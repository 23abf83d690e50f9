// Failed requests in the usage a tenant sees: a request that reached a provider and failed is
// counted, against that provider; an attempt an open breaker refused reached none and is never
// the one counted. Chat and embeddings answer alike.
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { DEFAULT_TENANT } from '../../functions/core/tenants';

const ROUTES = {
  chat: {
    path: '/v1/chat/completions',
    openai: 'gpt-4o',
    ollama: 'llama3.2',
    body: (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] }),
  },
  embeddings: { path: '/v1/embeddings', openai: 'text-embedding-3-small', ollama: 'nomic-embed-text', body: (model: string) => ({ model, input: 'hi' }) },
};

interface Rig {
  openai: FakeUpstream;
  ollama: FakeUpstream;
  gw: TestGateway;
  close(): Promise<void>;
}

describe.each(['chat', 'embeddings'] as const)('%s behind an open breaker', (name) => {
  const route = ROUTES[name];

  /** A gateway over both fakes whose breakers open after two failures; `pair` tries openai, then ollama. */
  async function rig(): Promise<Rig> {
    const [openai, ollama] = await Promise.all([startOpenAIUpstream(), startOllamaUpstream()]);
    const gw = await startGateway(
      { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url },
      {
        now: () => 1_000_000,
        routing: {
          fallback_providers: [],
          circuit_breaker: { failure_threshold: 2, success_threshold: 1, open_seconds: 30 },
          routes: {
            pair: {
              targets: [
                { provider: 'openai', model: route.openai },
                { provider: 'ollama', model: route.ollama },
              ],
            },
          },
        },
      },
    );
    for (const id of ['opener', 'measured']) gw.tenants.put(`gw-${id}`, { ...DEFAULT_TENANT, id, name: id });
    return {
      openai,
      ollama,
      gw,
      close: async () => {
        await gw.close();
        await openai.close();
        await ollama.close();
      },
    };
  }

  const send = (gw: TestGateway, tenant: string, model: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${gw.url}${route.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer gw-${tenant}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(route.body(model)),
    });
  const requestCount = async (gw: TestGateway, tenant: string): Promise<number> => {
    await gw.gateway.flush();
    const res = await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer gw-${tenant}` } });
    return ((await res.json()) as { request_count: number }).request_count;
  };
  /** The tenant's request series in /metrics, as `provider status` pairs. */
  const series = async (gw: TestGateway, tenant: string): Promise<string[]> => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('aigateway_requests_total{') && l.includes(`tenant="${tenant}"`))
      .map((l) => `${/provider="([^"]*)"/.exec(l)?.[1]} ${/status="([^"]*)"/.exec(l)?.[1]}`);
  };

  test('the failures that reached the provider are counted; the request the breaker refused is not', async () => {
    const { openai, gw, close } = await rig();
    try {
      openai.setBehaviour({ status: 503 });
      for (let i = 0; i < 2; i++) expect((await send(gw, 'measured', route.openai)).status).toBeGreaterThanOrEqual(500);
      const calls = openai.requests.length;
      const refused = await send(gw, 'measured', route.openai);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('circuit_open');
      expect(openai.requests.length).toBe(calls); // no provider call
      expect(await requestCount(gw, 'measured')).toBe(2);
    } finally {
      await close();
    }
  });

  test('a fallback refused by an open breaker: the failure is counted against the provider that was called', async () => {
    const { openai, ollama, gw, close } = await rig();
    try {
      ollama.setBehaviour({ status: 500 });
      for (let i = 0; i < 2; i++) await send(gw, 'opener', route.ollama, { 'x-provider': 'ollama' }); // opens ollama's breaker
      openai.setBehaviour({ status: 503 });
      const res = await send(gw, 'measured', 'pair');
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(await requestCount(gw, 'measured')).toBe(1);
      expect(await series(gw, 'measured')).toEqual([`openai ${res.status}`]);
    } finally {
      await close();
    }
  });
});
