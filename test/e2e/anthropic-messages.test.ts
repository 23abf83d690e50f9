// The Anthropic Messages API (POST /v1/messages) with the official `@anthropic-ai/sdk` as the
// client, served by every provider through the canonical chat model, against the recorded-format
// fakes; and a recorded Claude Code request, streamed through each provider as Claude Code sends it.
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, MessageStreamEvent, Tool } from '@anthropic-ai/sdk/resources/messages';
import OpenAI from 'openai';
import { readFixtureJson, splitSse } from '../fakes/fixtures';
import { startFourProviders, type FourProviders, type ProviderName } from '../helpers/four-providers';
import { DEFAULT_KEY, type TestGateway } from '../helpers/gateway';
import { meta } from '../helpers/responses-client';

const MODELS: Array<[string, ProviderName]> = [
  ['openai/gpt-4o', 'openai'],
  ['anthropic/claude-haiku-4-5', 'anthropic'],
  ['bedrock/anthropic.claude-3-haiku-20240307-v1:0', 'bedrock'],
  ['ollama/llama3.2', 'ollama'],
];

const weatherTool: Tool = {
  name: 'get_weather',
  description: 'Get the weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** A 1×1 PNG. */
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/** The typed events of one raw SSE body (`event:` and `data:` lines). */
function parseEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return splitSse(text).map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
    const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Record<string, unknown>;
    return { event, data };
  });
}

interface RecordedClaudeCodeRequest {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown> & { tools: unknown[]; system: unknown[] };
}

const CLAUDE_CODE = readFixtureJson<RecordedClaudeCodeRequest>('anthropic/claude-code.request.json');

describe('the Anthropic Messages API, every provider', () => {
  let four: FourProviders;
  let fakes: FourProviders['fakes'];
  let gw: TestGateway;
  let client: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    four = await startFourProviders({
      routing: {
        routes: {
          smart: { targets: [{ provider: 'ollama', model: 'llama3.2' }] },
          busy: {
            targets: [
              { provider: 'anthropic', model: 'claude-haiku-4-5' },
              { provider: 'openai', model: 'gpt-4o' },
            ],
          },
        },
      },
    });
    ({ fakes, gw } = four);
    client = new Anthropic({ apiKey: DEFAULT_KEY, baseURL: gw.url, maxRetries: 0 });
    openai = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(() => four.close());
  afterEach(() => four.reset());

  test.each(MODELS)('%s: messages.create answers the text chat completions answers, as a message object (%s)', async (model, provider) => {
    const message = await client.messages.create({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] });
    const chat = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] });
    expect(message).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', stop_sequence: null });
    expect(message.id).toMatch(/^msg_[A-Za-z0-9]{24}$/);
    expect(message.content).toHaveLength(1);
    const [block] = message.content;
    expect(block?.type).toBe('text');
    expect(block?.type === 'text' && block.text).toBe(chat.choices[0]?.message.content);
    const cached = chat.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    expect(message.usage.input_tokens + message.usage.cache_read_input_tokens! + message.usage.cache_creation_input_tokens!).toBe(chat.usage?.prompt_tokens);
    expect(message.usage.cache_read_input_tokens).toBe(cached);
    expect(message.usage.output_tokens).toBe(chat.usage?.completion_tokens);
    expect(meta(message)).toMatchObject({ provider, cache_hit: false });
  });

  test.each(MODELS)('%s: messages.stream delivers the text deltas in order, then the final message with usage (%s)', async (model, provider) => {
    const stream = client.messages.stream({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Hello again' }] });
    const events: MessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalMessage();
    expect(events[0]?.type).toBe('message_start');
    expect(events.slice(1, 2).map((e) => e.type)).toEqual(['content_block_start']);
    expect(events.slice(-3).map((e) => e.type)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const deltas = events.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [e.delta.text] : []));
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.content).toEqual([{ type: 'text', text: deltas.join('') }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    const delta = events.find((e) => e.type === 'message_delta');
    expect(meta(delta)).toMatchObject({ provider, cache_hit: false });
  });

  test.each(MODELS)('%s: a tool-use round trip, the tool_result sent back (%s)', async (model) => {
    const question: MessageParam = { role: 'user', content: 'Weather in Paris?' };
    const first = await client.messages.create({ model, max_tokens: 256, messages: [question], tools: [weatherTool] });
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((b) => b.type === 'tool_use');
    if (call?.type !== 'tool_use') throw new Error(`${model}: no tool_use block`);
    expect(call.name).toBe('get_weather');
    expect(call.id).not.toBe('');
    expect(typeof call.input).toBe('object');
    const second = await client.messages.create({
      model,
      max_tokens: 256,
      tools: [weatherTool],
      messages: [
        question,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Drizzle, 14 degrees' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    const text = second.content.find((b) => b.type === 'text');
    expect(text?.type === 'text' && text.text).toContain('Drizzle, 14 degrees');
  });

  test.each(MODELS)('%s: a streamed tool call: its input arrives as input_json deltas and adds up to the final block (%s)', async (model) => {
    const stream = client.messages.stream({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] });
    const events: MessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalMessage();
    const call = final.content.find((b) => b.type === 'tool_use');
    if (call?.type !== 'tool_use') throw new Error(`${model}: no tool_use block`);
    const json = events.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' ? [e.delta.partial_json] : [])).join('');
    expect(JSON.parse(json === '' ? '{}' : json)).toEqual(call.input);
    expect(final.stop_reason).toBe('tool_use');
  });

  test.each(MODELS)('%s: a base64 image reaches the provider in its own format (%s)', async (model, provider) => {
    const message = await client.messages.create({
      model,
      max_tokens: 256,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PIXEL } },
            { type: 'text', text: 'What is in this image?' },
          ],
        },
      ],
    });
    expect(message.content[0]?.type).toBe('text');
    const sent = fakes[provider].requests.at(-1)?.body ?? '';
    expect(sent).toContain(PIXEL);
    expect(sent).toContain('What is in this image?');
  });

  test('a route alias as the model, as ANTHROPIC_MODEL=smart sends it', async () => {
    const message = await client.messages.create({ model: 'smart', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    expect(meta(message)).toMatchObject({ provider: 'ollama' });
  });

  test('top_k reaches Ollama in its options, and is not sent to OpenAI, which refuses unknown parameters', async () => {
    const params = { max_tokens: 64, top_k: 20, messages: [{ role: 'user' as const, content: 'Hi' }] };
    await client.messages.create({ ...params, model: 'ollama/llama3.2' });
    expect(fakes.ollama.requests.at(-1)?.json).toMatchObject({ options: { top_k: 20, num_predict: 64 } });
    await client.messages.create({ ...params, model: 'openai/gpt-4o' });
    expect(fakes.openai.requests.at(-1)?.json).not.toHaveProperty('top_k');
  });

  test('a cached answer (temperature 0) is answered again in the Messages format, whole and streamed', async () => {
    const params = { model: 'openai/gpt-4o', max_tokens: 64, temperature: 0, messages: [{ role: 'user' as const, content: 'Cache me' }] };
    const first = await client.messages.create(params);
    const again = await client.messages.create(params);
    expect(meta(first).cache_hit).toBe(false);
    expect(meta(again).cache_hit).toBe(true);
    expect(again.content).toEqual(first.content);
    const stream = client.messages.stream(params);
    const replayed = await stream.finalMessage();
    expect(replayed.content).toEqual(first.content);
  });

  test.each(MODELS)('%s: messages.countTokens counts (Anthropic exactly, the others by estimate, said in a header) (%s)', async (model, provider) => {
    const params = { model, messages: [{ role: 'user' as const, content: 'How many tokens is this question?' }], tools: [weatherTool] };
    const before = fakes[provider].requests.length;
    const { data, response } = await client.messages.countTokens(params).withResponse();
    expect(Number.isInteger(data.input_tokens) && data.input_tokens > 0).toBe(true);
    expect(response.headers.get('x-gateway-token-count')).toBe(provider === 'anthropic' ? 'exact' : 'estimate');
    if (provider === 'anthropic') expect(fakes.anthropic.requests.at(-1)?.path).toBe('/v1/messages/count_tokens');
    else expect(fakes[provider].requests).toHaveLength(before);
  });

  test('every target overloaded (Anthropic 529, OpenAI 503) is 529 overloaded_error; one that failed otherwise makes it 502 api_error', async () => {
    const ask = () => client.messages.create({ model: 'busy', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    fakes.anthropic.setBehaviour({ status: 529, times: 1 });
    fakes.openai.setBehaviour({ status: 503, times: 1 });
    expect(await ask()).toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error' } } });
    fakes.anthropic.setBehaviour({ status: 529, times: 1 });
    fakes.openai.setBehaviour({ status: 500, times: 1 });
    expect(await ask()).toMatchObject({ status: 502, error: { type: 'error', error: { type: 'api_error' } } });
  });

  describe('passed through to Anthropic', () => {
    test("the client's bytes and anthropic-beta reach Anthropic unchanged; its answer comes back with x_gateway", async () => {
      const body = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Bytes, please' }] });
      const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
        method: 'POST',
        headers: {
          'x-api-key': DEFAULT_KEY,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
          'anthropic-beta': 'prompt-caching-2024-07-31',
        },
        body,
      });
      expect(res.status).toBe(200);
      const message = (await res.json()) as { type: string; x_gateway: { provider: string } };
      expect(message.type).toBe('message');
      expect(message.x_gateway.provider).toBe('anthropic');
      const forwarded = fakes.anthropic.requests.at(-1);
      expect(forwarded?.path).toBe('/v1/messages');
      expect(forwarded?.body).toBe(body);
      expect(forwarded?.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
      expect(forwarded?.headers['x-api-key']).not.toBe(DEFAULT_KEY);
    });

    test("Anthropic's server tools and signed thinking go to Anthropic; the same request to another provider is a 400 naming the tool", async () => {
      const params = {
        max_tokens: 64,
        tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 2 }],
        messages: [
          { role: 'user' as const, content: 'News?' },
          {
            role: 'assistant' as const,
            content: [
              { type: 'thinking' as const, thinking: 'Look it up.', signature: 'EqQBCgIYAhIM' },
              { type: 'text' as const, text: 'Searching.' },
            ],
          },
          { role: 'user' as const, content: 'Go on' },
        ],
      };
      const message = await client.messages.create({ ...params, model: 'claude-haiku-4-5' });
      expect(meta(message).provider).toBe('anthropic');
      expect(fakes.anthropic.requests.at(-1)?.json).toMatchObject({ tools: params.tools, messages: params.messages });
      const refused = await client.messages.create({ ...params, model: 'openai/gpt-4o' }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error' } } });
      expect(String((refused as Error).message)).toContain('web_search_20250305');
    });
  });

  describe('a recorded Claude Code request (system blocks with cache_control, 16 tools, thinking, metadata.user_id, stream)', () => {
    test.each(MODELS)('%s: streamed with its headers and ?beta=true; the events arrive in order (%s)', async (model, provider) => {
      const res = await fetch(`${gw.url}${CLAUDE_CODE.url}`, {
        method: 'POST',
        headers: { ...CLAUDE_CODE.headers, 'x-api-key': DEFAULT_KEY },
        body: JSON.stringify({ ...CLAUDE_CODE.body, model }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = parseEvents(await res.text());
      for (const { event, data } of events) expect(data.type).toBe(event);
      // Pings may come anywhere after message_start (Anthropic's own pass through as they come).
      const types = events.map((e) => e.event).filter((type) => type !== 'ping');
      expect(types.slice(0, 2)).toEqual(['message_start', 'content_block_start']);
      expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
      expect(new Set(types.slice(2, -3))).toEqual(new Set(['content_block_delta']));
      const text = events.flatMap(({ data }) => (data.type === 'content_block_delta' ? [(data.delta as { text: string }).text] : [])).join('');
      // The conversation ends with a tool result, which every fake answers by quoting it.
      expect(text).toMatch(/^The tool said: /);
      const delta = events.at(-2)?.data as { delta: { stop_reason: string }; usage: { output_tokens: number }; x_gateway: { provider: string } };
      expect(delta.delta.stop_reason).toBe('end_turn');
      expect(delta.usage.output_tokens).toBeGreaterThan(0);
      expect(delta.x_gateway.provider).toBe(provider);
      if (provider === 'anthropic') {
        // Passed through: Claude Code's beta flags reach Anthropic, and its body only has its model changed.
        const forwarded = fakes.anthropic.requests.at(-1);
        expect(forwarded?.headers['anthropic-beta']).toBe(CLAUDE_CODE.headers['anthropic-beta']);
        expect(forwarded?.json).toEqual({ ...CLAUDE_CODE.body, model: 'claude-haiku-4-5' });
      }
      // The provider was sent the system prompt and every tool.
      const sent = fakes[provider].requests.at(-1)?.body ?? '';
      expect(sent).toContain("You are Claude Code, Anthropic's official CLI for Claude.");
      for (const name of ['Task', 'Bash', 'Glob', 'Grep', 'TodoWrite', 'WebSearch']) expect(sent).toContain(`"${name}"`);
    });

    test('thinking (budget 4000) reaches OpenAI as reasoning_effort low, metadata.user_id as user', async () => {
      const res = await fetch(`${gw.url}${CLAUDE_CODE.url}`, {
        method: 'POST',
        headers: { ...CLAUDE_CODE.headers, authorization: `Bearer ${DEFAULT_KEY}` },
        body: JSON.stringify({ ...CLAUDE_CODE.body, model: 'openai/gpt-4o' }),
      });
      expect(res.status).toBe(200);
      await res.text();
      const sent = fakes.openai.requests.at(-1)?.json as Record<string, unknown>;
      expect(sent).toMatchObject({ reasoning_effort: 'low', user: '[USER_ID_REMOVED]', max_completion_tokens: 20000, stream: true });
      expect((sent.tools as unknown[]).length).toBe(CLAUDE_CODE.body.tools.length);
    });
  });
});
