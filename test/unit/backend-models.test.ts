// A backend's own model list: asked on first use with its key, kept for five minutes (fake clock),
// shared by concurrent callers, and a failure lists nothing and is asked again after 30 s.
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { BackendModels } from '../../functions/core/backend-models';
import { silentLogger } from '../../functions/core/logger';

describe('BackendModels', () => {
  let backend: FakeUpstream;
  let now = 1_000_000;
  beforeAll(async () => {
    backend = await startOpenAIUpstream({ apiKey: 'gsk-1' });
  });
  afterAll(() => backend.close());
  afterEach(() => backend.setBehaviour(null));

  const listings = (): number => backend.requests.filter((r) => r.path === '/v1/models').length;
  const models = (): BackendModels =>
    new BackendModels(new Map([['groq', { url: `${backend.url}/models`, headers: { authorization: 'Bearer gsk-1' } }]]), () => now, silentLogger);

  test('asked once for concurrent callers, kept for five minutes, then asked again', async () => {
    const list = models();
    const before = listings();
    const [a, b] = await Promise.all([list.of('groq'), list.of('groq')]);
    expect(a).toContain('model-id-0');
    expect(b).toEqual(a);
    expect(listings()).toBe(before + 1);
    now += 4 * 60_000;
    await list.of('groq');
    expect(listings()).toBe(before + 1);
    now += 2 * 60_000;
    await list.of('groq');
    expect(listings()).toBe(before + 2);
  });

  test('a failing backend lists nothing and is asked again after 30 s; an unknown provider is never asked', async () => {
    const list = models();
    backend.setBehaviour({ status: 500 });
    expect(await list.of('groq')).toEqual([]);
    backend.setBehaviour(null);
    expect(await list.of('groq')).toEqual([]); // still the kept failure
    now += 31_000;
    expect(await list.of('groq')).toContain('model-id-0');
    const before = backend.requests.length;
    expect(await list.of('ollama')).toEqual([]);
    expect(backend.requests.length).toBe(before);
  });
});
