import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startOllamaUpstream } from './ollama-upstream';
import { readFixtureJson, type FakeUpstream } from './fixtures';
import { startOpenAIUpstream } from './openai-upstream';
import { eventually } from '../helpers/eventually';

const KEY = 'sk-test-0123456789abcdef';
const AUTH = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

function post(url: string, body: unknown, headers: Record<string, string> = AUTH, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body), signal });
}

/** `data: ` payloads of an SSE body, checking every event is `data: ...\n\n`. */
function sseData(text: string): string[] {
  expect(text.endsWith('\n\n')).toBe(true);
  const events = text.slice(0, -2).split('\n\n');
  for (const e of events) expect(e.startsWith('data: ')).toBe(true);
  return events.map((e) => e.slice('data: '.length));
}

interface Chunk {
  choices: Array<{ delta: { content?: string | null; tool_calls?: Array<{ function: { name?: string; arguments?: string } }> }; finish_reason: string | null }>;
  usage?: { completion_tokens: number };
}

const WEATHER_TOOL = { type: 'function', function: { name: 'lookup_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('fake OpenAI upstream', () => {
  let up: FakeUpstream;
  let chat: string;
  beforeAll(async () => {
    up = await startOpenAIUpstream({ apiKey: KEY });
    chat = `${up.url}/chat/completions`;
  });
  afterAll(() => up.close());
  afterEach(() => up.setBehaviour(null));

  const simple = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };

  test('url includes /v1 and auth is enforced without echoing the key', async () => {
    expect(up.url).toBe(`http://127.0.0.1:${up.port}/v1`);
    const missing = await post(chat, simple, { 'content-type': 'application/json' });
    expect(missing.status).toBe(401);
    const wrongKey = 'sk-wrong-key-abcdefghijklmnop';
    const wrong = await post(chat, simple, { authorization: `Bearer ${wrongKey}` });
    expect(wrong.status).toBe(401);
    const err = (await wrong.json()) as { error: { message: string; type: string; param: null; code: string } };
    expect(err.error).toMatchObject({ type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
    expect(err.error.message).toMatch(/^Incorrect API key provided: /);
    expect(err.error.message).not.toContain(wrongKey);
  });

  test('GET /models and non-stream chat return the fixtures', async () => {
    const models = await fetch(`${up.url}/models`, { headers: AUTH });
    expect(await models.json()).toEqual(readFixtureJson('openai/models-list.response.json'));

    const res = await post(chat, simple);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(readFixtureJson('openai/chat-nonstream.recorded.response.json'));
    const rec = up.requests.at(-1)!;
    expect(rec).toMatchObject({ method: 'POST', path: '/v1/chat/completions', json: simple });
    expect(rec.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  test('tool call, then tool result', async () => {
    const call = (await (await post(chat, { ...simple, tools: [WEATHER_TOOL] })).json()) as {
      model: string;
      choices: Array<{ finish_reason: string; message: { content: null; tool_calls: Array<{ id: string; function: { name: string; arguments: string } }> } }>;
    };
    expect(call.model).toBe('gpt-4o-2024-08-06');
    const choice = call.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const tc = choice.message.tool_calls[0]!;
    expect(tc.function.name).toBe('lookup_weather');
    expect(JSON.parse(tc.function.arguments)).toMatchObject({ city: 'Edinburgh' });

    const messages = [
      ...simple.messages,
      { role: 'assistant', content: null, tool_calls: [tc] },
      { role: 'tool', tool_call_id: tc.id, content: '18C and sunny' },
    ];
    const answer = (await (await post(chat, { ...simple, messages, tools: [WEATHER_TOOL] })).json()) as { choices: Array<{ message: { content: string } }> };
    expect(answer.choices[0]!.message.content).toBe('The tool said: 18C and sunny');

    const streamed = sseData(await (await post(chat, { ...simple, messages, tools: [WEATHER_TOOL], stream: true })).text());
    const chunks = streamed.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('The tool said: 18C and sunny');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  test('SSE stream: framing, [DONE], usage chunk only with include_usage', async () => {
    const res = await post(chat, { ...simple, stream: true });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const data = sseData(await res.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(chunks.some((c) => c.choices.length === 0 || c.usage)).toBe(false);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toMatch(/^I'm unable to provide real-time weather updates\./);

    const withUsage = sseData(await (await post(chat, { ...simple, stream: true, stream_options: { include_usage: true } })).text());
    const usageChunk = JSON.parse(withUsage.at(-2)!) as Chunk;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 30, total_tokens: 44 });
  });

  test('SSE tool-call stream carries the request tool name', async () => {
    const data = sseData(await (await post(chat, { ...simple, stream: true, tools: [WEATHER_TOOL] })).text());
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]!.function.name).toBe('lookup_weather');
    expect(JSON.parse(calls.map((c) => c.function.arguments ?? '').join(''))).toEqual({ city: 'New York City' });
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  test('streamChunks and failAfterChunks', async () => {
    up.setBehaviour({ streamChunks: 3 });
    const data = sseData(await (await post(chat, { ...simple, stream: true, stream_options: { include_usage: true } })).text());
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(chunks).toHaveLength(1 + 3 + 1 + 1);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('tok0 tok1 tok2 ');
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 3 });

    up.setBehaviour({ failAfterChunks: 2, times: 1 });
    const res = await post(chat, { ...simple, stream: true });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect(up.aborted).toBe(0); // a deliberate drop is not a client abort
  });

  test('status behaviour with times reverts; invalid JSON 400; unknown path 404', async () => {
    up.setBehaviour({ status: 429, times: 1 });
    const limited = await post(chat, simple);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    expect((await post(chat, simple)).status).toBe(200);

    up.setBehaviour({ status: 500, body: '{"error":{"message":"boom","type":"server_error","param":null,"code":null}}' });
    expect(await (await post(chat, simple)).text()).toContain('boom');
    expect((await post(chat, simple)).status).toBe(500);
    up.setBehaviour(null);

    const bad = await post(chat, '{not json');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');

    const missing = await fetch(`${up.url}/nope`, { headers: AUTH });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe('Invalid URL (GET /v1/nope)');
  });

  test('hang until the client aborts; the abort is counted', async () => {
    up.setBehaviour({ hang: true, times: 1 });
    const before = up.aborted;
    const n = up.requests.length;
    const ac = new AbortController();
    const pending = post(chat, simple, AUTH, ac.signal);
    await eventually('the request reaches the fake', () => up.requests.length > n, 1_000, 5);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await eventually('the fake counts the abort', () => up.aborted === before + 1, 1_000, 5);
    expect((await post(chat, simple)).status).toBe(200);
  });
});

describe('fake OpenAI upstream: the Responses API, as the openai SDK sees it', () => {
  let up: FakeUpstream;
  let client: OpenAI;
  beforeAll(async () => {
    up = await startOpenAIUpstream({ apiKey: KEY });
    client = new OpenAI({ apiKey: KEY, baseURL: up.url, maxRetries: 0, timeout: 5000 });
  });
  afterAll(() => up.close());
  afterEach(() => up.setBehaviour(null));

  const WEATHER = {
    type: 'function' as const,
    name: 'lookup_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    strict: true,
  };

  test('create: the recorded text answer, with the request model and a fresh id', async () => {
    const response = await client.responses.create({ model: 'gpt-4.1-mini', input: "What's the weather like in SF?" });
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.model).toBe('gpt-4.1-mini');
    expect(response.id).toMatch(/^resp_/);
    expect(response.output_text).toMatch(/^I can't provide real-time updates/);
    expect(response.usage).toMatchObject({ input_tokens: 14, output_tokens: 50, total_tokens: 64 });
    const second = await client.responses.create({ model: 'gpt-4.1-mini', input: 'again' });
    expect(second.id).not.toBe(response.id);
    expect(up.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/responses' });
  });

  test('create with tools: a function_call item named after the request tool', async () => {
    const response = await client.responses.create({ model: 'gpt-4o', input: 'Weather in Paris?', tools: [WEATHER] });
    const call = response.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'lookup_weather', status: 'completed' });
    expect(call?.type === 'function_call' && call.call_id).toMatch(/^call_/);

    const answered = await client.responses.create({
      model: 'gpt-4o',
      tools: [WEATHER],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call_output', call_id: 'call_1', output: '18C and sunny' },
      ],
    });
    expect(answered.output.some((item) => item.type === 'function_call')).toBe(false);
    expect(answered.output_text).toBe('The tool said: 18C and sunny');

    const streamed = await client.responses
      .stream({ model: 'gpt-4o', tools: [WEATHER], input: [{ type: 'function_call_output', call_id: 'call_1', output: 'Mist, 7C' }] })
      .finalResponse();
    expect(streamed.output_text).toBe('The tool said: Mist, 7C');
  });

  test('streamChunks: that many text deltas in the recorded frame, numbered, the final response carrying their text', async () => {
    up.setBehaviour({ streamChunks: 3 });
    const stream = await client.responses.create({ model: 'gpt-4o', input: 'Count', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []))).toEqual(['tok0 ', 'tok1 ', 'tok2 ']);
    const done = events.at(-1);
    if (done?.type !== 'response.completed') throw new Error('no response.completed');
    expect(done.response).toMatchObject({ model: 'gpt-4o', usage: { output_tokens: 3 } });
    expect(done.response.output[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'tok0 tok1 tok2 ' }] });
  });

  test('stream: every event in order, numbered, named by its event line; the SDK assembles the text', async () => {
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'What is the capital of Minas Gerais?', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]?.type).toBe('response.created');
    expect(events.at(-1)?.type).toBe('response.completed');
    const types = new Set(events.map((e) => e.type));
    for (const t of [
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
    ]) {
      expect(types).toContain(t);
    }
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('The capital of Minas Gerais is Belo Horizonte.');
    const done = events.at(-1);
    expect(done?.type === 'response.completed' && done.response.model).toBe('gpt-4o-mini');

    // On the wire each event is `event: <type>` + `data: <json with the same type>`.
    const raw = await (await post(`${up.url}/responses`, { model: 'gpt-4o-mini', input: 'hi', stream: true })).text();
    for (const block of raw.trim().split('\n\n')) {
      const [eventLine, dataLine] = block.split('\n');
      expect(JSON.parse(dataLine!.slice('data: '.length)).type).toBe(eventLine!.slice('event: '.length));
    }
  });

  test('stream helper: function_call_arguments deltas, a reasoning item, and the final response', async () => {
    const stream = client.responses.stream({ model: 'gpt-5', input: 'Weather in Paris?', tools: [WEATHER] });
    const deltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.model).toBe('gpt-5');
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'function_call']);
    const call = final.output[1];
    expect(call?.type === 'function_call' && call.name).toBe('lookup_weather');
    expect(call?.type === 'function_call' && call.arguments).toBe(deltas.join(''));
    expect(final.usage?.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
  });

  test('retrieve and delete a stored response; a deleted or unstored one is not found', async () => {
    const created = await client.responses.create({ model: 'gpt-4o', input: 'hi' });
    const again = await client.responses.retrieve(created.id);
    expect(again).toMatchObject({ id: created.id, model: 'gpt-4o', output_text: created.output_text });

    const streamed = client.responses.stream({ model: 'gpt-4o', input: 'hi' });
    const streamedFinal = await streamed.finalResponse();
    expect((await client.responses.retrieve(streamedFinal.id)).output_text).toBe(streamedFinal.output_text);

    const deleted = await client.responses.delete(created.id).asResponse();
    expect(await deleted.json()).toEqual({ id: created.id, object: 'response', deleted: true });
    const gone = await client.responses.retrieve(created.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect((gone as InstanceType<typeof OpenAI.NotFoundError>).message).toContain(`Response with id '${created.id}' not found.`);

    const unstored = await client.responses.create({ model: 'gpt-4o', input: 'hi', store: false });
    await expect(client.responses.retrieve(unstored.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    // A conversation continues only from a stored response.
    const next = await client.responses.create({ model: 'gpt-4o', input: 'and then?', previous_response_id: streamedFinal.id });
    expect(next.status).toBe('completed');
    const orphan = await client.responses.create({ model: 'gpt-4o', input: 'and then?', previous_response_id: unstored.id }).catch((e: unknown) => e);
    expect(orphan).toBeInstanceOf(OpenAI.BadRequestError);
    expect(orphan).toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
  });

  test('auth, status behaviours, bad bodies and a dropped stream, as on the chat route', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-wrong-key-abcdefghijklmnop', baseURL: up.url, maxRetries: 0 });
    await expect(wrong.responses.create({ model: 'gpt-4o', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    up.setBehaviour({ status: 429, times: 1 });
    await expect(client.responses.create({ model: 'gpt-4o', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    up.setBehaviour({
      status: 400,
      body: '{"error":{"message":"Invalid \'temperature\'","type":"invalid_request_error","param":"temperature","code":null}}',
      times: 1,
    });
    await expect(client.responses.create({ model: 'gpt-4o', input: 'hi' })).rejects.toThrow("Invalid 'temperature'");

    expect((await post(`${up.url}/responses`, '{not json')).status).toBe(400);
    const noModel = await post(`${up.url}/responses`, { input: 'hi' });
    expect(noModel.status).toBe(400);
    expect(((await noModel.json()) as { error: { param: string } }).error.param).toBe('model');

    up.setBehaviour({ failAfterChunks: 3, times: 1 });
    const res = await post(`${up.url}/responses`, { model: 'gpt-4o', input: 'hi', stream: true });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });
});

describe('fake Ollama upstream', () => {
  let up: FakeUpstream;
  let chat: string;
  beforeAll(async () => {
    up = await startOllamaUpstream();
    chat = `${up.url}/api/chat`;
  });
  afterAll(() => up.close());
  afterEach(() => up.setBehaviour(null));

  const JSON_HDR = { 'content-type': 'application/json' };
  const ask = { model: 'llama3.2', messages: [{ role: 'user', content: 'why is the sky blue?' }] };

  interface OllamaObj {
    model: string;
    message: { role: string; content: string; tool_calls?: Array<{ function: { name: string; arguments: Record<string, unknown> } }> };
    done: boolean;
    done_reason?: string;
    eval_count?: number;
    error?: string;
  }
  const ndjson = (text: string): OllamaObj[] => {
    expect(text.endsWith('\n')).toBe(true);
    return text
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l) as OllamaObj);
  };

  test('root, version, tags, unknown path', async () => {
    expect(up.url).toBe(`http://127.0.0.1:${up.port}`);
    expect(await (await fetch(`${up.url}/`)).text()).toBe('Ollama is running');
    expect(await (await fetch(`${up.url}/api/version`)).json()).toEqual({ version: '0.12.0' });
    expect(await (await fetch(`${up.url}/api/tags`)).json()).toEqual(readFixtureJson('ollama/tags.response.json'));
    const nf = await fetch(`${up.url}/v2/whatever`);
    expect(nf.status).toBe(404);
    expect(await nf.text()).toBe('404 page not found');
  });

  test('stream defaults to true: NDJSON lines, last is done:true', async () => {
    const res = await post(chat, ask, JSON_HDR);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = ndjson(await res.text());
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ done: true, done_reason: 'stop', model: 'llama3.2', prompt_eval_count: 26, eval_count: 282 });
    expect(lines.slice(0, -1).every((l) => !l.done)).toBe(true);
    expect(lines.map((l) => l.message.content).join('')).toBe('The sky is blue.');
  });

  test('non-stream text, tools and tool result; model names with/without :latest', async () => {
    for (const model of ['llama3.2', 'llama3.2:latest', 'deepseek-r1']) {
      const r = (await (await post(chat, { ...ask, model, stream: false }, JSON_HDR)).json()) as OllamaObj;
      expect(r).toMatchObject({ model, done: true, message: { role: 'assistant', content: 'Hello! How are you today?' } });
    }
    const tool = { type: 'function', function: { name: 'lookup_weather', parameters: {} } };
    const call = (await (await post(chat, { ...ask, tools: [tool], stream: false }, JSON_HDR)).json()) as OllamaObj;
    expect(call.message.tool_calls?.[0]?.function).toEqual({ name: 'lookup_weather', arguments: { city: 'Tokyo' } });

    const messages = [...ask.messages, { role: 'assistant', content: '', tool_calls: call.message.tool_calls }, { role: 'tool', content: 'sunny' }];
    const answer = (await (await post(chat, { ...ask, messages, tools: [tool], stream: false }, JSON_HDR)).json()) as OllamaObj;
    expect(answer.message.content).toBe('The tool said: sunny');

    const streamed = ndjson(await (await post(chat, { ...ask, tools: [tool] }, JSON_HDR)).text());
    expect(streamed[0]!.message.tool_calls?.[0]?.function.name).toBe('lookup_weather');
    expect(streamed.at(-1)!.done).toBe(true);
  });

  test('unknown model 404, invalid JSON 400', async () => {
    const nf = await post(chat, { ...ask, model: 'gpt-4o' }, JSON_HDR);
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: 'model "gpt-4o" not found, try pulling it first' });
    const bad = await post(chat, 'nope', JSON_HDR);
    expect(bad.status).toBe(400);
    expect(typeof ((await bad.json()) as { error: unknown }).error).toBe('string');
  });

  test('streamChunks, failAfterChunks mid-stream error line', async () => {
    up.setBehaviour({ streamChunks: 4, times: 1 });
    const lines = ndjson(await (await post(chat, ask, JSON_HDR)).text());
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.message.content).join('')).toBe('tok0 tok1 tok2 tok3 ');
    expect(lines.at(-1)).toMatchObject({ done: true, eval_count: 4 });

    up.setBehaviour({ failAfterChunks: 2, chunkDelayMs: 5 });
    const res = await post(chat, ask, JSON_HDR);
    expect(res.status).toBe(200);
    const failed = ndjson(await res.text());
    expect(failed).toHaveLength(3);
    expect(failed.at(-1)).toEqual({ error: 'an error was encountered while running the model' });
  });

  test('status behaviour with times reverts; delay; hang + abort', async () => {
    up.setBehaviour({ status: 500, times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await post(chat, ask, JSON_HDR);
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ error: 'the model failed to generate a response' });
    }
    expect((await post(chat, { ...ask, stream: false }, JSON_HDR)).status).toBe(200);

    up.setBehaviour({ delayMs: 60, times: 1 });
    const t0 = Date.now();
    await (await post(chat, { ...ask, stream: false }, JSON_HDR)).json();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);

    up.setBehaviour({ hang: true });
    const before = up.aborted;
    const n = up.requests.length;
    const ac = new AbortController();
    const pending = post(chat, ask, JSON_HDR, ac.signal);
    await eventually('the request reaches the fake', () => up.requests.length > n, 1_000, 5);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await eventually('the fake counts the abort', () => up.aborted === before + 1, 1_000, 5);
  });
});
