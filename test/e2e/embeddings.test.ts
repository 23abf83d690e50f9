// POST /v1/embeddings with the official openai package, served by OpenAI and by Ollama.
import OpenAI from 'openai';
import { readFixtureJson } from '../fakes/fixtures';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface Meta {
  x_gateway: { provider: string; cost_usd: number };
}

describe('embeddings', () => {
  let openai: FakeUpstream;
  let ollama: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    openai = await startOpenAIUpstream();
    ollama = await startOllamaUpstream();
    gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url });
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await openai.close();
    await ollama.close();
  });

  const example = readFixtureJson<{ data: Array<{ embedding: number[] }> }>('openai/embeddings.response.json').data[0]?.embedding ?? [];

  test("OpenAI: the SDK's default base64 encoding round-trips to the same floats, priced from the catalog", async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first text', 'second text'] });
    expect(res.data).toHaveLength(2);
    res.data[0]?.embedding.forEach((v, i) => expect(v).toBeCloseTo(example[i] ?? NaN, 6));
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    const meta = (res as unknown as Meta).x_gateway;
    expect(meta.provider).toBe('openai');
    expect(meta.cost_usd).toBeCloseTo((res.usage.prompt_tokens * 0.02) / 1e6, 12);
    expect(openai.requests.at(-1)?.path).toBe('/v1/embeddings');
  });

  test('Ollama: /api/embed translated to the OpenAI list shape, floats and base64', async () => {
    const floats = await client.embeddings.create({ model: 'ollama/llama3.2', input: 'hello', encoding_format: 'float' });
    expect(floats.data[0]?.embedding).toEqual([0.010071029, -0.0017594862, 0.05007221]);
    expect(floats.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
    expect(ollama.requests.at(-1)).toMatchObject({ path: '/api/embed', json: { model: 'llama3.2', input: 'hello' } });
    const decoded = await client.embeddings.create({ model: 'ollama/llama3.2', input: 'hello' });
    decoded.data[0]?.embedding.forEach((v, i) => expect(v).toBeCloseTo([0.010071029, -0.0017594862, 0.05007221][i] ?? NaN, 6));
    expect((decoded as unknown as Meta).x_gateway).toMatchObject({ provider: 'ollama', cost_usd: 0 });
  });

  test('bad input is a 400 naming the field', async () => {
    await expect(client.embeddings.create({ model: 'text-embedding-3-small', input: '' })).rejects.toMatchObject({ status: 400, error: { param: 'input' } });
    await expect(client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', encoding_format: 'xml' as 'float' })).rejects.toMatchObject({
      status: 400,
      error: { param: 'encoding_format' },
    });
  });
});
