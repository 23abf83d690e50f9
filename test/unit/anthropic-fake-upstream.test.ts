// The fake Anthropic upstream answers as the real Messages API does (recorded fixtures).
import { startAnthropicUpstream, type FakeUpstream } from '../fakes/anthropic-upstream';
import { readFixture, readFixtureJson } from '../fakes/fixtures';

const KEY = 'sk-ant-fake-0123456789';
const HEADERS = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };

interface ErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string;
}
interface MessageBody {
  id: string;
  model: string;
  content: Array<{ type: string; text?: string; name?: string; id?: string; input?: unknown }>;
  stop_reason: string;
}

const WEATHER = { name: 'lookup_weather', description: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } };
const simple = { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

describe('fake Anthropic upstream', () => {
  let up: FakeUpstream;
  let messages: string;
  const post = (body: unknown, headers: Record<string, string> = HEADERS): Promise<Response> =>
    fetch(messages, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    up = await startAnthropicUpstream({ apiKey: KEY });
    messages = `${up.url}/v1/messages`;
  });
  afterAll(() => up.close());
  afterEach(() => up.setBehaviour(null));

  test('url is the bare origin and the default key is sk-ant-test', async () => {
    expect(up.url).toBe(`http://127.0.0.1:${up.port}`);
    const other = await startAnthropicUpstream();
    try {
      const res = await fetch(`${other.url}/v1/messages`, {
        method: 'POST',
        headers: { ...HEADERS, 'x-api-key': 'sk-ant-test' },
        body: JSON.stringify(simple),
      });
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  test('checks x-api-key (401 authentication_error, key not echoed) and anthropic-version', async () => {
    const wrong = await post(simple, { ...HEADERS, 'x-api-key': 'sk-ant-wrong-abcdef' });
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as ErrorBody;
    expect(body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(JSON.stringify(body)).not.toContain('sk-ant-wrong');
    expect(wrong.headers.get('request-id')).toMatch(/^req_fake/);
    const { 'anthropic-version': _v, ...noVersion } = HEADERS;
    const missing = await post(simple, noVersion);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as ErrorBody).error.message).toContain('anthropic-version');
  });

  test.each(['model', 'max_tokens', 'messages'])('400 invalid_request_error naming a missing %s', async (field) => {
    const body: Record<string, unknown> = { ...simple };
    delete body[field];
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toEqual({ type: 'invalid_request_error', message: `${field}: Field required` });
  });

  test('unknown model is a 404 not_found_error; invalid JSON a 400', async () => {
    const res = await post({ ...simple, model: 'gpt-4o' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).error).toEqual({ type: 'not_found_error', message: 'model: gpt-4o' });
    expect((await post('{nope')).status).toBe(400);
  });

  test('plain request → the recorded text message', async () => {
    const res = await post(simple);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(readFixtureJson('anthropic/messages-nonstream.response.json'));
  });

  test("tools → the recorded tool_use answer, renamed to the request's first tool; tool_choice none → text", async () => {
    const res = await post({ ...simple, tools: [WEATHER] });
    const body = (await res.json()) as MessageBody;
    expect(body.stop_reason).toBe('tool_use');
    expect(body.content[0]).toMatchObject({
      type: 'tool_use',
      name: 'lookup_weather',
      id: 'toolu_013DU6hV4C1M8dJ32ybQFAFi',
      input: { location: 'SF', units: 'c' },
    });
    const none = (await (await post({ ...simple, tools: [WEATHER], tool_choice: { type: 'none' } })).json()) as MessageBody;
    expect(none.stop_reason).toBe('end_turn');
  });

  test('a tool_result in the last user turn is answered "The tool said: …", whole or streamed', async () => {
    const turn = {
      ...simple,
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup_weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Snow, -3 C' }] },
      ],
    };
    const body = (await (await post(turn)).json()) as MessageBody;
    expect(body.content).toEqual([{ type: 'text', text: 'The tool said: Snow, -3 C' }]);
    expect(body.stop_reason).toBe('end_turn');

    const events = (await (await post({ ...turn, stream: true })).text()).split('\n\n').filter((e) => e !== '');
    const data = events.map(
      (e) => JSON.parse(e.slice(e.indexOf('data: ') + 'data: '.length)) as { type: string; delta?: { text?: string; stop_reason?: string } },
    );
    const text = data.flatMap((d) => (d.type === 'content_block_delta' ? [d.delta?.text ?? ''] : [])).join('');
    expect(text).toBe('The tool said: Snow, -3 C');
    expect(data.find((d) => d.type === 'message_delta')?.delta?.stop_reason).toBe('end_turn');
  });

  test('a tool_result without a tool_use in the previous turn gets the recorded 400', async () => {
    const recorded = readFixtureJson<{ body: ErrorBody }>('anthropic/error-400.recorded.json').body;
    const res = await post({
      ...simple,
      messages: [
        { role: 'user', content: "What's the weather in SF in Celsius?" },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01GHndag5wQmbzNihYmV2UBj', content: 'x' }] },
      ],
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toEqual(recorded.error);
  });

  test('stream replays the recorded SSE byte for byte, one event per write', async () => {
    const res = await post({ ...simple, stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await res.text()).toBe(readFixture('anthropic/messages-stream.sse.txt'));
  });

  test('tool stream replays the recorded tool stream with the tool renamed', async () => {
    const text = await (await post({ ...simple, stream: true, tools: [WEATHER] })).text();
    expect(text).toBe(readFixture('anthropic/tools-stream.sse.txt').replace('"name":"get_weather"', '"name":"lookup_weather"'));
  });

  test('streamChunks: N synthetic text deltas between the recorded start and stop events', async () => {
    up.setBehaviour({ streamChunks: 3 });
    const text = await (await post({ ...simple, stream: true })).text();
    const deltas = [...text.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]);
    expect(deltas).toEqual(['tok0 ', 'tok1 ', 'tok2 ']);
    expect(text.startsWith('event: message_start\n')).toBe(true);
    expect(text).toContain('"output_tokens":3');
    expect(text.endsWith('event: message_stop\ndata: {"type":"message_stop"         }\n\n')).toBe(true);
  });

  test('failAfterChunks: N events, then an overloaded_error event, then the end', async () => {
    up.setBehaviour({ failAfterChunks: 2 });
    const text = await (await post({ ...simple, stream: true })).text();
    const events = text.split('\n\n').filter((e) => e !== '');
    expect(events).toHaveLength(3);
    expect(`${events[2]}\n\n`).toBe(readFixtureJson<{ stream_error_event_sse: string }>('anthropic/errors.json').stream_error_event_sse);
  });

  test.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [529, 'overloaded_error'],
  ])('Behaviour.status %p → an Anthropic %s body', async (status, type) => {
    up.setBehaviour({ status, times: 1 });
    const res = await post(simple);
    expect(res.status).toBe(status);
    const body = (await res.json()) as ErrorBody;
    expect(body.type).toBe('error');
    expect(body.error.type).toBe(type);
    expect(res.headers.get('x-should-retry')).toBe(status === 429 || status >= 500 ? 'true' : 'false');
    expect((await post(simple)).status).toBe(200); // times: 1
  });

  test('529 says "Overloaded"; 429 is the recorded body', async () => {
    up.setBehaviour({ status: 529 });
    expect(((await (await post(simple)).json()) as ErrorBody).error.message).toBe('Overloaded');
    up.setBehaviour({ status: 429 });
    const recorded = readFixtureJson<{ body: ErrorBody }>('anthropic/error-429.recorded.json').body;
    expect(((await (await post(simple)).json()) as ErrorBody).error).toEqual(recorded.error);
  });

  test('GET /v1/models lists models; unknown paths are 404 not_found_error', async () => {
    const res = await fetch(`${up.url}/v1/models`, { headers: HEADERS });
    const list = (await res.json()) as { data: Array<{ id: string; type: string }>; has_more: boolean };
    expect(list.data.map((m) => m.type)).toEqual(['model', 'model']);
    expect(list.has_more).toBe(false);
    const nope = await fetch(`${up.url}/v1/complete`, { method: 'POST', headers: HEADERS, body: '{}' });
    expect(nope.status).toBe(404);
  });

  test('records requests with headers and parsed bodies', async () => {
    await post({ ...simple, system: [{ type: 'text', text: 'be brief' }] });
    const last = up.requests.at(-1);
    expect(last?.path).toBe('/v1/messages');
    expect(last?.headers['x-api-key']).toBe(KEY);
    expect(last?.json).toMatchObject({ system: [{ type: 'text', text: 'be brief' }] });
  });

  test('count_tokens: the documented exchange answers the documented count; another request a count of its words', async () => {
    const doc = readFixtureJson<{ request: object; response: { input_tokens: number } }>('anthropic/count-tokens.json');
    const count = (body: unknown): Promise<Response> => fetch(`${messages}/count_tokens`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
    const documented = await count(doc.request);
    expect(documented.status).toBe(200);
    expect(await documented.json()).toEqual(doc.response);
    const own = await count({ model: 'claude-haiku-4-5', system: 'be brief', messages: [{ role: 'user', content: 'one two three' }] });
    expect(await own.json()).toEqual({ input_tokens: 6 }); // every string: "user", "one two three", "be brief"
    const noMessages = await count({ model: 'claude-haiku-4-5' });
    expect(noMessages.status).toBe(400);
    expect(((await noMessages.json()) as ErrorBody).error.message).toContain('messages');
    expect((await count({ model: 'gpt-4o', messages: [] })).status).toBe(404);
  });

  test('records each request body as the bytes that arrived', async () => {
    const body = '{"model":"claude-haiku-4-5",   "max_tokens":8,"messages":[{"role":"user","content":"h\u00e9"}]}';
    await post(body);
    expect(up.requests.at(-1)?.raw.equals(Buffer.from(body))).toBe(true);
  });
});
