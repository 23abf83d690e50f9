// The official `openai` package as the gateway's client, with fake upstreams speaking the
// providers' recorded wire formats behind it.
import OpenAI from 'openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { readFixture, readFixtureJson, splitSse } from '../fakes/fixtures';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface XGateway {
  provider: string;
  model: string;
  latency_ms: number;
  cost_usd: number;
  cache_hit: boolean;
  request_id: string;
  trace_id: string;
  attempts: Array<{ provider: string; status: number }>;
}

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the weather in a given city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** The text the recorded OpenAI stream carries, from the fixture itself. */
function fixtureStreamText(): string {
  return splitSse(readFixture('openai/chat-stream.sse.txt'))
    .map((e) => e.replace(/^data: /, '').trim())
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d) as { choices: Array<{ delta: { content?: string | null } }> })
    .map((c) => c.choices[0]?.delta.content ?? '')
    .join('');
}

const prices = readFixtureJson<{ models: Record<string, { input_per_mtok: number; output_per_mtok: number }> }>(
  '../../functions/core/pricing/catalog.json',
).models;

describe('OpenAI SDK → gateway → OpenAI', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('chat.completions.create returns the completion with x_gateway metadata and cost', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    const recorded = JSON.parse(readFixture('openai/chat-nonstream.recorded.response.json')) as OpenAI.ChatCompletion;
    expect(data.choices[0]?.message.content).toBe(recorded.choices[0]?.message.content);
    expect(data.usage).toEqual(recorded.usage);
    const meta = (data as unknown as { x_gateway: XGateway }).x_gateway;
    expect(meta.provider).toBe('openai');
    expect(meta.cache_hit).toBe(false);
    const price = prices['gpt-4o-2024-08-06'];
    if (!price || !recorded.usage) throw new Error('fixture mismatch');
    const expected = (recorded.usage.prompt_tokens * price.input_per_mtok + recorded.usage.completion_tokens * price.output_per_mtok) / 1e6;
    expect(meta.cost_usd).toBeCloseTo(expected, 10);
    expect(response.headers.get('x-request-id')).toBe(meta.request_id);
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
    expect(meta.trace_id).toMatch(/^[0-9a-f]{32}$/);
    // The gateway's key never reaches the provider; the provider key does.
    const sent = upstream.requests.at(-1);
    expect(sent?.headers.authorization).toBe('Bearer sk-test');
  });

  test('stream: true iterates the recorded chunks; x_gateway rides on the final finish_reason chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather?' }], stream: true });
    let text = '';
    const metas: XGateway[] = [];
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageChunks += 1;
      const meta = (chunk as unknown as { x_gateway?: XGateway }).x_gateway;
      if (meta) {
        expect(chunk.choices[0]?.finish_reason).toBe('stop');
        metas.push(meta);
      }
    }
    expect(text).toBe(fixtureStreamText());
    expect(metas).toHaveLength(1);
    expect(metas[0]?.cost_usd).toBeGreaterThan(0); // usage was requested upstream to price it…
    expect(usageChunks).toBe(0); // …but not forwarded, since the client did not ask
    expect((upstream.requests.at(-1)!.json as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage).toBe(true);
  });

  test('stream_options.include_usage forwards the usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const usages: OpenAI.CompletionUsage[] = [];
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    expect(usages).toHaveLength(1);
    expect(usages[0]?.total_tokens).toBeGreaterThan(0);
  });

  test('chat.completions.stream() helper yields finalChatCompletion()', async () => {
    const runner = client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather?' }] });
    const deltas: string[] = [];
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(fixtureStreamText());
    expect(deltas.join('')).toBe(fixtureStreamText());
    expect(final.choices[0]?.finish_reason).toBe('stop');
  });

  test('tool call round trip: the tool call comes back, the tool result is answered', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Edinburgh?' }];
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool] });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    if (!call || call.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function.name).toBe('get_weather');
    const args = JSON.parse(call.function.arguments) as { city: string };
    expect(args.city).toBe('Edinburgh');
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 18 C' });
    const second = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool] });
    expect(second.choices[0]?.message.content).toContain('Sunny, 18 C');
    // The upstream saw the assistant's tool call and the tool result exactly as sent.
    const sent = upstream.requests.at(-1)?.json as { messages: Array<{ role: string; tool_call_id?: string }> };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(sent.messages[2]?.tool_call_id).toBe(call.id);
  });

  test('streamed tool call arguments arrive as fragments and assemble in the stream helper', async () => {
    const runner = client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather in NYC?' }], tools: [weatherTool] });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'New York City' });
  });

  test('response_format and images reach OpenAI unchanged', async () => {
    const image = 'data:image/png;base64,iVBORw0KGgo=';
    await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: image } },
          ],
        },
      ],
      response_format: { type: 'json_object' },
    });
    const sent = upstream.requests.at(-1)?.json as { response_format: unknown; messages: Array<{ content: Array<{ image_url?: { url: string } }> }> };
    expect(sent.response_format).toEqual({ type: 'json_object' });
    expect(sent.messages[0]?.content[1]?.image_url?.url).toBe(image);
  });

  test('models.list includes catalog OpenAI models with provider and prices', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      ids.push(model.id);
      if (model.id === 'gpt-4o') {
        expect((model as unknown as { x_gateway: { provider: string; input_per_mtok: number } }).x_gateway).toMatchObject({
          provider: 'openai',
          input_per_mtok: prices['gpt-4o']?.input_per_mtok,
        });
      }
    }
    expect(ids).toContain('gpt-4o');
    expect(ids).toContain('text-embedding-3-small');
  });
});

describe('OpenAI SDK → gateway → Ollama (native API)', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startOllamaUpstream();
    gw = await startGateway({ OLLAMA_BASE_URL: upstream.url });
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('sync completion is translated from /api/chat, free of charge', async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    });
    const native = readFixtureJson<{ message: { content: string }; prompt_eval_count: number; eval_count: number }>('ollama/chat-nonstream.response.json');
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe(native.message.content);
    expect(completion.usage).toEqual({
      prompt_tokens: native.prompt_eval_count,
      completion_tokens: native.eval_count,
      total_tokens: native.prompt_eval_count + native.eval_count,
    });
    expect((completion as unknown as { x_gateway: XGateway }).x_gateway).toMatchObject({ provider: 'ollama', cost_usd: 0 });
    const sent = upstream.requests.at(-1);
    expect(sent?.path).toBe('/api/chat');
    expect(sent?.json).toMatchObject({
      model: 'llama3.2',
      stream: false,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  test('NDJSON stream becomes SSE chunks that the stream helper assembles', async () => {
    const runner = client.chat.completions.stream({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'why is the sky blue?' }],
      temperature: 0.5,
      max_tokens: 50,
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('The sky is blue.');
    expect(final.choices[0]?.finish_reason).toBe('stop');
    expect(upstream.requests.at(-1)?.json).toMatchObject({ stream: true, options: { temperature: 0.5, num_predict: 50 } });
  });

  test('tool call round trip through Ollama, sync and streaming', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'what is the weather in tokyo?' }];
    const first = await client.chat.completions.create({ model: 'llama3.2', messages, tools: [weatherTool] });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    if (!call || call.type !== 'function') throw new Error('expected a function tool call');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Tokyo' });
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'Rainy, 12 C' });
    const second = await client.chat.completions.create({ model: 'llama3.2', messages, tools: [weatherTool] });
    expect(second.choices[0]?.message.content).toContain('Rainy, 12 C');
    const sent = upstream.requests.at(-1)?.json as {
      messages: Array<{ role: string; tool_calls?: Array<{ function: { arguments: unknown } }>; tool_name?: string }>;
    };
    expect(sent.messages[1]?.tool_calls?.[0]?.function.arguments).toEqual({ city: 'Tokyo' }); // objects, as Ollama wants
    expect(sent.messages[2]).toMatchObject({ role: 'tool', tool_name: 'get_weather', content: 'Rainy, 12 C' });

    const streamed = await client.chat.completions.stream({ model: 'llama3.2', messages: [messages[0]!], tools: [weatherTool] }).finalChatCompletion();
    const streamedCall = streamed.choices[0]?.message.tool_calls?.[0];
    expect(streamed.choices[0]?.finish_reason).toBe('tool_calls');
    expect(streamedCall?.type === 'function' && JSON.parse(streamedCall.function.arguments)).toEqual({ city: 'Tokyo' });
  });

  test('models.list shows Ollama live tags', async () => {
    const page = await client.models.list();
    const tags = readFixtureJson<{ models: Array<{ name: string }> }>('ollama/tags.response.json').models.map((m) => m.name);
    expect(page.data.map((m) => m.id)).toEqual(expect.arrayContaining(tags));
  });

  test("an unknown Ollama model is the client's 404, not a gateway failure", async () => {
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 404,
      error: { message: expect.stringContaining('no-such-model') },
    });
  });
});
