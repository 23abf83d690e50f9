// OpenAI ⇄ Bedrock Converse translation and Bedrock error mapping, checked against the Bedrock
// wire-format fixtures (test/fixtures/bedrock/).
import {
  ModelStreamErrorException,
  ResourceNotFoundException,
  ThrottlingException,
  ValidationException,
  type ContentBlock,
  type ConverseCommandOutput,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { bedrockError } from '../../functions/adapters/bedrock/errors';
import { finishReasonOf, toOpenAIChunks, toOpenAICompletion, usageOf, type AnswerMeta } from '../../functions/adapters/bedrock/from-converse';
import { toConverseInput } from '../../functions/adapters/bedrock/to-converse';
import { GatewayError } from '../../functions/core/errors';
import type { ChatCompletionChunk, ChatCompletionRequest, ChatMessage } from '../../functions/core/openai-types';
import type { StreamChunk } from '../../functions/core/chat/model';
import { StreamAssembler } from '../../functions/core/response-cache';
import { fixtureJson, rejectionOf, thrownBy } from './fixture-files';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const meta: AnswerMeta = { id: 'chatcmpl-test', created: 1718269885, model: MODEL };

interface StreamFixture {
  example_text_stream: Array<{ ':event-type': string; payload: Record<string, unknown> }>;
  example_tool_stream: Array<{ ':event-type': string; payload: Record<string, unknown> }>;
}
const streams = (): StreamFixture => fixtureJson<StreamFixture>('bedrock/converse-stream.events.json');
/** A fixture stream as the SDK yields it: one union member per event, named by :event-type. */
const sdkEvents = (events: StreamFixture['example_text_stream']): ConverseStreamOutput[] =>
  events.map((e) => ({ [e[':event-type']]: e.payload }) as unknown as ConverseStreamOutput);

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect(events: ConverseStreamOutput[]): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of toOpenAIChunks(iterate(events), meta)) out.push(c);
  return out;
}

const parse = (c: StreamChunk): ChatCompletionChunk => JSON.parse(c.json) as ChatCompletionChunk;

function badRequestParam(fn: () => unknown): string | null {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(GatewayError);
  expect((err as GatewayError).status).toBe(400);
  expect((err as GatewayError).retryable).toBe(false);
  return (err as GatewayError).param;
}

const req = (messages: ChatMessage[], extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({ model: MODEL, messages, ...extra });

// ---- OpenAI request → Converse input ------------------------------------------------------

describe('toConverseInput', () => {
  it('builds the AWS tool-use doc request from the equivalent OpenAI request', () => {
    const doc = fixtureJson<{
      messages: unknown;
      toolConfig: { tools: Array<{ toolSpec: { name: string; description: string; inputSchema: { json: Record<string, unknown> } } }> };
    }>('bedrock/converse-tools.request.json');
    const spec = doc.toolConfig.tools[0]!.toolSpec;
    const input = toConverseInput(
      req([{ role: 'user', content: 'What is the most popular song on WZPZ?' }], {
        tools: [{ type: 'function', function: { name: spec.name, description: spec.description, parameters: spec.inputSchema.json } }],
      }),
      MODEL,
    );
    expect(input).toEqual({ modelId: MODEL, ...doc });
  });

  it('moves system and developer messages into system[] and keeps the turns in order', () => {
    const input = toConverseInput(
      req([
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'why is the sky blue?' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
        { role: 'assistant', content: 'Rayleigh scattering.' },
        { role: 'user', content: 'and sunsets?' },
      ]),
      MODEL,
    );
    expect(input.system).toEqual([{ text: 'Be terse.' }, { text: 'Answer in English.' }]);
    expect(input.messages).toEqual([
      { role: 'user', content: [{ text: 'why is the sky blue?' }] },
      { role: 'assistant', content: [{ text: 'Rayleigh scattering.' }] },
      { role: 'user', content: [{ text: 'and sunsets?' }] },
    ]);
    expect(input.inferenceConfig).toBeUndefined();
    expect(input.toolConfig).toBeUndefined();
  });

  it('merges consecutive messages of one role, since Converse needs alternating turns', () => {
    const input = toConverseInput(
      req([
        { role: 'user', content: 'first' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'second' },
            { type: 'text', text: 'third' },
          ],
        },
        { role: 'assistant', content: 'a' },
        { role: 'assistant', content: 'b' },
      ]),
      MODEL,
    );
    expect(input.messages).toEqual([
      { role: 'user', content: [{ text: 'first' }, { text: 'second' }, { text: 'third' }] },
      { role: 'assistant', content: [{ text: 'a' }, { text: 'b' }] },
    ]);
  });

  it('turns data-URL images into image blocks with bytes and format', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    const input = toConverseInput(
      req([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
            { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/' } },
            { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklG' } },
            { type: 'image_url', image_url: { url: 'data:image/gif;base64,R0lG' } },
          ],
        },
      ]),
      MODEL,
    );
    const blocks = input.messages?.[0]?.content ?? [];
    expect(blocks[0]).toEqual({ text: 'what is this?' });
    const image = blocks[1]?.image;
    expect(image?.format).toBe('png');
    expect(Buffer.from(image?.source?.bytes ?? new Uint8Array())).toEqual(png);
    expect(blocks.slice(2).map((b) => b.image?.format)).toEqual(['jpeg', 'webp', 'gif']);
  });

  it('refuses image URLs (Converse needs bytes), other image types and unknown part types, naming the part', () => {
    expect(
      badRequestParam(() =>
        toConverseInput(
          req([
            {
              role: 'user',
              content: [
                { type: 'text', text: 'x' },
                { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
              ],
            },
          ]),
          MODEL,
        ),
      ),
    ).toBe('messages[0].content[1].image_url.url');
    expect(
      badRequestParam(() =>
        toConverseInput(req([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] }]), MODEL),
      ),
    ).toBe('messages[0].content[0].image_url.url');
    expect(
      badRequestParam(() =>
        toConverseInput(
          req([
            { role: 'user', content: 'hi' },
            { role: 'user', content: [{ type: 'input_audio', input_audio: {} }] },
          ]),
          MODEL,
        ),
      ),
    ).toBe('messages[1].content[0].type');
    expect(
      badRequestParam(() =>
        toConverseInput(
          req([
            { role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] },
            { role: 'user', content: 'hi' },
          ]),
          MODEL,
        ),
      ),
    ).toBe('messages[0].content[0].type');
    expect(badRequestParam(() => toConverseInput(req([{ role: 'function', content: 'x', name: 'f' } as unknown as ChatMessage]), MODEL))).toBe(
      'messages[0].role',
    );
  });

  it('maps tools and every tool_choice form', () => {
    const tools: ChatCompletionRequest['tools'] = [
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      },
      { type: 'function', function: { name: 'now' } },
    ];
    const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
    const config = (tool_choice?: unknown) => toConverseInput(req(messages, { tools, tool_choice }), MODEL).toolConfig;
    expect(config()?.tools).toEqual([
      {
        toolSpec: {
          name: 'get_weather',
          description: 'Weather in a city',
          inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } },
        },
      },
      { toolSpec: { name: 'now', inputSchema: { json: { type: 'object', properties: {} } } } },
    ]);
    expect(config()?.toolChoice).toBeUndefined();
    expect(config('auto')?.toolChoice).toEqual({ auto: {} });
    expect(config('required')?.toolChoice).toEqual({ any: {} });
    expect(config({ type: 'function', function: { name: 'now' } })?.toolChoice).toEqual({ tool: { name: 'now' } });
    expect(config('none')).toBeUndefined();
    expect(toConverseInput(req(messages, { tools: [] }), MODEL).toolConfig).toBeUndefined();
    expect(badRequestParam(() => config('sometimes'))).toBe('tool_choice');
    expect(badRequestParam(() => config({ type: 'function' }))).toBe('tool_choice');
  });

  it('turns assistant tool calls into toolUse blocks and tool messages into grouped toolResult turns', () => {
    const input = toConverseInput(
      req([
        { role: 'user', content: 'weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'Rainy' }] },
        { role: 'user', content: 'thanks, and tomorrow?' },
      ]),
      MODEL,
    );
    const blocks: ContentBlock[][] = (input.messages ?? []).map((m) => m.content ?? []);
    expect(input.messages?.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(blocks[1]).toEqual([
      { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
      { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: {} } },
    ]);
    expect(blocks[2]).toEqual([
      { toolResult: { toolUseId: 'call_1', content: [{ text: 'Sunny' }] } },
      { toolResult: { toolUseId: 'call_2', content: [{ text: 'Rainy' }] } },
      { text: 'thanks, and tomorrow?' },
    ]);
  });

  it('declares the tools a history used when the request carries none (Converse refuses tool blocks without toolConfig)', () => {
    const history: ChatMessage[] = [
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
    ];
    expect(toConverseInput(req(history), MODEL).toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }],
    });
    // tool_choice "none" with the definitions at hand: those definitions, and no toolChoice.
    const tools: ChatCompletionRequest['tools'] = [
      { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    expect(toConverseInput(req(history, { tools, tool_choice: 'none' }), MODEL).toolConfig).toEqual({
      tools: [
        { toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } },
      ],
    });
    expect(toConverseInput(req([{ role: 'user', content: 'hi' }]), MODEL).toolConfig).toBeUndefined();
  });

  it('refuses tool-call arguments that are not a JSON object, naming the call', () => {
    for (const args of ['{not json', '[1,2]', '"text"']) {
      expect(
        badRequestParam(() =>
          toConverseInput(
            req([
              { role: 'user', content: 'x' },
              { role: 'assistant', content: '', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }] },
            ]),
            MODEL,
          ),
        ),
      ).toBe('messages[1].tool_calls[0].function.arguments');
    }
  });

  it('maps max tokens, temperature, top_p and stop into inferenceConfig', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
    expect(
      toConverseInput(req(messages, { max_tokens: 100, max_completion_tokens: 50, temperature: 0.2, top_p: 0.9, stop: ['END', 'STOP'] }), MODEL)
        .inferenceConfig,
    ).toEqual({ maxTokens: 50, temperature: 0.2, topP: 0.9, stopSequences: ['END', 'STOP'] });
    expect(toConverseInput(req(messages, { max_tokens: 100, stop: 'END', temperature: 0 }), MODEL).inferenceConfig).toEqual({
      maxTokens: 100,
      temperature: 0,
      stopSequences: ['END'],
    });
  });

  it('allows only one choice', () => {
    expect(badRequestParam(() => toConverseInput(req([{ role: 'user', content: 'hi' }], { n: 2 }), MODEL))).toBe('n');
    expect(() => toConverseInput(req([{ role: 'user', content: 'hi' }], { n: 1 }), MODEL)).not.toThrow();
  });

  it('maps response_format json_schema to structured output and refuses schema-less JSON mode', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    const input = toConverseInput(
      req([{ role: 'user', content: 'hi' }], { response_format: { type: 'json_schema', json_schema: { name: 'thing', schema } } }),
      MODEL,
    );
    expect(input.outputConfig).toEqual({ textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'thing', schema: JSON.stringify(schema) } } } });
    expect(toConverseInput(req([{ role: 'user', content: 'hi' }], { response_format: { type: 'text' } }), MODEL).outputConfig).toBeUndefined();
    expect(badRequestParam(() => toConverseInput(req([{ role: 'user', content: 'hi' }], { response_format: { type: 'json_object' } }), MODEL))).toBe(
      'response_format.type',
    );
  });
});

// ---- Converse output → OpenAI completion --------------------------------------------------

describe('toOpenAICompletion', () => {
  it('translates the recorded Converse answer', () => {
    const out = fixtureJson<ConverseCommandOutput>('bedrock/converse.response.json');
    const c = toOpenAICompletion(out, meta);
    expect(c).toEqual({
      id: meta.id,
      object: 'chat.completion',
      created: meta.created,
      model: MODEL,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: "Why don't scientists trust atoms? Because they make up everything!", refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 22, completion_tokens: 16, total_tokens: 38, prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 } },
    });
  });

  it('translates the doc tool-use answer into tool_calls with content null', () => {
    const out = fixtureJson<ConverseCommandOutput>('bedrock/converse-tools.response.partial.json');
    const c = toOpenAICompletion(out, meta);
    const choice = c.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' } },
    ]);
  });

  it('joins text blocks and carries reasoning text as `reasoning`', () => {
    const c = toOpenAICompletion(
      {
        output: { message: { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'Think.' } } }, { text: 'A' }, { text: 'B' }] } },
        stopReason: 'end_turn',
        usage: undefined,
      },
      meta,
    );
    expect(c.choices[0]?.message).toMatchObject({ content: 'AB', reasoning: 'Think.' });
  });

  it('maps every stop reason', () => {
    const table: Array<[string | undefined, string]> = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['model_context_window_exceeded', 'length'],
      ['tool_use', 'tool_calls'],
      ['guardrail_intervened', 'content_filter'],
      ['content_filtered', 'content_filter'],
      ['malformed_model_output', 'stop'],
      ['malformed_tool_use', 'stop'],
      ['something_new', 'stop'],
      [undefined, 'stop'],
    ];
    for (const [reason, finish] of table) expect([reason, finishReasonOf(reason)]).toEqual([reason, finish]);
  });

  it('counts cache reads and writes into prompt_tokens, since inputTokens excludes them', () => {
    expect(usageOf({ inputTokens: 100, outputTokens: 20, totalTokens: 470, cacheReadInputTokens: 300, cacheWriteInputTokens: 50 })).toEqual({
      prompt_tokens: 450,
      completion_tokens: 20,
      total_tokens: 470,
      prompt_tokens_details: { cached_tokens: 300, cache_creation_tokens: 50 },
    });
    expect(usageOf(undefined)).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});

// ---- ConverseStream events → OpenAI chunks ------------------------------------------------

describe('toOpenAIChunks', () => {
  it('turns the text stream into role, content, finish and usage chunks that assemble into the sync answer', async () => {
    const chunks = await collect(sdkEvents(streams().example_text_stream));
    const parsed = chunks.map(parse);
    expect(parsed[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(parsed.slice(1).every((c) => c.choices[0]?.delta.role === undefined)).toBe(true);
    const last = chunks[chunks.length - 1]!;
    expect(last.usageOnly).toBe(true);
    expect(parse(last).choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 22,
      completion_tokens: 16,
      total_tokens: 38,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 },
    });
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
    expect(parsed.every((c) => c.id === meta.id && c.model === MODEL && c.object === 'chat.completion.chunk')).toBe(true);

    const assembler = new StreamAssembler();
    for (const c of chunks) assembler.add(c.json);
    const sync = toOpenAICompletion(fixtureJson<ConverseCommandOutput>('bedrock/converse.response.json'), meta);
    const assembled = assembler.result();
    expect(assembled?.choices[0]?.message.content).toBe(sync.choices[0]?.message.content);
    expect(assembled?.choices[0]?.finish_reason).toBe(sync.choices[0]?.finish_reason);
    expect(assembled?.usage).toEqual(sync.usage);
  });

  it('streams a tool call: id and name first, argument fragments on the same index, reassembling to the sync input', async () => {
    const chunks = (await collect(sdkEvents(streams().example_tool_stream))).map(parse);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toEqual({ index: 0, id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'top_song', arguments: '' } });
    expect(calls.slice(1).every((c) => c.index === 0 && c.id === undefined && c.function?.name === undefined)).toBe(true);
    const args = calls.map((c) => c.function?.arguments ?? '').join('');
    const sync = toOpenAICompletion(fixtureJson<ConverseCommandOutput>('bedrock/converse-tools.response.partial.json'), meta);
    expect(JSON.parse(args)).toEqual(JSON.parse(sync.choices[0]?.message.tool_calls?.[0]?.function.arguments ?? ''));
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('keeps a stable tool index per content block when text and two tools interleave', async () => {
    const ev = (e: Record<string, unknown>) => e as unknown as ConverseStreamOutput;
    const chunks = await collect([
      ev({ messageStart: { role: 'assistant' } }),
      ev({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Checking.' } } }),
      ev({ contentBlockStop: { contentBlockIndex: 0 } }),
      ev({ contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_a', name: 'a' } } } }),
      ev({ contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tu_b', name: 'b' } } } }),
      ev({ contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '{"y":' } } } }),
      ev({ contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"x":1}' } } } }),
      ev({ contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '2}' } } } }),
      ev({ messageStop: { stopReason: 'tool_use' } }),
      ev({ metadata: { usage: { inputTokens: 5, outputTokens: 7, totalTokens: 12 }, metrics: { latencyMs: 1 } } }),
    ]);
    const assembler = new StreamAssembler();
    for (const c of chunks) assembler.add(c.json);
    const message = assembler.result()?.choices[0]?.message;
    expect(message?.content).toBe('Checking.');
    expect(message?.tool_calls?.map((t) => [t.id, t.function.name, t.function.arguments])).toEqual([
      ['tu_a', 'a', '{"x":1}'],
      ['tu_b', 'b', '{"y":2}'],
    ]);
  });

  it('fails a stream that ends before messageStop, and a fragment for a block that never started', async () => {
    const cut = sdkEvents(streams().example_text_stream).filter((e) => !e.messageStop && !e.metadata);
    const err = (await rejectionOf(collect(cut))) as GatewayError;
    expect([err.status, err.retryable, err.code]).toEqual([502, true, 'upstream_truncated']);
    const orphan = [{ contentBlockDelta: { contentBlockIndex: 3, delta: { toolUse: { input: '{}' } } } }] as unknown as ConverseStreamOutput[];
    expect(await rejectionOf(collect(orphan))).toMatchObject({ status: 502 });
  });

  it('fails on an exception member delivered as an event', async () => {
    const events = [{ messageStart: { role: 'assistant' } }, { throttlingException: { message: 'Too many requests' } }] as unknown as ConverseStreamOutput[];
    const err = (await rejectionOf(collect(events))) as GatewayError;
    expect([err.status, err.retryable]).toEqual([502, true]);
    expect(err.message).toContain('bedrock');
    expect(err.message).toContain('ThrottlingException');
  });
});

// ---- Exceptions → GatewayError ------------------------------------------------------------

describe('bedrockError', () => {
  const $metadata = (httpStatusCode?: number) => ({ httpStatusCode });

  it('maps every Bedrock exception by name', () => {
    const table: Array<[unknown, number, boolean, string | null]> = [
      [new ValidationException({ message: 'Malformed input request', $metadata: $metadata(400) }), 400, false, 'invalid_request'],
      [new ResourceNotFoundException({ message: 'Model not found', $metadata: $metadata(404) }), 404, false, 'model_not_found'],
      [new ThrottlingException({ message: 'Too many requests', $metadata: $metadata(429) }), 502, true, 'upstream_error'],
      [{ name: 'ServiceQuotaExceededException', message: 'quota', $metadata: $metadata(400) }, 502, true, 'upstream_error'],
      [{ name: 'ModelNotReadyException', message: 'warming', $metadata: $metadata(429) }, 502, true, 'upstream_error'],
      [{ name: 'ServiceUnavailableException', message: 'down', $metadata: $metadata(503) }, 502, true, 'upstream_error'],
      [{ name: 'InternalServerException', message: 'oops', $metadata: $metadata(500) }, 502, true, 'upstream_error'],
      [{ name: 'ModelErrorException', message: 'model failed', $metadata: $metadata(424) }, 502, true, 'upstream_error'],
      [new ModelStreamErrorException({ message: 'stream broke', $metadata: $metadata() }), 502, true, 'upstream_error'],
      [{ name: 'ModelTimeoutException', message: 'slow', $metadata: $metadata(408) }, 504, true, 'upstream_timeout'],
      [{ name: 'AccessDeniedException', message: 'no model access', $metadata: $metadata(403) }, 502, true, 'upstream_error'],
      [
        { name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', $metadata: $metadata(403) },
        502,
        true,
        'upstream_error',
      ],
      [{ name: 'ExpiredTokenException', message: 'expired', $metadata: $metadata(403) }, 502, true, 'upstream_error'],
      [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, 502, true, 'upstream_error'],
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 502, true, 'upstream_unreachable'],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 502, true, 'upstream_unreachable'],
      [{ name: 'TimeoutError', message: 'Connection timed out after 1000 ms' }, 502, true, 'upstream_unreachable'],
      [{ name: 'throttlingException', message: 'mid-stream' }, 502, true, 'upstream_error'],
      [{ name: 'ConflictException', message: 'conflict', $metadata: $metadata(409) }, 502, true, 'upstream_error'],
      [{ name: 'SomethingNew', message: 'unprocessable', $metadata: $metadata(422) }, 422, false, null],
      [new Error('weird'), 502, true, 'upstream_error'],
    ];
    for (const [err, status, retryable, code] of table) {
      const e = bedrockError(err);
      expect([(err as { name: string }).name, e.status, e.retryable, e.code]).toEqual([(err as { name: string }).name, status, retryable, code]);
    }
  });

  it('names bedrock and the exception in provider-side failures', () => {
    const e = bedrockError(new ThrottlingException({ message: 'Too many requests', $metadata: $metadata(429) }));
    expect(e.message).toBe('bedrock failed with ThrottlingException (HTTP 429).');
    expect(e.detail).toBe('Too many requests'); // AWS's words, for the logs only
    expect(e.type).toBe('api_error');
  });

  it('never echoes credential details', () => {
    const auth = bedrockError({
      name: 'InvalidSignatureException',
      message: 'The Canonical String for this request should have been ... Credential=AKIAABCDEFGHIJKLMNOP/20240101',
      $metadata: $metadata(403),
    });
    expect(auth.message).toBe("bedrock rejected the gateway's credentials (InvalidSignatureException).");
    const unknown403 = bedrockError({ name: 'ForbiddenException', message: 'key AKIAABCDEFGHIJKLMNOP', $metadata: $metadata(403) });
    expect(unknown403.message).not.toContain('AKIA');
    const validation = bedrockError(new ValidationException({ message: 'bad request from AKIAABCDEFGHIJKLMNOP', $metadata: $metadata(400) }));
    expect(validation.message).toBe('bad request from [redacted]');
  });

  it('passes GatewayErrors through unchanged', () => {
    const g = new GatewayError(499, 'gone');
    expect(bedrockError(g)).toBe(g);
  });
});
