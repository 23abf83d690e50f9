// The official `openai` package as the gateway's client, the real BedrockRuntimeClient inside
// the gateway's Bedrock provider, and a fake Bedrock Runtime that speaks restJson1, the binary
// event stream and SigV4 (test/fakes/bedrock-upstream.ts) behind it.
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { BedrockProvider } from '../../functions/adapters/bedrock/provider';
import { CancelSignal } from '../../functions/core/cancel';
import type { GatewayError } from '../../functions/core/errors';
import type { EmbeddingsRequest } from '../../functions/core/openai-types';
import { PriceBook } from '../../functions/core/pricing/pricing';
import type { CallContext } from '../../functions/core/providers/provider';
import { FAKE_AWS, fakeAwsEnv, startBedrockUpstream, type BedrockUpstream, type RecordedRequest } from '../fakes/bedrock-upstream';
import { readFixtureJson } from '../fakes/fixtures';
import { eventually } from '../helpers/eventually';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

const MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0';
const MODEL = `bedrock/${MODEL_ID}`;
const CONVERSE_PATH = `/model/${encodeURIComponent(MODEL_ID)}/converse`;

interface XGateway {
  provider: string;
  model: string;
  cost_usd: number;
  request_id: string;
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

const converseFixture = readFixtureJson<{
  output: { message: { content: Array<{ text: string }> } };
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
}>('bedrock/converse.response.json');
const FIXTURE_TEXT = converseFixture.output.message.content[0]?.text ?? '';
const FIXTURE_TOOL_INPUT = readFixtureJson<{ output: { message: { content: Array<{ toolUse: { input: unknown } }> } } }>(
  'bedrock/converse-tools.response.partial.json',
).output.message.content[0]?.toolUse.input;
const price = readFixtureJson<{ models: Record<string, { input_per_mtok: number; output_per_mtok: number }> }>('../../functions/core/pricing/catalog.json')
  .models[MODEL_ID];

const ctx = (timeoutMs = 5000, signal = new CancelSignal()): CallContext => ({ signal, requestId: 'req-test', timeoutMs });
const xGateway = (o: unknown): XGateway => (o as { x_gateway: XGateway }).x_gateway;
const converseBody = (r: RecordedRequest | undefined) =>
  r?.json as { system?: unknown; messages: Array<{ role: string; content: Array<Record<string, unknown>> }>; inferenceConfig?: unknown; toolConfig?: unknown };

/** Sends raw bytes to the fake, bypassing every SDK. */
function rawPost(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; errorType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, errorType: res.headers['x-amzn-errortype'] as string | undefined, body: Buffer.concat(parts).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('OpenAI SDK → gateway → Bedrock (real BedrockRuntimeClient, SigV4, event stream)', () => {
  let upstream: BedrockUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let provider: BedrockProvider;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    upstream = await startBedrockUpstream();
    // The SDK's own configuration channels: endpoint override, region and the default credential chain.
    for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_BEARER_TOKEN_BEDROCK', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete process.env[k];
    Object.assign(process.env, fakeAwsEnv(upstream.url));
    provider = new BedrockProvider({ region: 'us-east-1', prices: new PriceBook() });
    gw = await startGateway({}, { providers: [provider] });
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterEach(() => upstream.setBehaviour(null));
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    process.env = savedEnv;
  });

  test('chat.completions.create: Converse answer, x_gateway provider bedrock, cost from the catalog', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: MODEL,
        messages: [
          { role: 'system', content: 'Be funny.' },
          { role: 'user', content: 'Tell me a joke' },
        ],
        max_tokens: 100,
        temperature: 0.5,
      })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe(FIXTURE_TEXT);
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.model).toBe(MODEL_ID);
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.usage).toMatchObject({ prompt_tokens: 22, completion_tokens: 16, total_tokens: 38 });
    const meta = xGateway(data);
    expect(meta.provider).toBe('bedrock');
    if (!price) throw new Error('catalog has no price for the model');
    expect(meta.cost_usd).toBeCloseTo((22 * price.input_per_mtok + 16 * price.output_per_mtok) / 1e6, 12);
    expect(response.headers.get('x-gateway-provider')).toBe('bedrock');

    const sent = upstream.requests.at(-1);
    expect(sent?.path).toBe(CONVERSE_PATH);
    expect(converseBody(sent)).toEqual({
      system: [{ text: 'Be funny.' }],
      messages: [{ role: 'user', content: [{ text: 'Tell me a joke' }] }],
      inferenceConfig: { maxTokens: 100, temperature: 0.5 },
    });
    expect(sent?.headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${FAKE_AWS.accessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$`,
      ),
    );
  });

  test('stream: true iterates the event-stream chunks and ends with an x_gateway chunk', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Tell me a joke' }], stream: true });
    let text = '';
    let usageChunks = 0;
    const metas: XGateway[] = [];
    let first = true;
    for await (const chunk of stream) {
      if (first) expect(chunk.choices[0]?.delta.role).toBe('assistant');
      first = false;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageChunks += 1;
      const meta = (chunk as unknown as { x_gateway?: XGateway }).x_gateway;
      if (meta) metas.push(meta);
    }
    expect(text).toBe(FIXTURE_TEXT);
    expect(usageChunks).toBe(0); // not asked for: the gateway keeps it for pricing only
    expect(metas).toHaveLength(1);
    expect(metas[0]?.provider).toBe('bedrock');
    expect(metas[0]?.cost_usd).toBeGreaterThan(0);
    expect(upstream.requests.at(-1)?.path).toBe(`/model/${encodeURIComponent(MODEL_ID)}/converse-stream`);
  });

  test('stream_options.include_usage forwards the metadata usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const usages: OpenAI.CompletionUsage[] = [];
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    expect(usages).toHaveLength(1);
    expect(usages[0]).toMatchObject({ prompt_tokens: 22, completion_tokens: 16, total_tokens: 38 });
  });

  test('chat.completions.stream() helper yields finalChatCompletion()', async () => {
    const runner = client.chat.completions.stream({ model: MODEL, messages: [{ role: 'user', content: 'Tell me a joke' }] });
    const deltas: string[] = [];
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(FIXTURE_TEXT);
    expect(deltas.join('')).toBe(FIXTURE_TEXT);
    expect(final.choices[0]?.finish_reason).toBe('stop');
  });

  test('tool call round trip: toolUse becomes tool_calls, the tool result goes back as toolResult', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.chat.completions.create({ model: MODEL, messages, tools: [weatherTool], tool_choice: 'auto' });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    if (!call || call.type !== 'function') throw new Error('expected a function tool call');
    expect(call.id).toBe('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual(FIXTURE_TOOL_INPUT);
    expect(converseBody(upstream.requests.at(-1)).toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', description: 'Get the weather in a given city', inputSchema: { json: weatherTool.function.parameters } } }],
      toolChoice: { auto: {} },
    });

    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 18 C' });
    const second = await client.chat.completions.create({ model: MODEL, messages, tools: [weatherTool] });
    expect(second.choices[0]?.message.content).toBe('The tool said: Sunny, 18 C');
    expect(converseBody(upstream.requests.at(-1)).messages).toEqual([
      { role: 'user', content: [{ text: 'What is the weather in Paris?' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: call.id, name: 'get_weather', input: FIXTURE_TOOL_INPUT } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: call.id, content: [{ text: 'Sunny, 18 C' }] } }] },
    ]);
  });

  test('streamed tool call: argument fragments assemble in the stream helper', async () => {
    const final = await client.chat.completions
      .stream({ model: MODEL, messages: [{ role: 'user', content: 'weather?' }], tools: [weatherTool] })
      .finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual(FIXTURE_TOOL_INPUT);
  });

  test("runTools helper runs the tool and finishes with the model's answer", async () => {
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: MODEL,
      messages: [{ role: 'user', content: 'What is the weather?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Get the weather',
            parameters: { type: 'object', properties: { sign: { type: 'string' } } },
            parse: (s: string) => JSON.parse(s) as Record<string, unknown>,
            function: (args: Record<string, unknown>) => {
              seen.push(args);
              return 'Cloudy, 12 C';
            },
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe('The tool said: Cloudy, 12 C');
    expect(seen).toEqual([FIXTURE_TOOL_INPUT]);
  });

  test("a ThrottlingException is the gateway's 502 naming bedrock", async () => {
    upstream.setBehaviour({ status: 429 });
    const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(502);
    expect(e.message).toContain('bedrock');
    expect(e.message).toContain('ThrottlingException');
  });

  test("a ValidationException is the client's 400", async () => {
    upstream.setBehaviour({ status: 400 });
    const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('Input validation failed');
  });

  test('an image URL is refused before anything reaches Bedrock', async () => {
    const before = upstream.requests.length;
    const err = await client.chat.completions
      .create({
        model: MODEL,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as { param?: string }).param).toBe('messages[0].content[0].image_url.url');
    expect(upstream.requests.length).toBe(before);
  });

  test('an exception frame mid-stream makes the SDK stream throw', async () => {
    upstream.setBehaviour({ failAfterChunks: 2 });
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain('ModelStreamErrorException');
    expect(text.length).toBeGreaterThan(0); // it did start

    upstream.setBehaviour({ failAfterChunks: 1, status: 429 });
    const throttled = await client.chat.completions
      .stream({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
      .finalChatCompletion()
      .catch((e: unknown) => e);
    expect(String((throttled as Error).message)).toContain('ThrottlingException');
  });

  test('a client that leaves mid-stream cancels the Bedrock request', async () => {
    upstream.setBehaviour({ streamChunks: 100, chunkDelayMs: 20 });
    const abortedBefore = upstream.aborted;
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'count' }], stream: true });
    let n = 0;
    for await (const _ of stream) if (++n === 3) break;
    await eventually('the Bedrock request aborted', () => upstream.aborted !== abortedBefore, 2_000, 20);
    expect(upstream.aborted).toBe(abortedBefore + 1);
  });

  test("models.list shows the catalog's Bedrock models; /health says bedrock ok", async () => {
    const page = await client.models.list();
    const model = page.data.find((m) => m.id === MODEL_ID);
    expect(model && xGateway(model)).toMatchObject({ provider: 'bedrock', input_per_mtok: price?.input_per_mtok });
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { providers: Record<string, string> };
    expect(health.providers.bedrock).toBe('ok');
  });

  test('every request the gateway sent was SigV4-signed and verified by the fake', () => {
    expect(upstream.signatureChecks.length).toBeGreaterThanOrEqual(upstream.requests.length);
    expect(upstream.signatureChecks.filter((c) => !c.ok)).toEqual([]);
  });

  test("the fake refuses unsigned and wrongly signed requests with AWS's 403", async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    const unsigned = await fetch(`${upstream.url}${CONVERSE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });

    // Replays of a genuinely signed request with one signed part changed.
    await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    const signed = upstream.requests.at(-1)!;
    const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]));
    expect((await rawPost(upstream.url, signed.path, headers, signed.body)).status).toBe(200); // the replay itself is fine

    const otherBody = signed.body.replace('hi', 'ho');
    const tampered = await rawPost(
      upstream.url,
      signed.path,
      {
        ...headers,
        'x-amz-content-sha256': createHash('sha256').update(otherBody).digest('hex'),
      },
      otherBody,
    );
    expect([tampered.status, tampered.errorType]).toEqual([403, 'InvalidSignatureException']);
    expect(JSON.parse(tampered.body)).toEqual({ message: expect.stringContaining('signature we calculated does not match') });

    const badSignature = headers.authorization!.replace(/Signature=([0-9a-f])/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    expect((await rawPost(upstream.url, signed.path, { ...headers, authorization: badSignature }, signed.body)).errorType).toBe('InvalidSignatureException');
    const otherKey = headers.authorization!.replace(FAKE_AWS.accessKeyId, 'AKIAOTHEROTHEROTHER1');
    expect((await rawPost(upstream.url, signed.path, { ...headers, authorization: otherKey }, signed.body)).errorType).toBe('UnrecognizedClientException');
  });

  test('a gateway signing with the wrong secret gets 502 "rejected the gateway\'s credentials", without the secret', async () => {
    const wrong = new BedrockProvider({
      prices: new PriceBook(),
      client: new BedrockRuntimeClient({
        region: 'us-east-1',
        endpoint: upstream.url,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler(),
        credentials: { accessKeyId: FAKE_AWS.accessKeyId, secretAccessKey: 'not-the-secret' },
      }),
    });
    const err = await wrong.chat({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }] }, ctx()).catch((e: unknown) => e as GatewayError);
    expect(err).toMatchObject({ status: 502, retryable: true, message: "bedrock rejected the gateway's credentials (InvalidSignatureException)." });
    expect(upstream.signatureChecks.at(-1)).toMatchObject({ ok: false, error: 'InvalidSignatureException' });
  });

  test("an upstream that never answers is a 504 after the call's timeout", async () => {
    upstream.setBehaviour({ hang: true });
    const started = Date.now();
    const err = await provider.chat({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }] }, ctx(200)).catch((e: unknown) => e as GatewayError);
    expect(err).toMatchObject({ status: 504, code: 'upstream_timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('a cancelled call is a 499', async () => {
    upstream.setBehaviour({ hang: true });
    const signal = new CancelSignal();
    const pending = provider.chat({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }] }, ctx(5000, signal)).catch((e: unknown) => e as GatewayError);
    setTimeout(() => signal.cancel(), 50);
    expect(await pending).toMatchObject({ status: 499, retryable: false });
  });

  describe('provider.embed (InvokeModel)', () => {
    const embedReq = (r: EmbeddingsRequest): EmbeddingsRequest => r;

    test('Titan v2: one InvokeModel per input, dimensions, token counts from the body', async () => {
      const before = upstream.requests.length;
      const { response } = await provider.embed(embedReq({ model: 'amazon.titan-embed-text-v2:0', input: ['the quick fox', 'jumps'], dimensions: 256 }), ctx());
      expect(response.object).toBe('list');
      expect(response.model).toBe('amazon.titan-embed-text-v2:0');
      expect(response.data.map((d) => [d.index, (d.embedding as number[]).length])).toEqual([
        [0, 256],
        [1, 256],
      ]);
      expect(response.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
      const sent = upstream.requests.slice(before);
      expect(sent.map((r) => r.path)).toEqual(Array(2).fill(`/model/${encodeURIComponent('amazon.titan-embed-text-v2:0')}/invoke`));
      expect(sent.map((r) => r.json)).toEqual(
        expect.arrayContaining([
          { inputText: 'the quick fox', dimensions: 256 },
          { inputText: 'jumps', dimensions: 256 },
        ]),
      );
    });

    test('Titan v1: the fixed-size model', async () => {
      const { response } = await provider.embed(embedReq({ model: 'amazon.titan-embed-text-v1', input: 'hello there' }), ctx());
      expect((response.data[0]!.embedding as number[]).length).toBe(1536);
      expect(upstream.requests.at(-1)?.json).toEqual({ inputText: 'hello there' });
    });

    test('Cohere: one call for the batch, base64 output, token count from the Bedrock header', async () => {
      const { response } = await provider.embed(embedReq({ model: 'cohere.embed-english-v3', input: ['a b', 'c'], encoding_format: 'base64' }), ctx());
      expect(upstream.requests.at(-1)?.json).toEqual({ texts: ['a b', 'c'], input_type: 'search_document' });
      expect(response.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
      const floats = Buffer.from(response.data[1]?.embedding as string, 'base64');
      expect(floats.length).toBe(1024 * 4);
    });

    test('a chat model is not an embedding model', async () => {
      const err = await provider.embed(embedReq({ model: MODEL_ID, input: 'x' }), ctx()).catch((e: unknown) => e as GatewayError);
      expect(err).toMatchObject({ status: 400, param: 'model' });
    });

    test("through the gateway's /v1/embeddings with the OpenAI SDK", async () => {
      const res = await client.embeddings.create({ model: 'bedrock/amazon.titan-embed-text-v2:0', input: 'hello world' });
      expect(res.data[0]?.embedding).toHaveLength(1024);
      expect(res.usage.prompt_tokens).toBe(2);
    });
  });
});
