// The OpenAI Responses API (POST /v1/responses) with the official `openai` package as the client,
// served by every provider, against the recorded-format fakes: OpenAI natively (its own /v1/responses,
// see responses-native.test.ts), the others through the canonical chat model.
import OpenAI, { APIError } from 'openai';
import type { Response, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { readFixtureJson, splitSse } from '../fakes/fixtures';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { startFourProviders, type FourProviders } from '../helpers/four-providers';
import { DEFAULT_KEY, type TestGateway } from '../helpers/gateway';
import { meta, weatherTool } from '../helpers/responses-client';

const MODELS: Array<[string, string]> = [
  ['openai/gpt-4o', 'openai'],
  ['anthropic/claude-haiku-4-5', 'anthropic'],
  ['bedrock/anthropic.claude-3-haiku-20240307-v1:0', 'bedrock'],
  ['ollama/llama3.2', 'ollama'],
];
/** The providers served through the canonical chat model, whose answers are the chat route's. */
const TRANSLATED_MODELS = MODELS.filter(([, provider]) => provider !== 'openai');

/** The typed events of one raw SSE body (`event:` and `data:` lines). */
function parseEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return splitSse(text).map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
    const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Record<string, unknown>;
    return { event, data };
  });
}

describe('the Responses API, every provider', () => {
  let four: FourProviders;
  let fakes: FourProviders['fakes'];
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    four = await startFourProviders({
      routing: {
        routes: {
          resilient: {
            targets: [
              { provider: 'anthropic', model: 'claude-haiku-4-5' },
              { provider: 'ollama', model: 'llama3.2' },
            ],
          },
        },
      },
    });
    ({ fakes, gw } = four);
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(() => four.close());
  afterEach(() => four.reset());

  test.each(TRANSLATED_MODELS)('%s: responses.create answers the text chat completions answers, as a response object (%s)', async (model, provider) => {
    const response = await client.responses.create({ model, input: 'Hello' });
    const chat = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] });
    expect(response).toMatchObject({ object: 'response', status: 'completed', error: null, incomplete_details: null, store: true, tools: [] });
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(response.output[0]?.id).toMatch(/^msg_/);
    expect(response.output_text).not.toBe('');
    expect(response.output_text).toBe(chat.choices[0]?.message.content);
    expect(response.usage).toEqual({
      input_tokens: chat.usage?.prompt_tokens,
      input_tokens_details: { cached_tokens: chat.usage?.prompt_tokens_details?.cached_tokens ?? 0 },
      output_tokens: chat.usage?.completion_tokens,
      output_tokens_details: { reasoning_tokens: chat.usage?.completion_tokens_details?.reasoning_tokens ?? 0 },
      total_tokens: chat.usage?.total_tokens,
    });
    expect(meta(response)).toMatchObject({ provider, cache_hit: false });
  });

  test.each(MODELS)(
    '%s: responses.stream delivers the text deltas in order, then the final response with usage and x_gateway (%s)',
    async (model, provider) => {
      const stream = client.responses.stream({ model, input: 'Hello again' });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const final = await stream.finalResponse();
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      expect(events.slice(0, 4).map((e) => e.type)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
      ]);
      expect(events.slice(-4).map((e) => e.type)).toEqual([
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
      expect(deltas.length).toBeGreaterThan(1);
      expect(final.output_text).toBe(deltas.join(''));
      expect(final.id).toBe((events[0] as { response: Response }).response.id);
      expect(final.status).toBe('completed');
      expect(final.usage?.output_tokens).toBeGreaterThan(0);
      expect(final.usage?.total_tokens).toBe((final.usage?.input_tokens ?? 0) + (final.usage?.output_tokens ?? 0));
      expect(meta(final)).toMatchObject({ provider, cache_hit: false });
    },
  );

  test("create({ stream: true }) yields the provider's text deltas one by one, in order", async () => {
    fakes.ollama.setBehaviour({ streamChunks: 3 });
    const stream = await client.responses.create({ model: 'ollama/llama3.2', input: 'Count', stream: true });
    const deltas: string[] = [];
    let completed: Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') deltas.push(event.delta);
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(deltas).toEqual(['tok0 ', 'tok1 ', 'tok2 ']);
    expect(completed?.output[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'tok0 tok1 tok2 ' }] });
    expect(meta(completed)).toMatchObject({ provider: 'ollama' });
  });

  test.each(MODELS)('%s: a function call round trip with explicit input items (%s)', async (model) => {
    const first = await client.responses.create({ model, input: 'Weather in Paris?', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error(`${model}: no function call`);
    expect(call).toMatchObject({ name: 'get_weather', status: 'completed' });
    expect(call.id).toMatch(/^fc_/);
    expect(call.call_id).not.toBe('');
    expect(() => JSON.parse(call.arguments) as unknown).not.toThrow();
    const input: ResponseInputItem[] = [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: 'Drizzle, 14 degrees' },
    ];
    const second = await client.responses.create({ model, input, tools: [weatherTool] });
    expect(second.status).toBe('completed');
    expect(second.output_text).toContain('Drizzle, 14 degrees');
  });

  test('a streamed function call: its arguments arrive as deltas and add up to the final item', async () => {
    const stream = client.responses.stream({ model: 'anthropic/claude-haiku-4-5', input: 'Weather in Paris?', tools: [weatherTool] });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    const deltas = events.flatMap((e) => (e.type === 'response.function_call_arguments.delta' ? [e.delta] : []));
    expect(deltas.join('')).toBe(call.arguments);
    const done = events.find((e) => e.type === 'response.function_call_arguments.done');
    expect(done).toMatchObject({ item_id: call.id, arguments: call.arguments });
    expect(call).toMatchObject({ name: 'get_weather', status: 'completed' });
  });

  test('instructions become the system prompt; the request fields come back in the response', async () => {
    const response = await client.responses.create({
      model: 'anthropic/claude-haiku-4-5',
      instructions: 'Answer like a pirate.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello' }] }],
      temperature: 0.3,
      top_p: 0.9,
      max_output_tokens: 200,
      metadata: { ticket: 'T-1' },
      store: false,
    });
    const sent = fakes.anthropic.requests.at(-1)?.json as { system: unknown; messages: unknown; max_tokens: number; temperature: number };
    expect(JSON.stringify(sent.system)).toContain('Answer like a pirate.');
    expect(sent.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }]);
    expect(sent).toMatchObject({ max_tokens: 200, temperature: 0.3 });
    expect(response).toMatchObject({
      instructions: 'Answer like a pirate.',
      temperature: 0.3,
      top_p: 0.9,
      max_output_tokens: 200,
      metadata: { ticket: 'T-1' },
      store: false,
      previous_response_id: null,
      tool_choice: 'auto',
      parallel_tool_calls: true,
      text: { format: { type: 'text' } },
    });
  });

  test('text.format json_schema reaches the provider as its structured output, and is echoed', async () => {
    const format = { type: 'json_schema' as const, name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } }, strict: true };
    const response = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'A city?', text: { format } });
    const sent = fakes.anthropic.requests.at(-1)?.json as { output_config?: unknown };
    expect(sent.output_config).toEqual({ format: { type: 'json_schema', schema: format.schema } });
    expect(response.text?.format).toEqual(format);
  });

  test('an answer cut at max_output_tokens is incomplete', async () => {
    const message = readFixtureJson<Record<string, unknown>>('anthropic/messages-nonstream.response.json');
    fakes.anthropic.setBehaviour({ status: 200, body: JSON.stringify({ ...message, stop_reason: 'max_tokens' }) });
    const response = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Tell me everything', max_output_tokens: 16 });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
    expect(response.output_text).not.toBe('');
  });

  test('a stream that fails after its first byte ends with response.failed carrying the error', async () => {
    fakes.anthropic.setBehaviour({ streamChunks: 5, failAfterChunks: 4 });
    const res = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic/claude-haiku-4-5', input: 'Fail midway', stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = parseEvents(await res.text());
    expect(events.map((e) => e.event)).toContain('response.output_text.delta');
    const last = events.at(-1);
    expect(last?.event).toBe('response.failed');
    expect(last?.data).toMatchObject({
      type: 'response.failed',
      response: { status: 'failed', error: { code: expect.any(String), message: expect.any(String) } },
    });
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
  });

  test('a provider that fails before the first byte falls back to the next target, whole and streamed', async () => {
    fakes.anthropic.setBehaviour({ status: 500 });
    const response = await client.responses.create({ model: 'resilient', input: 'Hello' });
    expect(meta(response).provider).toBe('ollama');
    expect(meta(response).attempts[0]).toMatchObject({ provider: 'anthropic', status: 502 });
    const streamed = await client.responses.stream({ model: 'resilient', input: 'Hello' }).finalResponse();
    expect(meta(streamed).provider).toBe('ollama');
    expect(streamed.output_text).not.toBe('');
  });

  test('built-in tools, unknown fields and uploaded files are refused with a 400 naming them', async () => {
    const refusal = async (body: Record<string, unknown>): Promise<APIError> => {
      const err = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Hi', ...body }).catch((e: unknown) => e);
      if (!(err instanceof APIError)) throw new Error('expected an API error');
      return err;
    };
    const builtIn = await refusal({ tools: [{ type: 'web_search' }] });
    expect(builtIn.status).toBe(400);
    expect(builtIn.message).toContain("'web_search' tool is not available on this provider");
    expect(builtIn.param).toBe('tools[0].type');
    const unknown = await refusal({ temprature: 0.2 });
    expect(unknown).toMatchObject({ status: 400, param: 'temprature', code: 'unknown_parameter' });
    const file = await refusal({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] });
    expect(file).toMatchObject({ status: 400, param: 'input[0].content[0].file_id' });
  });

  test('a cached answer is a new response, whole or replayed as a stream, and costs nothing', async () => {
    const options = { headers: { 'x-cache-ttl': '60' } };
    const first = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'cache me' }, options);
    const calls = fakes.anthropic.requests.length;
    const again = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'cache me' }, options);
    const replayed = await client.responses.stream({ model: 'anthropic/claude-haiku-4-5', input: 'cache me' }, options).finalResponse();
    expect(fakes.anthropic.requests.length).toBe(calls);
    expect(meta(first).cache_hit).toBe(false);
    for (const hit of [again, replayed]) {
      expect(meta(hit)).toMatchObject({ cache_hit: true, cost_usd: 0 });
      expect(hit.output_text).toBe(first.output_text);
      expect(hit.id).not.toBe(first.id);
    }
  });

  test('each response is one usage event in /v1/usage, at the cost the client was told', async () => {
    gw.tenants.put('gw-responses', { ...DEFAULT_TENANT, id: 'responses', name: 'responses' });
    const own = new OpenAI({ apiKey: 'gw-responses', baseURL: gw.baseURL, maxRetries: 0 });
    const whole = await own.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'bill me' });
    const streamed = await own.responses.stream({ model: 'openai/gpt-4o', input: 'bill me too' }).finalResponse();
    await gw.gateway.flush();
    const usage = (await (await fetch(`${gw.baseURL}/usage`, { headers: { authorization: 'Bearer gw-responses' } })).json()) as {
      request_count: number;
      prompt_tokens: number;
      completion_tokens: number;
      total_cost_usd: number;
    };
    expect(usage.request_count).toBe(2);
    expect(usage.prompt_tokens).toBe((whole.usage?.input_tokens ?? 0) + (streamed.usage?.input_tokens ?? 0));
    expect(usage.completion_tokens).toBe((whole.usage?.output_tokens ?? 0) + (streamed.usage?.output_tokens ?? 0));
    expect(meta(whole).cost_usd).toBeGreaterThan(0);
    expect(usage.total_cost_usd).toBeCloseTo(meta(whole).cost_usd + meta(streamed).cost_usd, 10);
  });
});
