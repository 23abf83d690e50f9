// The official `openai` package as the gateway's client, with the fake Anthropic Messages API
// (recorded wire format) behind it: every request is translated to Anthropic and back.
import OpenAI from 'openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { AnthropicProvider } from '../../functions/core/providers/anthropic';
import { startAnthropicUpstream, type FakeUpstream } from '../fakes/anthropic-upstream';
import { readFixture, readFixtureJson } from '../fakes/fixtures';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface XGateway {
  provider: string;
  model: string;
  cost_usd: number;
  cache_hit: boolean;
  request_id: string;
  attempts: Array<{ provider: string; model: string; status: number }>;
}

interface AnthropicBody {
  model: string;
  max_tokens: number;
  system?: Array<{ type: string; text: string }>;
  messages: Array<{ role: string; content: string | Array<Record<string, unknown>> }>;
  tools?: Array<{ name: string; description?: string; input_schema: unknown }>;
  stream?: boolean;
}

interface AnthropicMessage {
  id: string;
  model: string;
  content: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>;
  usage: { input_tokens: number; output_tokens: number };
}

const weatherParameters = {
  type: 'object',
  properties: { location: { type: 'string' }, units: { type: 'string', enum: ['c', 'f'] } },
  required: ['location', 'units'],
  additionalProperties: false,
};
const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Lookup the weather for a given city', parameters: weatherParameters },
};

const TEXT = readFixtureJson<AnthropicMessage>('anthropic/messages-nonstream.response.json');
const TOOL_USE = readFixtureJson<AnthropicMessage>('anthropic/tools-nonstream.response.json');

/** The text the recorded Anthropic stream carries, from the fixture's text_delta events. */
function fixtureStreamText(file: string): string {
  return [...readFixture(file).matchAll(/^data: (.*)$/gm)]
    .map((m) => JSON.parse(m[1] ?? 'null') as { type: string; delta?: { type: string; text?: string } })
    .filter((e) => e.type === 'content_block_delta' && e.delta?.type === 'text_delta')
    .map((e) => e.delta?.text ?? '')
    .join('');
}

const meta = (x: unknown): XGateway => (x as { x_gateway: XGateway }).x_gateway;

describe('OpenAI SDK → gateway → Anthropic (Messages API)', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  const prices = new PriceBook();
  const lastSent = (): AnthropicBody => upstream.requests.at(-1)?.json as AnthropicBody;

  beforeAll(async () => {
    upstream = await startAnthropicUpstream();
    gw = await startGateway(
      { DEFAULT_PROVIDER: 'ollama' },
      {
        providers: [new AnthropicProvider({ apiKey: 'sk-ant-test', baseUrl: upstream.url, explicitBaseUrl: true, prices })],
        // No provider-level fallback: each error below is Anthropic's own, not a later target's.
        routing: { fallback_providers: [] },
      },
    );
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });
  afterEach(() => upstream.setBehaviour(null));

  test('chat.completions.create: translated both ways, priced from the catalog, provider anthropic', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: 'anthropic/claude-haiku-4-5',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hello' },
        ],
        max_tokens: 200,
        stop: ['###'],
      })
      .withResponse();
    expect(data.id).toBe(TEXT.id);
    expect(data.model).toBe(TEXT.model);
    expect(data.choices[0]?.message.content).toBe(TEXT.content[0]?.text);
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({
      prompt_tokens: TEXT.usage.input_tokens,
      completion_tokens: TEXT.usage.output_tokens,
      total_tokens: TEXT.usage.input_tokens + TEXT.usage.output_tokens,
    });
    const m = meta(data);
    expect(m.provider).toBe('anthropic');
    expect(m.attempts).toEqual([expect.objectContaining({ provider: 'anthropic', model: 'claude-haiku-4-5', status: 200 })]);
    const price = prices.lookup(TEXT.model);
    if (!price) throw new Error('catalog lacks the recorded model');
    expect(m.cost_usd).toBeGreaterThan(0);
    expect(m.cost_usd).toBeCloseTo((TEXT.usage.input_tokens * price.input_per_mtok + TEXT.usage.output_tokens * price.output_per_mtok) / 1e6, 10);
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');

    // The fake saw Anthropic's headers (never the gateway's key) and a Messages body.
    const sent = upstream.requests.at(-1);
    expect(sent?.path).toBe('/v1/messages');
    expect(sent?.headers['x-api-key']).toBe('sk-ant-test');
    expect(sent?.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.json).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 200,
      stop_sequences: ['###'],
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: 'hello' }],
    });
  });

  test('a plain claude-* model name routes to anthropic by the catalog', async () => {
    const completion = await client.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hello' }] });
    expect(meta(completion).provider).toBe('anthropic');
    expect(lastSent()).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 4096 });
  });

  test('stream: true iterates the recorded events as chunks and ends with x_gateway', async () => {
    const stream = await client.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'weather?' }], stream: true });
    let text = '';
    let usageChunks = 0;
    const metas: XGateway[] = [];
    const finishes: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usageChunks += 1;
      const x = (chunk as unknown as { x_gateway?: XGateway }).x_gateway;
      if (x) metas.push(x);
    }
    expect(text).toBe(fixtureStreamText('anthropic/messages-stream.sse.txt'));
    expect(finishes).toEqual(['stop']);
    expect(usageChunks).toBe(0); // Anthropic always reports usage; the client did not ask for it
    expect(metas).toHaveLength(1);
    expect(metas[0]).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5-20251001' });
    expect(metas[0]?.cost_usd).toBeGreaterThan(0);
    expect(lastSent().stream).toBe(true);
  });

  test('stream_options.include_usage forwards one usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-haiku-4-5',
      messages: [{ role: 'user', content: 'weather?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const usages: OpenAI.CompletionUsage[] = [];
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    expect(usages).toHaveLength(1);
    expect(usages[0]).toMatchObject({ prompt_tokens: 770, completion_tokens: 27, total_tokens: 797, prompt_tokens_details: { cached_tokens: 0 } });
  });

  test('chat.completions.stream() helper yields content events and finalChatCompletion()', async () => {
    const runner = client.chat.completions.stream({ model: 'anthropic/claude-haiku-4-5', messages: [{ role: 'user', content: 'weather?' }] });
    const deltas: string[] = [];
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    const expected = fixtureStreamText('anthropic/messages-stream.sse.txt');
    expect(final.choices[0]?.message.content).toBe(expected);
    expect(deltas.join('')).toBe(expected);
    expect(final.choices[0]?.finish_reason).toBe('stop');
    expect(final.id).toBe('msg_0158JyopQTFaomteeJoDpS5q');
  });

  test('tool call round trip: tool_use comes back as tool_calls, the tool result goes back as tool_result', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: "What's the weather in SF in Celsius?" }];
    const first = await client.chat.completions.create({ model: 'claude-haiku-4-5', messages, tools: [weatherTool] });
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    const call = first.choices[0]?.message.tool_calls?.[0];
    if (!call || call.type !== 'function') throw new Error('expected a function tool call');
    const recordedUse = TOOL_USE.content[0];
    expect(call.id).toBe(recordedUse?.id);
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual(recordedUse?.input);
    expect(lastSent().tools).toEqual([{ name: 'get_weather', description: 'Lookup the weather for a given city', input_schema: weatherParameters }]);

    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 20 C' });
    const second = await client.chat.completions.create({ model: 'claude-haiku-4-5', messages, tools: [weatherTool] });
    expect(second.choices[0]?.message.content).toBe('The tool said: Sunny, 20 C');
    expect(second.choices[0]?.finish_reason).toBe('stop');
    const sent = lastSent();
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent.messages[1]?.content).toEqual([{ type: 'tool_use', id: call.id, name: 'get_weather', input: recordedUse?.input }]);
    expect(sent.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 20 C' }]);
  });

  test('streamed tool call: argument fragments assemble in the stream helper', async () => {
    const final = await client.chat.completions
      .stream({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'What is the weather in SF?' }], tools: [weatherTool] })
      .finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ location: 'San Francisco, CA', units: 'f' });
    expect(call?.id).toBe('toolu_018acGYLtfR52q9yDbWaEdQZ');
  });

  test('runTools helper: calls the function with the parsed arguments and returns the final answer', async () => {
    const calls: Array<{ location: string; units: string }> = [];
    const runner = client.chat.completions.runTools({
      model: 'claude-haiku-4-5',
      messages: [{ role: 'user', content: "What's the weather in SF in Celsius?" }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Lookup the weather for a given city',
            parameters: weatherParameters,
            parse: (input: string) => JSON.parse(input) as { location: string; units: string },
            function: async (args: { location: string; units: string }) => {
              calls.push(args);
              return `${args.location}: 20 degrees ${args.units.toUpperCase()}, sunny`;
            },
          },
        },
      ],
    });
    const content = await runner.finalContent();
    expect(calls).toEqual([TOOL_USE.content[0]?.input]);
    expect(content).toBe('The tool said: SF: 20 degrees C, sunny');
    const sent = lastSent();
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect((sent.messages[2]!.content as Array<{ type: string }>)[0]?.type).toBe('tool_result');
  });

  test('an upstream 529 overloaded_error becomes a 502 naming anthropic', async () => {
    upstream.setBehaviour({ status: 529, times: 1 });
    const err = await client.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.status).toBe(502);
    expect(apiErr.message).toMatch(/anthropic failed with status 529/);
    expect(apiErr.message).not.toContain('Overloaded'); // the provider's own words stay in the logs
    expect(apiErr.headers?.get('x-gateway-provider')).toBe('anthropic');
  });

  test("an upstream 400 comes back as the client's 400 with Anthropic's message", async () => {
    const recorded = readFixtureJson<{ body: { error: { type: string; message: string } } }>('anthropic/error-400.recorded.json').body.error;
    upstream.setBehaviour({ status: 400, times: 1 });
    const err = await client.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const apiErr = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiErr.status).toBe(400);
    expect(apiErr.error).toMatchObject({ message: recorded.message, type: recorded.type });
  });

  test("a model Anthropic does not know is the client's 404", async () => {
    await expect(client.chat.completions.create({ model: 'anthropic/no-such-model', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 404,
      error: { message: 'model: no-such-model' },
    });
  });

  test('a request Anthropic cannot take is refused with a 400 naming the field, before any upstream call', async () => {
    const before = upstream.requests.length;
    await expect(client.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }], n: 2 })).rejects.toMatchObject({
      status: 400,
      error: { param: 'n' },
    });
    expect(upstream.requests.length).toBe(before);
  });

  test("a mid-stream overloaded error makes the SDK's stream iteration throw an APIError", async () => {
    upstream.setBehaviour({ failAfterChunks: 5, times: 1 });
    const stream = await client.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'weather?' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toMatch(/anthropic/);
    expect((err as Error).message).not.toContain('Overloaded'); // the provider's own words stay in the logs
    expect(text.length).toBeGreaterThan(0); // the answer had started before the failure
  });

  test("models.list shows the catalog's Anthropic models with provider and prices", async () => {
    const page = await client.models.list();
    const haiku = page.data.find((m) => m.id === 'claude-haiku-4-5');
    expect(haiku).toBeDefined();
    expect((haiku as unknown as { x_gateway: { provider: string; input_per_mtok: number } }).x_gateway).toMatchObject({
      provider: 'anthropic',
      input_per_mtok: prices.lookup('claude-haiku-4-5')?.input_per_mtok,
    });
  });
});
