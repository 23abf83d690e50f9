// Hostile nesting: JSON nested far deeper than any real request (100,000 levels) must be refused
// with a 400 naming the field, not overflow the stack somewhere down the pipeline (a 500 a tenant
// could trigger at will). Over real sockets, with raw bodies and with the official SDK.
import OpenAI from 'openai';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const auth = { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' };

/** `depth` nested arrays, as raw text: built without JSON.stringify, which could not. */
const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
/** `depth` nested objects `{"a":{"a":…}}` as raw text. */
const nestedObjects = (depth: number): string => '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);

/** A value nested `depth` levels, as an object the SDK can serialize (below JSON.stringify's own limit). */
function nestedValue(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe('deeply nested JSON', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    gw = await startGateway(
      { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, MAX_BODY_BYTES: String(4 * 1024 * 1024) },
      { routing: { fallback_providers: [] } },
    );
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const post = (path: string, body: string): Promise<Response> => fetch(`${gw.url}${path}`, { method: 'POST', headers: auth, body });

  async function expectTooDeep(res: Response, param: string): Promise<void> {
    const body = (await res.json()) as ErrorBody;
    expect({ status: res.status, param: body.error.param, type: body.error.type }).toEqual({ status: 400, param, type: 'invalid_request_error' });
    expect(body.error.code).toBe('json_too_deep');
    expect(body.error.message).toContain('64');
    expect(body.error.message).toContain(param);
  }

  const servesNormally = async (): Promise<void> => {
    const ok = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'still there?' }] });
    expect(ok.choices[0]?.message.content).toBeTruthy();
  };

  test.each([
    [
      'message content (arrays)',
      (deep: string) => `{"model":"gpt-4o","messages":[{"role":"user","content":${deep}}]}`,
      nestedArrays(100_000),
      'messages[0].content[0][0][0]',
    ],
    [
      'an extra message field (objects)',
      (deep: string) => `{"model":"gpt-4o","messages":[{"role":"user","content":"x","meta":${deep}}]}`,
      nestedObjects(100_000),
      'messages[0].meta.a.a.a',
    ],
    [
      'tool parameters',
      (deep: string) =>
        `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`,
      nestedObjects(100_000),
      'tools[0].function.parameters.a.a',
    ],
    [
      'a top-level field',
      (deep: string) => `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"metadata":${deep}}`,
      nestedArrays(100_000),
      'metadata[0][0][0][0][0]',
    ],
  ])('100,000 levels in %s: 400 naming the field, and the process keeps serving', async (_name, wrap, deep, param) => {
    const before = upstream.requests.length;
    await expectTooDeep(await post('/v1/chat/completions', wrap(deep)), param);
    expect(upstream.requests.length).toBe(before); // refused before anything went upstream
    await servesNormally();
  });

  test('the same on a stream request and on embeddings', async () => {
    await expectTooDeep(
      await post('/v1/chat/completions', `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}],"x":${nestedArrays(100_000)}}`),
      'x[0][0][0][0][0]',
    );
    await expectTooDeep(await post('/v1/embeddings', `{"model":"text-embedding-3-small","input":"x","extra":${nestedObjects(100_000)}}`), 'extra.a.a.a.a.a');
  });

  test('the bound is 64 levels: 64 pass, 65 are refused', async () => {
    // The body object is level 1, "metadata" (the outermost of the nested arrays) level 2: 63 arrays reach level 64.
    const at = (levels: number): string => `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"metadata":${nestedArrays(levels)}}`;
    expect((await post('/v1/chat/completions', at(63))).status).toBe(200);
    await expectTooDeep(await post('/v1/chat/completions', at(64)), 'metadata[0][0][0][0][0]');
  });

  test('the official SDK gets a 400 (BadRequestError) for nested messages and tool parameters', async () => {
    const deep = nestedValue(1000);
    const messages = [{ role: 'user', content: 'x', meta: deep }] as unknown as OpenAI.ChatCompletionMessageParam[];
    const err1 = await client.chat.completions.create({ model: 'gpt-4o', messages }).catch((e: unknown) => e);
    expect(err1).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err1 as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[0].meta.a.a.a');
    const err2 = await client.chat.completions
      .create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'f', parameters: deep } }],
      })
      .catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err2 as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools[0].function.parameters.a.a');
    expect((err2 as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/deeper than 64/);
    await servesNormally();
  });

  test('many deep bodies at once: all refused, the process keeps serving', async () => {
    const body = `{"model":"gpt-4o","messages":[{"role":"user","content":${nestedArrays(200_000)}}]}`;
    const statuses = await Promise.all(Array.from({ length: 10 }, async () => (await post('/v1/chat/completions', body)).status));
    expect(statuses).toEqual(Array(10).fill(400));
    await servesNormally();
  });
});
