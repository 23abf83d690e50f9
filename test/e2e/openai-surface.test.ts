// The parts of OpenAI's API that SDKs call besides chat itself, through the `openai` package over
// real sockets: retrieving a model by any name the list shows (filtered by the tenant's
// allowed_models), and the shape of chat streams (choices on every chunk, x_gateway on the last,
// the usage chunk last of all) for every provider, cached replays and upstreams that never say why
// they stopped.
import OpenAI from 'openai';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream';
import { fakeAwsEnv, startBedrockUpstream } from '../fakes/bedrock-upstream';
import { readFixtureJson, splitSse, type FakeUpstream } from '../fakes/fixtures';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream } from '../fakes/openai-upstream';
import { openaiChunk, SSE_HEAD, startScriptedUpstream, writeAndEnd, type ScriptedUpstream } from '../fakes/scripted-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import { DEFAULT_TENANT } from '../../functions/core/tenants';

interface XGateway {
  provider: string;
  cache_hit: boolean;
}
const xGateway = (o: unknown): XGateway | undefined => (o as { x_gateway?: XGateway }).x_gateway;

const LIMITED_KEY = 'gw-limited-key';
const ALLOWED = ['fast', 'openai/gpt-4o', 'llama3.2:latest'];
const PROVIDER_MODELS = [
  ['openai/gpt-4o', 'openai'],
  ['anthropic/claude-haiku-4-5', 'anthropic'],
  ['bedrock/anthropic.claude-3-haiku-20240307-v1:0', 'bedrock'],
  ['ollama/llama3.2:latest', 'ollama'],
] as const;

describe('the OpenAI surface over all four providers', () => {
  let fakes: FakeUpstream[];
  let scripted: ScriptedUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  const saved = { ...process.env };

  beforeAll(async () => {
    const [openai, anthropic, bedrock, ollama] = await Promise.all([
      startOpenAIUpstream(),
      startAnthropicUpstream(),
      startBedrockUpstream(),
      startOllamaUpstream(),
    ]);
    scripted = await startScriptedUpstream('/v1');
    fakes = [openai, anthropic, bedrock, ollama];
    // The AWS SDK reads its credentials and endpoint from the process environment.
    for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_BEARER_TOKEN_BEDROCK', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete process.env[k];
    const aws = fakeAwsEnv(bedrock.url);
    Object.assign(process.env, aws);
    gw = await startGateway(
      {
        ...aws,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: anthropic.url,
        OLLAMA_BASE_URL: ollama.url,
      },
      { routing: { routes: { fast: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } } } },
    );
    gw.tenants.put(LIMITED_KEY, { ...DEFAULT_TENANT, id: 'limited', name: 'limited', allowed_models: ALLOWED });
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([...fakes, scripted].map((f) => f.close().catch(() => undefined)));
    process.env = saved;
  });

  describe('GET /v1/models/{id}', () => {
    test('every listed id retrieves to the object the list shows, shaped as OpenAI records it', async () => {
      const recorded = readFixtureJson<Record<string, unknown>>('openai/model-retrieve.response.json');
      const listed: OpenAI.Model[] = [];
      for await (const model of client.models.list()) listed.push(model);
      expect(listed.map((m) => m.id)).toEqual(
        expect.arrayContaining(['fast', 'gpt-4o', 'claude-haiku-4-5', 'llama3.2:latest', 'anthropic.claude-3-haiku-20240307-v1:0']),
      );
      for (const model of listed) {
        const retrieved = await client.models.retrieve(model.id);
        expect(retrieved).toEqual(model);
        for (const field of ['id', 'object', 'created', 'owned_by']) expect(typeof retrieved[field as keyof OpenAI.Model]).toBe(typeof recorded[field]);
        expect(retrieved.object).toBe(recorded.object);
      }
    });

    test.each(PROVIDER_MODELS)('%s (a provider/model name) retrieves its provider model', async (name, provider) => {
      const model = await client.models.retrieve(name);
      expect(model.id).toBe(name);
      expect(model.object).toBe('model');
      expect(xGateway(model)?.provider).toBe(provider);
    });

    test('an id sent with its slash unencoded (as curl sends it) is the same model', async () => {
      const res = await fetch(`${gw.baseURL}/models/ollama/llama3.2:latest`, { headers: { authorization: `Bearer ${DEFAULT_KEY}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: 'ollama/llama3.2:latest', owned_by: 'ollama', x_gateway: { provider: 'ollama' } });
    });

    test("an unknown id is OpenAI's 404 model_not_found, naming it", async () => {
      const err = await client.models.retrieve('gpt-nonexistent').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      const e = err as InstanceType<typeof OpenAI.NotFoundError>;
      expect(e.code).toBe('model_not_found');
      expect(e.type).toBe('invalid_request_error');
      expect(e.message).toContain("'gpt-nonexistent'");
      await expect(client.models.retrieve('openai/claude-haiku-4-5')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });

    test('needs a key, as /v1/models does', async () => {
      const res = await fetch(`${gw.baseURL}/models/gpt-4o`);
      expect(res.status).toBe(401);
    });
  });

  describe("a tenant's allowed_models", () => {
    let limited: OpenAI;
    beforeAll(() => {
      limited = new OpenAI({ apiKey: LIMITED_KEY, baseURL: gw.baseURL, maxRetries: 0 });
    });

    test('the list shows only the models on it: by alias, by provider/id and by id', async () => {
      const ids: string[] = [];
      for await (const model of limited.models.list()) ids.push(model.id);
      expect(ids.sort()).toEqual(['fast', 'gpt-4o', 'llama3.2:latest']);
    });

    test('retrieve finds the allowed ones and answers 404 for the rest, as if they did not exist', async () => {
      expect((await limited.models.retrieve('fast')).id).toBe('fast');
      expect((await limited.models.retrieve('openai/gpt-4o')).id).toBe('openai/gpt-4o');
      expect((await limited.models.retrieve('ollama/llama3.2:latest')).id).toBe('ollama/llama3.2:latest');
      for (const hidden of ['claude-haiku-4-5', 'anthropic/claude-haiku-4-5', 'deepseek-r1:latest']) {
        const err = (await limited.models.retrieve(hidden).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.NotFoundError>;
        expect(err).toBeInstanceOf(OpenAI.NotFoundError);
        expect(err.code).toBe('model_not_found');
      }
    });
  });

  test.each(PROVIDER_MODELS)('%s answers whole with message.refusal null, as OpenAI does', async (model) => {
    const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] });
    expect(completion.choices[0]?.message).toHaveProperty('refusal', null);
  });

  describe('chat stream chunks', () => {
    /** Reads a stream through the SDK, touching `choices[0].delta` on every chunk but the usage one. */
    async function readStream(model: string, includeUsage: boolean, temperature?: number): Promise<OpenAI.ChatCompletionChunk[]> {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: `Hello ${model}` }],
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
      });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    }

    function expectChoicesThenMetadataLast(chunks: OpenAI.ChatCompletionChunk[]): OpenAI.ChatCompletionChunk {
      for (const chunk of chunks) expect(chunk.choices[0]?.delta).toBeDefined();
      const last = chunks.at(-1);
      expect(last?.choices[0]?.finish_reason).toEqual(expect.any(String));
      expect(chunks.filter((c) => xGateway(c) !== undefined)).toEqual([last]);
      expect(chunks.some((c) => c.usage)).toBe(false);
      return last as OpenAI.ChatCompletionChunk;
    }

    function expectUsageLast(chunks: OpenAI.ChatCompletionChunk[]): OpenAI.ChatCompletionChunk {
      const last = chunks.at(-1);
      for (const chunk of chunks.slice(0, -1)) expect(chunk.choices[0]?.delta).toBeDefined();
      expect(last?.choices).toEqual([]);
      expect(last?.usage?.total_tokens).toBeGreaterThan(0);
      expect(chunks.filter((c) => xGateway(c) !== undefined)).toEqual([last]);
      expect(chunks.at(-2)?.choices[0]?.finish_reason).toEqual(expect.any(String));
      return last as OpenAI.ChatCompletionChunk;
    }

    test.each(PROVIDER_MODELS)('%s without include_usage: every chunk has a choice, x_gateway on the finish chunk', async (model, provider) => {
      const last = expectChoicesThenMetadataLast(await readStream(model, false));
      expect(xGateway(last)?.provider).toBe(provider);
    });

    test.each(PROVIDER_MODELS)('%s with include_usage: the usage chunk, with x_gateway, comes last', async (model, provider) => {
      const last = expectUsageLast(await readStream(model, true));
      expect(xGateway(last)?.provider).toBe(provider);
    });

    test.each(PROVIDER_MODELS)('%s replayed from the cache keeps the same order', async (model) => {
      await readStream(model, true, 0);
      const withUsage = expectUsageLast(await readStream(model, true, 0));
      expect(xGateway(withUsage)?.cache_hit).toBe(true);
      const without = expectChoicesThenMetadataLast(await readStream(model, false, 0));
      expect(xGateway(without)?.cache_hit).toBe(true);
    });

    test.each(PROVIDER_MODELS)('%s: a streamed tool call reads from choices[0].delta on every chunk', async (model, provider) => {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        stream: true,
      });
      let name = '';
      let args = '';
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) {
        chunks.push(chunk);
        for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
          name += call.function?.name ?? '';
          args += call.function?.arguments ?? '';
        }
      }
      expect(name).toBe('get_weather');
      expect(JSON.parse(args)).toEqual(expect.any(Object));
      const last = expectChoicesThenMetadataLast(chunks);
      expect(last.choices[0]?.finish_reason).toBe('tool_calls');
      expect(xGateway(last)?.provider).toBe(provider);
    });

    test('on the wire, with include_usage: content, the finish chunk, usage with x_gateway, then [DONE]', async () => {
      const res = await fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'anthropic/claude-haiku-4-5',
          messages: [{ role: 'user', content: 'Hi' }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      const events = splitSse(await res.text()).map((e) => e.replace(/^data: /, '').trim());
      expect(events.at(-1)).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as OpenAI.ChatCompletionChunk & { x_gateway?: XGateway });
      const usage = chunks.at(-1);
      expect(usage?.choices).toEqual([]);
      expect(usage?.usage?.total_tokens).toBeGreaterThan(0);
      expect(usage?.x_gateway?.provider).toBe('anthropic');
      expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
      expect(chunks.slice(0, -1).every((c) => c.choices.length > 0 && c.x_gateway === undefined)).toBe(true);
    });
  });

  describe('an upstream stream that ends without a finish_reason', () => {
    let bare: TestGateway;
    let bareClient: OpenAI;
    beforeAll(async () => {
      bare = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: scripted.url });
      bareClient = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: bare.baseURL, maxRetries: 0 });
      scripted.script((_req, res) => writeAndEnd(res, 200, SSE_HEAD, [openaiChunk(''), openaiChunk('Hi'), openaiChunk(' there'), 'data: [DONE]\n\n']));
    });
    afterAll(() => bare.close());

    test.each([false, true])('gets one from the gateway (include_usage: %s)', async (includeUsage) => {
      const stream = await bareClient.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hi there');
      const last = chunks.at(-1);
      expect(last?.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop' });
      expect(xGateway(last)?.provider).toBe('openai');
      for (const chunk of chunks) expect(chunk.choices[0]?.delta).toBeDefined();
    });
  });
});
