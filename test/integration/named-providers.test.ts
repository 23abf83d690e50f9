// Named providers of every type behind one local gateway, as a client using the official openai
// package sees them: two OpenAI-compatible servers under two names, an Azure-style resource, a
// second Anthropic account, Bedrock in a second region and a second Ollama (down), each routable
// by `name/model`, X-Provider, route targets and fallback lists, and each named in x_gateway,
// /metrics, /health and /v1/models. Then no surprise spend: a request that names its provider is
// not answered by another one unless the config or the tenant allows it.
import { createServer } from 'node:net';
import OpenAI from 'openai';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream';
import { startAzureOpenAIUpstream } from '../fakes/azure-openai-upstream';
import { fakeAwsEnv, startBedrockUpstream } from '../fakes/bedrock-upstream';
import type { FakeUpstream } from '../fakes/fixtures';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import { DEFAULT_TENANT } from '../../functions/core/tenants';

interface GatewayMeta {
  provider: string;
  model: string;
  cost_usd: number;
  attempts: Array<{ provider: string; model: string; status: number }>;
}
const metaOf = (answer: unknown): GatewayMeta => (answer as { x_gateway: GatewayMeta }).x_gateway;
const MESSAGES = [{ role: 'user' as const, content: 'Hello' }];
const WEATHER_TOOL = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

/** A loopback port nothing listens on (a provider that is down). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function metricLines(gw: TestGateway, name: string): Promise<string[]> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`));
}

describe('named providers of every type', () => {
  let openai: FakeUpstream;
  let groq: FakeUpstream;
  let azure: FakeUpstream;
  let claudeB: FakeUpstream;
  let bedrock: FakeUpstream;
  let ollama: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    [openai, groq, azure, claudeB, bedrock, ollama] = await Promise.all([
      startOpenAIUpstream(),
      startOpenAIUpstream({ apiKey: 'gsk-groq-test' }),
      startAzureOpenAIUpstream({ apiKey: 'azure-east-key', deployments: { 'gpt-4o': 'gpt-4o-2024-08-06', 'chat-prod': 'gpt-4o-mini-2024-07-18' } }),
      startAnthropicUpstream({ apiKey: 'sk-ant-second' }),
      startBedrockUpstream(),
      startOllamaUpstream(),
    ]);
    // The AWS SDK reads its endpoint and credentials from the process environment.
    const aws = fakeAwsEnv(bedrock.url);
    Object.assign(process.env, aws);
    gw = await startGateway(
      {
        ...aws,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        OLLAMA_BASE_URL: ollama.url,
        GROQ_API_KEY: 'gsk-groq-test',
        AZURE_EAST_KEY: 'azure-east-key',
        CLAUDE_B_KEY: 'sk-ant-second',
      },
      {
        routing: {
          providers: {
            groq: { type: 'openai', base_url: groq.url, api_key_env: 'GROQ_API_KEY', default_model: 'llama-3.1-8b-instant' },
            'azure-east': { type: 'azure-openai', endpoint: azure.url, api_version: '2024-10-21', api_key_env: 'AZURE_EAST_KEY' },
            'claude-b': { type: 'anthropic', base_url: claudeB.url, api_key_env: 'CLAUDE_B_KEY' },
            'bedrock-east': { type: 'bedrock', region: 'us-east-1' },
            'bedrock-west': { type: 'bedrock', region: 'us-west-2' },
            'ollama-gpu': { type: 'ollama', base_url: await closedPortUrl(), default_model: 'qwen3' },
            'vllm-down': { type: 'openai', base_url: `${await closedPortUrl()}/v1` },
          },
          routes: {
            fast: {
              targets: [
                { provider: 'groq', model: 'llama-3.3-70b-versatile' },
                { provider: 'azure-east', model: 'chat-prod' },
              ],
            },
          },
          circuit_breaker: { failure_threshold: 1000, success_threshold: 1, open_seconds: 30 },
        },
      },
    );
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([openai, groq, azure, claudeB, bedrock, ollama].map((f) => f.close()));
    process.env = savedEnv;
  });
  afterEach(() => {
    for (const fake of [openai, groq, azure, claudeB, bedrock, ollama]) fake.setBehaviour(null);
  });

  test('an OpenAI-compatible server under its own name: `groq/model` goes there with its own key', async () => {
    const answer = await client.chat.completions.create({ model: 'groq/llama-3.1-8b-instant', messages: MESSAGES });
    expect(metaOf(answer).provider).toBe('groq');
    const sent = groq.requests.at(-1);
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/chat/completions', json: { model: 'llama-3.1-8b-instant' } });
    expect(sent?.headers.authorization).toBe('Bearer gsk-groq-test');
  });

  test('X-Provider names a configured provider (in any case); an unknown one is refused listing the configured names', async () => {
    const calls = groq.requests.length;
    const answer = await client.chat.completions.create({ model: 'llama-3.1-8b-instant', messages: MESSAGES }, { headers: { 'x-provider': 'Groq' } });
    expect(metaOf(answer).provider).toBe('groq');
    expect(groq.requests.length).toBe(calls + 1);
    const refused = await client.chat.completions.create({ model: 'x', messages: MESSAGES }, { headers: { 'x-provider': 'mistral' } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      'groq, azure-east, claude-b, bedrock-east, bedrock-west, ollama-gpu, vllm-down',
    );
  });

  test('Azure: the deployment URL with api-version and the api-key header; streams and tools in OpenAI format; priced by the model it reports', async () => {
    const answer = await client.chat.completions.create({ model: 'azure-east/gpt-4o', messages: MESSAGES });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    expect(metaOf(answer).provider).toBe('azure-east');
    expect(metaOf(answer).cost_usd).toBeGreaterThan(0);
    const sent = azure.requests.at(-1);
    expect(sent?.path).toBe('/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    expect(sent?.headers['api-key']).toBe('azure-east-key');
    expect(sent?.headers.authorization).toBeUndefined();

    const stream = await client.chat.completions.create({ model: 'azure-east/chat-prod', messages: MESSAGES, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(azure.requests.at(-1)?.path).toBe('/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21');

    const tools = await client.chat.completions.create({ model: 'azure-east/chat-prod', messages: MESSAGES, tools: [WEATHER_TOOL] });
    expect(tools.choices[0]?.message.tool_calls?.[0]?.type).toBe('function');
  });

  test("Azure's own errors come back in OpenAI's shape: an unknown deployment is the client's 404", async () => {
    const err = await client.chat.completions.create({ model: 'azure-east/nope', messages: MESSAGES }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(openai.requests.filter((r) => r.path === '/v1/chat/completions').length).toBe(0);
  });

  test('a second Anthropic account: its own base URL and key, translated as the built-in one is', async () => {
    const answer = await client.chat.completions.create({ model: 'claude-b/claude-haiku-4-5', messages: MESSAGES });
    expect(metaOf(answer).provider).toBe('claude-b');
    expect(metaOf(answer).cost_usd).toBeGreaterThan(0);
    expect(claudeB.requests.at(-1)).toMatchObject({ path: '/v1/messages', json: { model: 'claude-haiku-4-5' } });
    expect(claudeB.requests.at(-1)?.headers['x-api-key']).toBe('sk-ant-second');
  });

  test('Bedrock per region: each named instance signs for its own region', async () => {
    const east = await client.chat.completions.create({ model: 'bedrock-east/anthropic.claude-3-haiku-20240307-v1:0', messages: MESSAGES });
    expect(metaOf(east).provider).toBe('bedrock-east');
    expect(String(bedrock.requests.at(-1)?.headers.authorization)).toContain('/us-east-1/bedrock/aws4_request');
    // The fake accepts us-east-1 only: the west instance's request arrives signed for us-west-2.
    const west = await client.chat.completions
      .create({ model: 'bedrock-west/anthropic.claude-3-haiku-20240307-v1:0', messages: MESSAGES })
      .catch((e: unknown) => e);
    expect(west).toBeInstanceOf(OpenAI.APIError);
    expect(String(bedrock.requests.at(-1)?.headers.authorization)).toContain('/us-west-2/bedrock/aws4_request');
  });

  test('a named Ollama that is down: 502 naming it, and no other provider is asked', async () => {
    const before = openai.requests.length + groq.requests.length + ollama.requests.length;
    const err = await client.chat.completions.create({ model: 'ollama-gpu/qwen3', messages: MESSAGES }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('ollama-gpu');
    expect(openai.requests.length + groq.requests.length + ollama.requests.length).toBe(before);
  });

  test('a route target on a named provider falls back to the next target, and the fallback is counted from → to', async () => {
    const first = await client.chat.completions.create({ model: 'fast', messages: MESSAGES });
    expect(metaOf(first)).toMatchObject({ provider: 'groq', model: expect.any(String) });
    groq.setBehaviour({ status: 503 });
    const answer = await client.chat.completions.create({ model: 'fast', messages: MESSAGES });
    expect(metaOf(answer).provider).toBe('azure-east');
    expect(metaOf(answer).attempts.map((a) => `${a.provider}/${a.model} ${a.status}`)).toEqual([
      'groq/llama-3.3-70b-versatile 502',
      'azure-east/chat-prod 200',
    ]);
    const fallbacks = await metricLines(gw, 'aigateway_fallbacks_total');
    expect(fallbacks.some((l) => l.includes('from="groq"') && l.includes('to="azure-east"'))).toBe(true);
    const requests = await metricLines(gw, 'aigateway_requests_total');
    expect(requests.some((l) => l.includes('provider="azure-east"'))).toBe(true);
  });

  test('/health lists every provider by name, with its breaker', async () => {
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { providers: Record<string, string>; circuit_breakers: Record<string, string> };
    expect(Object.keys(health.providers)).toEqual(
      expect.arrayContaining(['openai', 'anthropic', 'bedrock', 'ollama', 'groq', 'azure-east', 'claude-b', 'bedrock-east', 'bedrock-west', 'ollama-gpu']),
    );
    expect(health.providers.groq).toBe('ok');
    expect(health.providers['ollama-gpu']).not.toBe('ok');
    expect(health.circuit_breakers['azure-east']).toBe('closed');
  });

  test("/v1/models lists a named provider's default_model and the models routed to it, owned by its name", async () => {
    const models = await client.models.list();
    const byId = (id: string, owner: string) => models.data.find((m) => m.id === id && m.owned_by === owner);
    expect(byId('llama-3.1-8b-instant', 'groq')).toBeDefined();
    expect(byId('llama-3.3-70b-versatile', 'groq')).toBeDefined();
    expect(byId('chat-prod', 'azure-east')).toBeDefined();
    expect(byId('gpt-4o', 'openai')).toBeDefined(); // the built-in one still lists the catalog
    expect((await client.models.retrieve('groq/llama-3.1-8b-instant')).owned_by).toBe('groq');
  });

  test("/v1/models adds what an OpenAI-compatible backend's own /models lists; a backend that is down lists nothing", async () => {
    const models = await client.models.list();
    expect(models.data.find((m) => m.id === 'model-id-0' && m.owned_by === 'groq')).toBeDefined();
    expect(models.data.some((m) => m.owned_by === 'vllm-down')).toBe(false);
    expect((await client.models.retrieve('groq/model-id-1')).owned_by).toBe('groq');
  });

  test("the admin API accepts configured names for a tenant's providers and refuses others", async () => {
    const post = (body: unknown) =>
      fetch(`${gw.url}/admin/tenants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post({ name: 'groq team', default_provider: 'groq', fallback_providers: ['azure-east', 'openai'] });
    expect(created.status).toBe(201);
    const refused = await post({ name: 'other', default_provider: 'mistral' });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('groq');
  });
});

describe('no surprise spend', () => {
  let openai: FakeUpstream;
  let ollama: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    [openai, ollama] = await Promise.all([startOpenAIUpstream(), startOllamaUpstream()]);
    gw = await startGateway(
      { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url },
      { routing: { circuit_breaker: { failure_threshold: 1000, success_threshold: 1, open_seconds: 30 } } },
    );
    gw.tenants.put('gw-lists-fallbacks', { ...DEFAULT_TENANT, id: 'lists', name: 'lists', fallback_providers: ['openai'] });
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([openai.close(), ollama.close()]);
  });
  afterEach(() => {
    openai.setBehaviour(null);
    ollama.setBehaviour(null);
  });

  const openaiChats = (): number => openai.requests.filter((r) => r.path === '/v1/chat/completions').length;

  test('`ollama/llama3.2` with Ollama down: 502 naming ollama, never a paid model', async () => {
    ollama.setBehaviour({ status: 503 });
    const before = openaiChats();
    const err = await client.chat.completions.create({ model: 'ollama/llama3.2', messages: MESSAGES }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('ollama');
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-gateway-provider')).toBe('ollama');
    expect(openaiChats()).toBe(before);
  });

  test('X-Provider: ollama with Ollama down: 502 as well', async () => {
    ollama.setBehaviour({ status: 503 });
    const before = openaiChats();
    const err = await client.chat.completions
      .create({ model: 'llama3.2', messages: MESSAGES }, { headers: { 'x-provider': 'ollama' } })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(openaiChats()).toBe(before);
  });

  test('a bare model name still falls back as configured, and the fallback is counted', async () => {
    openai.setBehaviour({ status: 503 });
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
    expect(metaOf(answer).provider).toBe('ollama');
    expect(metaOf(answer).attempts.map((a) => `${a.provider} ${a.status}`)).toEqual(['openai 502', 'ollama 200']);
    const fallbacks = await metricLines(gw, 'aigateway_fallbacks_total');
    expect(fallbacks.some((l) => l.includes('from="openai"') && l.includes('to="ollama"'))).toBe(true);
  });

  test('a tenant that lists its own fallback providers lets its explicit requests fall back to them', async () => {
    ollama.setBehaviour({ status: 503 });
    const tenantClient = new OpenAI({ apiKey: 'gw-lists-fallbacks', baseURL: gw.baseURL, maxRetries: 0 });
    const answer = await tenantClient.chat.completions.create({ model: 'ollama/llama3.2', messages: MESSAGES });
    expect(metaOf(answer).provider).toBe('openai');
    expect(metaOf(answer).attempts.map((a) => `${a.provider}/${a.model} ${a.status}`)).toEqual(['ollama/llama3.2 502', 'openai/gpt-4o-mini 200']);
  });
});
