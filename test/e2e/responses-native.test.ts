// The Responses API served natively by OpenAI: the official `openai` package against the gateway,
// whose OpenAI target is the fake's own /v1/responses (never its chat completions).
import OpenAI, { APIError } from 'openai';
import type { Response, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { startFourProviders, type FourProviders } from '../helpers/four-providers';
import { DEFAULT_KEY, type TestGateway } from '../helpers/gateway';
import { meta, weatherTool } from '../helpers/responses-client';

describe('the Responses API served natively by OpenAI', () => {
  let four: FourProviders;
  let fakes: FourProviders['fakes'];
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    four = await startFourProviders({
      routing: {
        routes: {
          'native-first': {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'anthropic', model: 'claude-haiku-4-5' },
            ],
          },
        },
      },
    });
    ({ fakes, gw } = four);
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(() => four.close());
  beforeEach(() => {
    // Each test reads only the requests it made.
    for (const fake of Object.values(fakes)) fake.requests.length = 0;
  });
  afterEach(() => four.reset());

  const openaiPaths = (): string[] => fakes.openai.requests.map((r) => r.path);

  test("create is OpenAI's own response, forwarded byte for byte, with x_gateway added", async () => {
    const response = await client.responses.create({ model: 'openai/gpt-4o', input: 'Hello', metadata: { k: 'v' } });
    expect(openaiPaths()).toEqual(['/v1/responses']);
    const sent = fakes.openai.requests[0];
    // The model differs (the route's prefix is gone), so the body is re-encoded once with it.
    expect(sent?.json).toEqual({ model: 'gpt-4o', input: 'Hello', metadata: { k: 'v' } });
    expect(response.id).toMatch(/^resp_fake/);
    expect(response.status).toBe('completed');
    expect(response.output_text).not.toBe('');
    expect(meta(response)).toMatchObject({ provider: 'openai', cache_hit: false });
    expect(meta(response).cost_usd).toBeGreaterThan(0);
  });

  test('a request whose model needs no rewriting reaches OpenAI as the client sent it', async () => {
    const body = '{"model":"gpt-4o",  "input":"Same bytes"}';
    const res = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json', 'x-provider': 'openai' },
      body,
    });
    expect(res.status).toBe(200);
    expect(fakes.openai.requests[0]?.body).toBe(body);
  });

  test('a stream passes OpenAI events through in order; the completed event carries x_gateway; usage is billed', async () => {
    gw.tenants.put('gw-native', { ...DEFAULT_TENANT, id: 'native', name: 'native' });
    const own = new OpenAI({ apiKey: 'gw-native', baseURL: gw.baseURL, maxRetries: 0 });
    const stream = own.responses.stream({ model: 'openai/gpt-4o', input: 'Hello again' });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(openaiPaths()).toEqual(['/v1/responses']);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]?.type).toBe('response.created');
    expect(events.at(-1)?.type).toBe('response.completed');
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.output_text).toBe(deltas.join(''));
    expect(meta(final)).toMatchObject({ provider: 'openai', cache_hit: false });
    await gw.gateway.flush();
    const usage = (await (await fetch(`${gw.baseURL}/usage`, { headers: { authorization: 'Bearer gw-native' } })).json()) as {
      request_count: number;
      prompt_tokens: number;
      completion_tokens: number;
      total_cost_usd: number;
    };
    expect(usage).toMatchObject({ request_count: 1, prompt_tokens: final.usage?.input_tokens, completion_tokens: final.usage?.output_tokens });
    expect(usage.total_cost_usd).toBeCloseTo(meta(final).cost_usd, 10);
  });

  test('a built-in tool is forwarded to OpenAI, and refused with a 400 naming it on a translated provider', async () => {
    const response = await client.responses.create({ model: 'openai/gpt-4o', input: 'News?', tools: [{ type: 'web_search' }] });
    expect(response.status).toBe('completed');
    expect(fakes.openai.requests[0]?.json).toMatchObject({ tools: [{ type: 'web_search' }] });
    const err = await client.responses
      .create({ model: 'anthropic/claude-haiku-4-5', input: 'News?', tools: [{ type: 'web_search' }] })
      .catch((e: unknown) => e);
    if (!(err instanceof APIError)) throw new Error('expected an API error');
    expect(err).toMatchObject({ status: 400, param: 'tools[0].type', code: 'unsupported_tool' });
    expect(err.message).toContain("'web_search' tool is not available on this provider");
    expect(fakes.anthropic.requests).toHaveLength(0);
  });

  test("a built-in tool's call replayed inline, and a tool_choice naming the tool, reach OpenAI as sent", async () => {
    const searched = { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'news' } } as ResponseInputItem;
    const input: ResponseInputItem[] = [{ role: 'user', content: 'News?' }, searched, { role: 'user', content: 'More?' }];
    const body = {
      model: 'openai/gpt-4o',
      store: false,
      input,
      tools: [{ type: 'web_search_preview' as const }],
      tool_choice: { type: 'web_search_preview' as const },
    };
    const response = await client.responses.create(body);
    expect(response.status).toBe('completed');
    expect(fakes.openai.requests[0]?.json).toEqual({ ...body, model: 'gpt-4o' });
    const err = await client.responses.create({ ...body, model: 'anthropic/claude-haiku-4-5', tools: [] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, param: 'tool_choice.type' });
  });

  test('a function call round trip continued on OpenAI names the response OpenAI keeps, by id, with only the new input', async () => {
    const first = await client.responses.create({ model: 'openai/gpt-4o', input: 'Weather in Paris?', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    await gw.gateway.flush();
    const input: ResponseInputItem[] = [{ type: 'function_call_output', call_id: call.call_id, output: 'Drizzle, 14 degrees' }];
    const second = await client.responses.create({ model: 'openai/gpt-4o', previous_response_id: first.id, input, tools: [weatherTool] });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toContain('Drizzle, 14 degrees');
    // OpenAI holds the first turn whole (reasoning and built-in tool items too): no expanded history.
    const sent = fakes.openai.requests.at(-1)?.json;
    expect(sent).toEqual({ model: 'gpt-4o', previous_response_id: first.id, input, tools: [weatherTool] });
    expect(openaiPaths().every((path) => path === '/v1/responses')).toBe(true);
    await gw.gateway.flush();
    // Same model name as OpenAI's: the client's bytes go through unchanged.
    const body = JSON.stringify({ model: 'gpt-4o', previous_response_id: second.id, input: 'And tomorrow?', stream: true });
    const streamed = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
      body,
    });
    expect(streamed.status).toBe(200);
    const events = await streamed.text();
    expect(fakes.openai.requests.at(-1)?.body).toBe(body);
    const opening = [...events.matchAll(/event: response\.(?:created|in_progress)\ndata: (.*)\n/g)].map(
      (m) => JSON.parse(m[1] ?? '{}') as { response: Response },
    );
    expect(opening.map((e) => e.response.previous_response_id)).toEqual([second.id, second.id]);
  });

  test('a native conversation continued on another provider is sent the whole conversation the gateway kept', async () => {
    const first = await client.responses.create({ model: 'openai/gpt-4o', input: 'Weather in Paris?', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    await gw.gateway.flush();
    const second = await client.responses.create({
      model: 'anthropic/claude-haiku-4-5',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'Drizzle, 14 degrees' }],
      tools: [weatherTool],
    });
    expect(meta(second).provider).toBe('anthropic');
    expect(second.previous_response_id).toBe(first.id);
    const sent = fakes.anthropic.requests.at(-1)?.json as { messages: Array<{ role: string; content: unknown }> };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(sent.messages[1]?.content)).toContain(call.call_id);
    await gw.gateway.flush();
    // And back on OpenAI after a translated turn: OpenAI never saw that turn, so it gets the expanded history.
    const third = await client.responses.create({ model: 'openai/gpt-4o', previous_response_id: second.id, input: 'And tomorrow?' });
    expect(third.previous_response_id).toBe(second.id);
    const resent = fakes.openai.requests.at(-1)?.json as { input: Array<Record<string, unknown>>; previous_response_id?: string };
    expect(resent.previous_response_id).toBeUndefined();
    expect(resent.input[0]).toEqual({ type: 'message', role: 'user', content: 'Weather in Paris?' });
    expect(resent.input.at(-1)).toEqual({ type: 'message', role: 'user', content: 'And tomorrow?' });
    expect(resent.input.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call_output', 'message', 'message']);
  });

  test('a request OpenAI serves natively skips the response cache, which holds canonical answers', async () => {
    const options = { headers: { 'x-cache-ttl': '60' } };
    const first = await client.responses.create({ model: 'openai/gpt-4o', input: 'cache me?' }, options);
    const again = await client.responses.create({ model: 'openai/gpt-4o', input: 'cache me?' }, options);
    expect(openaiPaths()).toEqual(['/v1/responses', '/v1/responses']);
    for (const response of [first, again]) expect(meta(response).cache_hit).toBe(false);
  });

  test('OpenAI failing before the first byte falls back to Anthropic, whole and streamed', async () => {
    fakes.openai.setBehaviour({ status: 500 });
    const response = await client.responses.create({ model: 'native-first', input: 'Hello' });
    expect(meta(response).provider).toBe('anthropic');
    expect(meta(response).attempts[0]).toMatchObject({ provider: 'openai', status: 502 });
    expect(response.output_text).not.toBe('');
    const streamed: Response = await client.responses.stream({ model: 'native-first', input: 'Hello' }).finalResponse();
    expect(meta(streamed).provider).toBe('anthropic');
    expect(streamed.output_text).not.toBe('');
  });

  test('a stream OpenAI cuts after its first byte ends with an error event; what it sent is billed as an estimate', async () => {
    gw.tenants.put('gw-native-cut', { ...DEFAULT_TENANT, id: 'native-cut', name: 'native-cut' });
    fakes.openai.setBehaviour({ streamChunks: 20, failAfterChunks: 8 });
    const res = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer gw-native-cut', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o', input: 'Hello', stream: true }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const types = [...text.matchAll(/^event: (.*)$/gm)].map((m) => m[1]);
    expect(types.slice(0, 3)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);
    expect(types.at(-1)).toBe('error');
    expect(types).not.toContain('response.completed');
    const last = JSON.parse(/data: (.*)\n\n$/.exec(text)?.[1] ?? 'null') as { type: string; sequence_number: number; code: string };
    expect(last).toMatchObject({ type: 'error', sequence_number: types.length - 1 });
    expect(types).toContain('response.output_text.delta');
    await gw.gateway.flush();
    const usage = (await (await fetch(`${gw.baseURL}/usage`, { headers: { authorization: 'Bearer gw-native-cut' } })).json()) as {
      request_count: number;
      completion_tokens: number;
      total_cost_usd: number;
    };
    expect(usage.request_count).toBe(1);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_cost_usd).toBeGreaterThan(0);
  });
});
