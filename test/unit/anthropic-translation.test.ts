// OpenAI ⇄ Anthropic Messages translation, checked against the recorded Anthropic fixtures.
import { GatewayError } from '../../functions/core/errors';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatMessage, ToolCall, ToolDefinition } from '../../functions/core/openai-types';
import { PriceBook } from '../../functions/core/pricing/pricing';
import type { StreamChunk, StreamResult } from '../../functions/core/chat/model';
import { sseData } from '../../functions/core/providers/stream-framing';
import {
  CACHE_WRITE_FIELD,
  errorFromBody,
  finishReasonOf,
  streamError,
  toOpenAICompletion,
  usageOf,
} from '../../functions/core/providers/anthropic/from-anthropic';
import { streamResultFrom } from '../../functions/core/providers/anthropic/stream';
import { DEFAULT_MAX_TOKENS, JSON_OBJECT_INSTRUCTION, toAnthropicRequest } from '../../functions/core/providers/anthropic/to-anthropic';
import type { AnthropicRequest, AnthropicResponse, AnthropicUsage } from '../../functions/core/providers/anthropic/types';
import { StreamAssembler } from '../../functions/core/response-cache';
import { fixtureJson, fixtureText, rejectionOf, thrownBy } from './fixture-files';

// ---- fixture helpers ----------------------------------------------------------------------

interface RecordedToolUse {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
  caller?: unknown;
}
interface RecordedRequest {
  model: string;
  max_tokens: number;
  messages: Array<{ role: 'user' | 'assistant'; content: string | Array<Record<string, unknown>> }>;
  tools: Array<{ name: string; description: string; input_schema: Record<string, unknown> }>;
  stream?: boolean;
}
interface ErrorsFixture {
  status_to_type: Array<{ status: number; type: string; retryable: boolean }>;
  examples_assembled: Array<{ status: number; body: unknown }>;
  stream_error_event_sse: string;
}
interface RecordedError {
  status: number;
  body: { error: { type: string; message: string } };
}

const textAnswer = (): AnthropicResponse => fixtureJson<AnthropicResponse>('anthropic/messages-nonstream.response.json');
const toolAnswer = (): AnthropicResponse => fixtureJson<AnthropicResponse>('anthropic/tools-nonstream.response.json');

/** The recorded Anthropic tools as the OpenAI tools a client would have sent. */
function openaiTools(recorded: RecordedRequest): ToolDefinition[] {
  return recorded.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } }));
}

function badRequestParam(fn: () => unknown): string | null {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(GatewayError);
  expect((err as GatewayError).status).toBe(400);
  return (err as GatewayError).param;
}

const user = (content: ChatMessage['content']): ChatCompletionRequest => ({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content }] });
const translate = (req: ChatCompletionRequest): AnthropicRequest => toAnthropicRequest(req, req.model);

// ---- OpenAI request → Anthropic request ---------------------------------------------------

describe('toAnthropicRequest', () => {
  it('reproduces the recorded tool request exactly from the equivalent OpenAI request', () => {
    const recorded = fixtureJson<RecordedRequest>('anthropic/tools-nonstream.request.json');
    const req: ChatCompletionRequest = {
      model: recorded.model,
      max_tokens: recorded.max_tokens,
      messages: [{ role: 'user', content: recorded.messages[0]?.content as string }],
      tools: openaiTools(recorded),
    };
    expect(translate(req)).toEqual(recorded);
  });

  it('reproduces the recorded multi-turn request: tool_calls → tool_use, tool message → tool_result', () => {
    const recorded = fixtureJson<RecordedRequest>('anthropic/messages-nonstream.request.json');
    const [question, assistant, results] = recorded.messages as [
      RecordedRequest['messages'][number],
      { content: RecordedToolUse[] },
      { content: Array<{ tool_use_id: string; content: string }> },
    ];
    const use = assistant.content[0] as RecordedToolUse;
    const req: ChatCompletionRequest = {
      model: recorded.model,
      max_tokens: recorded.max_tokens,
      messages: [
        { role: 'user', content: question.content as string },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: use.id, type: 'function', function: { name: use.name, arguments: JSON.stringify(use.input) } }],
        },
        { role: 'tool', tool_call_id: results.content[0]?.tool_use_id, content: results.content[0]?.content },
      ],
      tools: openaiTools(recorded),
    };
    // `caller` is Anthropic's own echo of its answer, which an OpenAI client never holds.
    const { caller: _caller, ...useWithoutCaller } = use;
    const expected = { ...recorded, messages: [recorded.messages[0], { role: 'assistant', content: [useWithoutCaller] }, recorded.messages[2]] };
    expect(translate(req)).toEqual(expected);
  });

  it('moves every system and developer message, wherever it is, into top-level system blocks in order', () => {
    const out = translate({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'developer',
          content: [
            { type: 'text', text: 'Answer in French.' },
            { type: 'text', text: 'No emojis.' },
          ],
        },
        { role: 'user', content: 'hi' },
        { role: 'system', content: 'Late instruction.' },
        { role: 'assistant', content: 'Salut.' },
        { role: 'user', content: 'and now?' },
      ],
    });
    expect(out.system).toEqual([
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'Answer in French.' },
      { type: 'text', text: 'No emojis.' },
      { type: 'text', text: 'Late instruction.' },
    ]);
    expect(out.messages).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Salut.' },
      { role: 'user', content: 'and now?' },
    ]);
  });

  it('sends no system field when there is no system message', () => {
    expect(translate(user('hi')).system).toBeUndefined();
  });

  it('merges consecutive same-role messages so that user and assistant alternate', () => {
    const out = translate({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'user', content: [{ type: 'text', text: 'second' }] },
        { role: 'assistant', content: 'a1' },
        { role: 'assistant', content: 'a2' },
        { role: 'user', content: 'third' },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'first' },
          { type: 'text', text: 'second' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'a1' },
          { type: 'text', text: 'a2' },
        ],
      },
      { role: 'user', content: 'third' },
    ]);
  });

  it('translates data-URL images to base64 sources and http(s) URLs to url sources', () => {
    const out = translate(
      user([
        { type: 'text', text: 'Compare these.' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
      ]),
    );
    expect(out.messages[0]?.content).toEqual([
      { type: 'text', text: 'Compare these.' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUg==' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it.each([
    ['an ftp URL', 'ftp://example.com/cat.png'],
    ['a data URL without base64', 'data:image/svg+xml,<svg/>'],
  ])('rejects %s as an image with a 400 naming the part', (_label, url) => {
    const req: ChatCompletionRequest = {
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'system', content: 's' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    };
    expect(badRequestParam(() => translate(req))).toBe('messages[1].content[1].image_url.url');
  });

  it('turns an inline PDF file part into a document block and rejects other files', () => {
    const out = translate(user([{ type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } }]));
    expect(out.messages[0]?.content).toEqual([
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'a.pdf' },
    ]);
    expect(badRequestParam(() => translate(user([{ type: 'file', file: { file_id: 'file-123' } }])))).toBe('messages[0].content[0].file.file_data');
    expect(badRequestParam(() => translate(user([{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }])))).toBe('messages[0].content[0].type');
  });

  it('translates tools to {name, description, input_schema}, with an empty object schema when parameters are absent', () => {
    const out = translate({
      ...user('hi'),
      tools: [
        {
          type: 'function',
          function: { name: 'get_time', description: 'Current time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
        },
        { type: 'function', function: { name: 'ping' } },
      ],
    });
    expect(out.tools).toEqual([
      { name: 'get_time', description: 'Current time', input_schema: { type: 'object', properties: { tz: { type: 'string' } } } },
      { name: 'ping', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(out.tool_choice).toBeUndefined();
  });

  const withTools = (extra: Partial<ChatCompletionRequest>): ChatCompletionRequest => ({
    ...user('hi'),
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    ...extra,
  });

  it.each<[string, Partial<ChatCompletionRequest>, AnthropicRequest['tool_choice']]>([
    ['"auto"', { tool_choice: 'auto' }, { type: 'auto' }],
    ['"required"', { tool_choice: 'required' }, { type: 'any' }],
    ['"none"', { tool_choice: 'none' }, { type: 'none' }],
    ['a named function', { tool_choice: { type: 'function', function: { name: 'get_weather' } } }, { type: 'tool', name: 'get_weather' }],
    ['absent', {}, undefined],
    ['absent with parallel_tool_calls false', { parallel_tool_calls: false }, { type: 'auto', disable_parallel_tool_use: true }],
    ['"auto" with parallel_tool_calls false', { tool_choice: 'auto', parallel_tool_calls: false }, { type: 'auto', disable_parallel_tool_use: true }],
    ['"required" with parallel_tool_calls false', { tool_choice: 'required', parallel_tool_calls: false }, { type: 'any', disable_parallel_tool_use: true }],
    [
      'a named function with parallel_tool_calls false',
      { tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false },
      { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    ],
    ['"auto" with parallel_tool_calls true', { tool_choice: 'auto', parallel_tool_calls: true }, { type: 'auto' }],
  ])('maps tool_choice %s', (_label, extra, expected) => {
    const out = translate(withTools(extra));
    expect(out.tool_choice).toEqual(expected);
    expect(out.tools).toHaveLength(1); // tools stay defined, even with "none" (history may hold tool_use blocks)
  });

  it('rejects an unknown tool_choice with a 400 on tool_choice, and ignores tool_choice without tools', () => {
    expect(badRequestParam(() => translate(withTools({ tool_choice: 'sometimes' })))).toBe('tool_choice');
    const out = translate({ ...user('hi'), tool_choice: 'required' });
    expect(out.tools).toBeUndefined();
    expect(out.tool_choice).toBeUndefined();
  });

  it('puts assistant text before its tool_use blocks, with parsed JSON arguments as input', () => {
    const out = translate({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: 'weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'toolu_01B', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
      ],
    });
    expect(out.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { location: 'Paris' } },
        { type: 'tool_use', id: 'toolu_01B', name: 'get_weather', input: {} },
      ],
    });
  });

  it.each([
    ['not JSON', '{"location": '],
    ['a JSON array', '["Paris"]'],
    ['a JSON string', '"Paris"'],
  ])('rejects tool-call arguments that are %s with a 400 naming messages[i].tool_calls[j].function.arguments', (_label, args) => {
    const req: ChatCompletionRequest = {
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'a', arguments: '{}' } },
            { id: 'call_2', type: 'function', function: { name: 'b', arguments: args } },
          ],
        },
      ],
    };
    expect(badRequestParam(() => translate(req))).toBe('messages[1].tool_calls[1].function.arguments');
  });

  it('groups the results of parallel tool calls into one user turn, before a following user message', () => {
    const answer = fixtureJson<ChatCompletion>('openai/tools-parallel-nonstream.recorded.response.json');
    const calls = answer.choices[0]?.message.tool_calls ?? [];
    expect(calls).toHaveLength(2);
    const [first, second] = calls as [ToolCall, ToolCall];
    const out = translate({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: 'weather in Edinburgh and the AAPL price?' },
        { role: 'assistant', content: null, tool_calls: calls },
        { role: 'tool', tool_call_id: first.id, content: '{"temp": 12}' },
        { role: 'tool', tool_call_id: second.id, content: [{ type: 'text', text: '{"price": 1}' }] },
        { role: 'user', content: 'Summarise.' },
      ],
    });
    expect(out.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(out.messages[1]?.content).toEqual(
      calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.function.name, input: JSON.parse(c.function.arguments) as unknown })),
    );
    expect(out.messages[2]?.content).toEqual([
      { type: 'tool_result', tool_use_id: first.id, content: '{"temp": 12}' },
      { type: 'tool_result', tool_use_id: second.id, content: [{ type: 'text', text: '{"price": 1}' }] },
      { type: 'text', text: 'Summarise.' },
    ]);
  });

  it('declares the tools a history used, and forbids new calls, when the request carries no tools', () => {
    const out = translate({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
      ],
    });
    expect(out.tools).toEqual([{ name: 'get_weather', input_schema: { type: 'object' } }]);
    expect(out.tool_choice).toEqual({ type: 'none' });
    expect(translate({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }).tools).toBeUndefined();
  });

  it('makes foreign tool-call ids safe for Anthropic the same way on the tool_use and the tool_result', () => {
    const out = translate({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call:1/a', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call:1/a', content: '' },
      ],
    });
    expect(out.messages[1]?.content).toEqual([{ type: 'tool_use', id: 'call_1_a', name: 'f', input: {} }]);
    expect(out.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'call_1_a' }]); // empty result: no content
  });

  it('maps stop (string or array) to stop_sequences', () => {
    expect(translate({ ...user('hi'), stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(translate({ ...user('hi'), stop: ['a', 'b'] }).stop_sequences).toEqual(['a', 'b']);
    expect(translate({ ...user('hi'), stop: null }).stop_sequences).toBeUndefined();
  });

  it(`uses max_completion_tokens, then max_tokens, then ${DEFAULT_MAX_TOKENS} (Anthropic requires max_tokens)`, () => {
    expect(translate({ ...user('hi'), max_tokens: 64, max_completion_tokens: 16 }).max_tokens).toBe(16);
    expect(translate({ ...user('hi'), max_tokens: 64 }).max_tokens).toBe(64);
    expect(translate(user('hi')).max_tokens).toBe(4096);
  });

  it.each([
    [0, 0],
    [0.7, 0.7],
    [1, 1],
    [1.5, 1],
    [2, 1],
  ])('clamps temperature %p (OpenAI 0..2) to %p (Anthropic 0..1) rather than scaling it', (given, sent) => {
    expect(translate({ ...user('hi'), temperature: given }).temperature).toBe(sent);
  });

  it('passes top_p and omits unset sampling parameters', () => {
    expect(translate({ ...user('hi'), top_p: 0.9 }).top_p).toBe(0.9);
    const out = translate({ ...user('hi'), seed: 1, presence_penalty: 1, frequency_penalty: 1 });
    expect(out).toEqual({ model: 'claude-haiku-4-5', max_tokens: DEFAULT_MAX_TOKENS, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('maps response_format json_schema to output_config.format, as in the recorded structured-output request', () => {
    const recorded = fixtureJson<{ output_config: unknown; messages: Array<{ content: string }>; model: string; max_tokens: number }>(
      'anthropic/messages-stream-simple.request.json',
    );
    const schema = { type: 'array', items: { type: 'integer' } };
    const out = translate({
      model: recorded.model,
      max_tokens: recorded.max_tokens,
      stream: true,
      messages: [{ role: 'user', content: recorded.messages[0]?.content ?? '' }],
      response_format: { type: 'json_schema', json_schema: { name: 'order_ids', schema } },
    });
    expect(out).toEqual(recorded);
  });

  it("maps response_format json_object to a system instruction after the client's own, and text to nothing", () => {
    const out = translate({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'list 3 colours' },
      ],
      response_format: { type: 'json_object' },
    });
    expect(out.system).toEqual([
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: JSON_OBJECT_INSTRUCTION },
    ]);
    expect(out.output_config).toBeUndefined();
    expect(translate({ ...user('hi'), response_format: { type: 'text' } })).toEqual(translate(user('hi')));
  });

  it('rejects n > 1 with a 400 on "n" and accepts n = 1', () => {
    expect(badRequestParam(() => translate({ ...user('hi'), n: 2 }))).toBe('n');
    expect(translate({ ...user('hi'), n: 1 }).messages).toHaveLength(1);
  });

  it('rejects logprobs, which Anthropic cannot return', () => {
    expect(badRequestParam(() => translate({ ...user('hi'), logprobs: true }))).toBe('logprobs');
    expect(translate({ ...user('hi'), logprobs: false }).messages).toHaveLength(1);
  });

  it('maps user to metadata.user_id and carries the stream flag', () => {
    const out = translate({ ...user('hi'), user: 'user-42', stream: true });
    expect(out.metadata).toEqual({ user_id: 'user-42' });
    expect(out.stream).toBe(true);
    expect(translate(user('hi')).stream).toBeUndefined();
  });

  it('rejects the legacy function role with a 400 naming the message', () => {
    const req: ChatCompletionRequest = {
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'function' as ChatMessage['role'], name: 'f', content: '1' },
      ],
    };
    expect(badRequestParam(() => translate(req))).toBe('messages[1].role');
  });
});

// ---- Anthropic answer → chat.completion ---------------------------------------------------

describe('toOpenAICompletion', () => {
  it('translates the recorded text answer: id, model, content, finish_reason, usage', () => {
    const r = textAnswer();
    const c = toOpenAICompletion(r, 1_700_000_000);
    expect(c).toMatchObject({ id: r.id, object: 'chat.completion', created: 1_700_000_000, model: r.model });
    expect(c.choices).toHaveLength(1);
    const text = (r.content[0] as { text: string }).text;
    expect(c.choices[0]?.message).toEqual({ role: 'assistant', content: text, refusal: null });
    expect(c.choices[0]?.finish_reason).toBe('stop');
    const u = r.usage as Required<Pick<AnthropicUsage, 'input_tokens' | 'output_tokens'>>;
    expect(c.usage).toEqual({
      prompt_tokens: u.input_tokens,
      completion_tokens: u.output_tokens,
      total_tokens: u.input_tokens + u.output_tokens,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 },
    });
  });

  it("translates the recorded tool_use answer into tool_calls with Anthropic's id and JSON-string arguments", () => {
    const r = toolAnswer();
    const use = r.content[0] as RecordedToolUse;
    const c = toOpenAICompletion(r);
    expect(c.choices[0]?.finish_reason).toBe('tool_calls');
    expect(c.choices[0]?.message.content).toBeNull();
    expect(c.choices[0]?.message.tool_calls).toEqual([{ id: use.id, type: 'function', function: { name: use.name, arguments: JSON.stringify(use.input) } }]);
    expect(c.usage?.prompt_tokens).toBe(r.usage?.input_tokens);
    expect(c.usage?.completion_tokens).toBe(r.usage?.output_tokens);
  });

  it('joins several text blocks, keeps text beside tool calls, and maps thinking to reasoning', () => {
    const r: AnthropicResponse = {
      ...toolAnswer(),
      content: [
        { type: 'thinking', thinking: 'The user wants weather.', signature: 'sig' },
        { type: 'text', text: "I'll check " },
        { type: 'text', text: 'the weather.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
        { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { location: 'Rome' } },
        { type: 'redacted_thinking', data: 'xyz' },
      ],
    };
    const message = toOpenAICompletion(r).choices[0]?.message;
    expect(message?.content).toBe("I'll check the weather.");
    expect(message?.reasoning).toBe('The user wants weather.');
    expect(message?.tool_calls?.map((t) => [t.id, t.function.arguments])).toEqual([
      ['toolu_1', '{"location":"Paris"}'],
      ['toolu_2', '{"location":"Rome"}'],
    ]);
  });

  it('an answer with no content block is an empty string, not null', () => {
    expect(toOpenAICompletion({ ...textAnswer(), content: [], stop_reason: 'max_tokens' }).choices[0]).toMatchObject({
      message: { content: '' },
      finish_reason: 'length',
    });
  });
});

describe('usage mapping (fixtures/anthropic/usage-and-caching.json)', () => {
  const doc = fixtureJson<{ fields_recorded: AnthropicUsage; semantics: Record<string, string> }>('anthropic/usage-and-caching.json');

  it('maps the recorded usage fields', () => {
    const u = doc.fields_recorded as Required<Pick<AnthropicUsage, 'input_tokens' | 'output_tokens'>>;
    expect(usageOf(doc.fields_recorded)).toEqual({
      prompt_tokens: u.input_tokens,
      completion_tokens: u.output_tokens,
      total_tokens: u.input_tokens + u.output_tokens,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 },
    });
  });

  it("counts cache reads and writes into prompt_tokens (the doc's total_prompt_tokens) and reports each part", () => {
    expect(doc.semantics.total_prompt_tokens).toBe('input_tokens + cache_creation_input_tokens + cache_read_input_tokens');
    const usage = usageOf({ input_tokens: 50, cache_read_input_tokens: 10_000, cache_creation_input_tokens: 2_000, output_tokens: 300 });
    expect(usage).toEqual({
      prompt_tokens: 12_050,
      completion_tokens: 300,
      total_tokens: 12_350,
      prompt_tokens_details: { cached_tokens: 10_000, cache_creation_tokens: 2_000 },
    });
    expect(CACHE_WRITE_FIELD).toBe('cache_creation_tokens');
  });

  it('gives pricing what it needs to bill reads at 0.1x and writes at 1.25x (claude-haiku-4-5)', () => {
    const usage = usageOf({ input_tokens: 50, cache_read_input_tokens: 10_000, cache_creation_input_tokens: 2_000, output_tokens: 300 });
    const cost = new PriceBook().cost('claude-haiku-4-5-20251001', {
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      cache_write_tokens: Number(usage.prompt_tokens_details?.[CACHE_WRITE_FIELD] ?? 0),
    });
    // catalog: input 1, cache read 0.1, cache write 1.25, output 5 (USD per million tokens)
    expect(cost).toBeCloseTo((50 * 1 + 10_000 * 0.1 + 2_000 * 1.25 + 300 * 5) / 1e6, 12);
  });

  it('treats missing and null counts as 0', () => {
    expect(usageOf(undefined)).toEqual({
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 },
    });
    expect(usageOf({ input_tokens: 3, cache_read_input_tokens: null, output_tokens: 1 }).prompt_tokens).toBe(3);
  });
});

describe('finishReasonOf (fixtures/anthropic/stop-reasons.json)', () => {
  const table = fixtureJson<{ anthropic_stop_reasons: string[]; openai_finish_reasons: string[]; litellm_anthropic_to_openai: Record<string, string> }>(
    'anthropic/stop-reasons.json',
  );

  it.each(Object.entries(table.litellm_anthropic_to_openai))("maps %s to %s as the fixture's table does", (stop, finish) => {
    expect(finishReasonOf(stop)).toBe(finish);
  });

  it.each([
    ['pause_turn', 'stop'],
    ['model_context_window_exceeded', 'length'],
    [null, 'stop'],
    ['something_new', 'stop'],
  ])('maps %p to %p', (stop, finish) => {
    expect(finishReasonOf(stop)).toBe(finish);
  });

  it('maps every documented stop_reason to a valid OpenAI finish_reason', () => {
    for (const stop of table.anthropic_stop_reasons) expect(table.openai_finish_reasons).toContain(finishReasonOf(stop));
  });
});

// ---- Anthropic SSE stream → chunks -------------------------------------------------------

/** The fixture's bytes as the network might deliver them: whole, or in pieces of `size` bytes. */
async function* bytes(text: string, size?: number): AsyncGenerator<Buffer> {
  const all = Buffer.from(text, 'utf8');
  if (!size) {
    yield all;
    return;
  }
  for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
}

interface Collected {
  result: StreamResult;
  chunks: StreamChunk[];
  parsed: ChatCompletionChunk[];
}

async function run(sse: string, size?: number, model = 'claude-haiku-4-5'): Promise<Collected> {
  const result = await streamResultFrom(sseData(bytes(sse, size), 'anthropic'), model, 1_700_000_000);
  const chunks: StreamChunk[] = [];
  for await (const c of result.chunks) chunks.push(c);
  return { result, chunks, parsed: chunks.map((c) => JSON.parse(c.json) as ChatCompletionChunk) };
}

function assemble(chunks: StreamChunk[]): ChatCompletion {
  const a = new StreamAssembler();
  for (const c of chunks) a.add(c.json);
  const out = a.result();
  if (!out) throw new Error('stream did not assemble into a complete completion');
  return out;
}

interface RawEvent {
  type: string;
  index?: number;
  message?: AnthropicResponse;
  content_block?: Record<string, unknown>;
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string };
  usage?: AnthropicUsage;
}

/** The `data` JSON of every event in an SSE fixture. */
function rawEvents(sse: string): RawEvent[] {
  return sse
    .split('\n\n')
    .map((e) => e.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice(6)) as RawEvent);
}

/** Accumulates a recorded stream into the message Anthropic would have sent without streaming. */
function anthropicMessageOf(sse: string): AnthropicResponse {
  let message: AnthropicResponse | undefined;
  const json = new Map<number, string>();
  for (const e of rawEvents(sse)) {
    if (e.type === 'message_start' && e.message) message = { ...e.message, content: [] };
    if (!message) continue;
    const blocks = message.content as Array<Record<string, unknown>>;
    if (e.type === 'content_block_start' && e.index !== undefined && e.content_block) {
      blocks[e.index] = { ...e.content_block };
      if (e.content_block.type === 'tool_use') json.set(e.index, '');
    }
    if (e.type === 'content_block_delta' && e.index !== undefined) {
      const block = blocks[e.index] as Record<string, unknown>;
      if (e.delta?.type === 'text_delta') block.text = `${String(block.text)}${e.delta.text ?? ''}`;
      if (e.delta?.type === 'input_json_delta') json.set(e.index, `${json.get(e.index) ?? ''}${e.delta.partial_json ?? ''}`);
    }
    if (e.type === 'content_block_stop' && e.index !== undefined && json.has(e.index)) {
      (blocks[e.index] as Record<string, unknown>).input = JSON.parse(json.get(e.index) || '{}') as unknown;
    }
    if (e.type === 'message_delta') {
      message.stop_reason = e.delta?.stop_reason ?? null;
      message.usage = { ...message.usage, ...e.usage };
    }
  }
  if (!message) throw new Error('no message_start in fixture');
  return message;
}

function parsedCalls(c: ChatCompletion): Array<{ id: string; type: string; name: string; input: unknown }> {
  return (c.choices[0]?.message.tool_calls ?? []).map((t) => ({
    id: t.id,
    type: t.type,
    name: t.function.name,
    input: JSON.parse(t.function.arguments) as unknown,
  }));
}

function toolDeltas(parsed: ChatCompletionChunk[]): NonNullable<ChatCompletionChunk['choices'][number]['delta']['tool_calls']> {
  return parsed.flatMap((p) => p.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
}

function expectWellFormed(c: Collected, finish: string): void {
  const { parsed, chunks } = c;
  for (const p of parsed) expect(p).toMatchObject({ id: c.result.id, object: 'chat.completion.chunk', created: 1_700_000_000, model: c.result.model });
  expect(parsed[0]?.choices[0]?.delta.role).toBe('assistant');
  expect(parsed.slice(1).some((p) => p.choices[0]?.delta.role !== undefined)).toBe(false);
  const finishes = parsed.flatMap((p) => p.choices).filter((ch) => ch.finish_reason !== null);
  expect(finishes).toHaveLength(1);
  expect(finishes[0]?.finish_reason).toBe(finish);
  const last = chunks[chunks.length - 1];
  expect(last?.usageOnly).toBe(true);
  expect(parsed[parsed.length - 1]?.choices).toEqual([]);
  expect(parsed[parsed.length - 1]?.usage).toEqual(last?.usage);
  expect(chunks.slice(0, -1).some((x) => x.usageOnly || x.usage)).toBe(false);
}

describe('streamResultFrom', () => {
  it.each([
    ['messages-stream.sse.txt (recorded)', 'anthropic/messages-stream.sse.txt'],
    ['messages-stream-simple.sse.txt (recorded)', 'anthropic/messages-stream-simple.sse.txt'],
    ['messages-stream.sdk-fixture.sse.txt (SDK fixture, no final blank line)', 'anthropic/messages-stream.sdk-fixture.sse.txt'],
  ])('streams %s into chunks that assemble to the non-stream translation of the same answer', async (_label, file) => {
    const sse = fixtureText(file);
    const expected = toOpenAICompletion(anthropicMessageOf(sse), 1_700_000_000);
    const c = await run(sse);
    expect(c.result).toMatchObject({ kind: 'stream', id: expected.id, model: expected.model, created: 1_700_000_000 });
    expectWellFormed(c, 'stop');
    const assembled = assemble(c.chunks);
    expect(assembled.choices[0]?.message.content).toBe(expected.choices[0]?.message.content);
    expect(assembled.choices[0]?.finish_reason).toBe(expected.choices[0]?.finish_reason);
    expect(assembled.usage).toEqual(expected.usage);
    expect(assembled.id).toBe(expected.id);
  });

  it('streams the recorded text answer with OpenAI\'s first chunk {role, content: ""} and one chunk per text_delta', async () => {
    const sse = fixtureText('anthropic/messages-stream.sse.txt');
    const c = await run(sse);
    const texts = rawEvents(sse)
      .filter((e) => e.delta?.type === 'text_delta')
      .map((e) => e.delta?.text);
    expect(c.parsed[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(c.parsed.slice(1, 1 + texts.length).map((p) => p.choices[0]?.delta.content)).toEqual(texts);
    // message_start counted 770 input tokens, message_delta the final 27 output tokens
    expect(c.chunks[c.chunks.length - 1]?.usage).toEqual({
      prompt_tokens: 770,
      completion_tokens: 27,
      total_tokens: 797,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 },
    });
  });

  it('gives the same chunks whatever the network split (3-byte pieces cut events and the UTF-8 "°")', async () => {
    const sse = fixtureText('anthropic/messages-stream.sse.txt');
    const whole = await run(sse);
    const split = await run(sse, 3);
    expect(split.chunks).toEqual(whole.chunks);
  });

  it('streams the recorded tool call: one stable index and id, fragments that reassemble to the input', async () => {
    const sse = fixtureText('anthropic/tools-stream.sse.txt');
    const message = anthropicMessageOf(sse);
    const use = message.content[0] as RecordedToolUse;
    const c = await run(sse);
    expectWellFormed(c, 'tool_calls');
    const deltas = toolDeltas(c.parsed);
    expect(deltas[0]).toEqual({ index: 0, id: use.id, type: 'function', function: { name: use.name, arguments: '' } });
    expect(c.parsed[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: null });
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(deltas.slice(1).every((d) => d.id === undefined && d.function?.name === undefined)).toBe(true);
    const fragments = rawEvents(sse)
      .filter((e) => e.delta?.type === 'input_json_delta' && e.delta.partial_json !== '')
      .map((e) => e.delta?.partial_json);
    expect(deltas.slice(1).map((d) => d.function?.arguments)).toEqual(fragments);
    const args = deltas.map((d) => d.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual(use.input);
    expect(use.input).toEqual({ location: 'San Francisco, CA', units: 'f' });
    const assembled = assemble(c.chunks);
    const expected = toOpenAICompletion(message, 1_700_000_000);
    expect(assembled.choices[0]?.message.content).toBeNull();
    // Same calls; the streamed arguments keep Anthropic's own spacing, so they are compared parsed.
    expect(parsedCalls(assembled)).toEqual(parsedCalls(expected));
    expect(assembled.usage).toEqual(expected.usage);
  });

  it("numbers tool calls by a per-stream counter, not by Anthropic's block index (text block at 0, tool at 1)", async () => {
    const sse = fixtureText('anthropic/tools-stream.sdk-fixture.sse.txt');
    const c = await run(sse);
    expectWellFormed(c, 'tool_calls');
    const deltas = toolDeltas(c.parsed);
    expect(deltas.map((d) => d.index)).toEqual(deltas.map(() => 0));
    expect(deltas[0]).toMatchObject({ id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', function: { name: 'get_weather' } });
    const assembled = assemble(c.chunks);
    expect(assembled.choices[0]?.message.content).toBe("I'll check the current weather in Paris for you.");
    expect(JSON.parse(assembled.choices[0]?.message.tool_calls?.[0]?.function.arguments ?? '')).toEqual({ location: 'Paris' });
    expect(parsedCalls(assembled)).toEqual(parsedCalls(toOpenAICompletion(anthropicMessageOf(sse))));
  });

  const ev = (o: object): string => `event: ${(o as { type: string }).type}\ndata: ${JSON.stringify(o)}\n\n`;
  const START = ev({
    type: 'message_start',
    message: {
      id: 'msg_x',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [],
      stop_reason: null,
      usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 1 },
    },
  });
  const STOP = ev({ type: 'message_stop' });
  const delta = (stop: string, output: number): string =>
    ev({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: output } });
  const toolStart = (index: number, id: string): string =>
    ev({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: 'get_weather', input: {} } });
  const json = (index: number, partial: string): string =>
    ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: partial } });
  const blockStop = (index: number): string => ev({ type: 'content_block_stop', index });

  it('routes interleaved fragments of parallel tool calls to indexes 0 and 1', async () => {
    const sse =
      START +
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Both.' } }) +
      blockStop(0) +
      toolStart(1, 'toolu_A') +
      toolStart(2, 'toolu_B') +
      json(1, '{"location":') +
      json(2, '{"location":') +
      json(2, '"Rome"}') +
      json(1, '"Paris"}') +
      blockStop(1) +
      blockStop(2) +
      delta('tool_use', 40) +
      STOP;
    const c = await run(sse);
    expectWellFormed(c, 'tool_calls');
    const calls = assemble(c.chunks).choices[0]?.message.tool_calls ?? [];
    expect(calls.map((t) => [t.id, JSON.parse(t.function.arguments) as unknown])).toEqual([
      ['toolu_A', { location: 'Paris' }],
      ['toolu_B', { location: 'Rome' }],
    ]);
  });

  it('sends "{}" for a tool call whose input never streamed', async () => {
    const c = await run(START + toolStart(0, 'toolu_A') + json(0, '') + blockStop(0) + delta('tool_use', 5) + STOP);
    expect(assemble(c.chunks).choices[0]?.message.tool_calls?.[0]?.function.arguments).toBe('{}');
  });

  it("keeps message_start's input and cache counts when message_delta gives only output_tokens", async () => {
    const c = await run(
      START + ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) + blockStop(0) + delta('max_tokens', 7) + STOP,
    );
    expectWellFormed(c, 'length');
    expect(c.chunks[c.chunks.length - 1]?.usage).toEqual({
      prompt_tokens: 130,
      completion_tokens: 7,
      total_tokens: 137,
      prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 20 },
    });
    expect(c.result.model).toBe('claude-sonnet-4-5-20250929');
  });

  it('maps thinking deltas to reasoning and ignores signature deltas, pings and unknown events', async () => {
    const c = await run(
      START +
        ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }) +
        ev({ type: 'ping' }) +
        ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think.' } }) +
        ev({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQB' } }) +
        blockStop(0) +
        ev({ type: 'brand_new_event', foo: 1 }) +
        ev({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }) +
        ev({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Answer.' } }) +
        blockStop(1) +
        delta('end_turn', 9) +
        STOP,
    );
    expectWellFormed(c, 'stop');
    expect(c.parsed[0]?.choices[0]?.delta).toEqual({ role: 'assistant', reasoning: 'Let me think.' });
    expect(c.parsed.map((p) => p.choices[0]?.delta.content ?? '').join('')).toBe('Answer.');
    expect(c.chunks.some((x) => x.json.includes('EqQB'))).toBe(false);
  });

  it('throws a retryable 502 naming anthropic when an error event arrives mid-stream (errors.json)', async () => {
    const errors = fixtureJson<ErrorsFixture>('anthropic/errors.json');
    const events = fixtureText('anthropic/messages-stream.sse.txt')
      .split('\n\n')
      .slice(0, 5)
      .map((e) => `${e}\n\n`)
      .join('');
    const result = await streamResultFrom(sseData(bytes(events + errors.stream_error_event_sse), 'anthropic'), 'claude-haiku-4-5');
    const seen: StreamChunk[] = [];
    const err = await rejectionOf(
      (async () => {
        for await (const c of result.chunks) seen.push(c);
      })(),
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 502, retryable: true });
    expect((err as GatewayError).message).toMatch(/^anthropic /);
    // The provider's words go to the logs (detail), never to the client.
    expect((err as GatewayError).message).not.toContain('Overloaded');
    expect((err as GatewayError).detail).toContain('Overloaded');
  });

  it('fails before returning when the first event is an error, so the gateway can still fall back', async () => {
    const errors = fixtureJson<ErrorsFixture>('anthropic/errors.json');
    const err = await rejectionOf(streamResultFrom(sseData(bytes(errors.stream_error_event_sse), 'anthropic'), 'claude-haiku-4-5'));
    expect(err).toMatchObject({ status: 502, retryable: true });
  });

  it.each([
    ['ends before message_stop', fixtureText('anthropic/messages-stream.sse.txt').replace(/event: message_stop[\s\S]*$/, ''), 'upstream_truncated'],
    ['carries an event that is not JSON', `${START}event: content_block_start\ndata: {not json\n\n`, 'upstream_bad_response'],
  ])('throws a retryable 502 when the stream %s', async (_label, sse, code) => {
    const err = await rejectionOf(run(sse));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 502, retryable: true, code });
  });

  it('rejects an empty stream before returning', async () => {
    await expect(streamResultFrom(sseData(bytes(''), 'anthropic'), 'claude-haiku-4-5')).rejects.toMatchObject({ status: 502, retryable: true });
  });
});

// ---- errors -------------------------------------------------------------------------------

describe('error mapping (fixtures/anthropic/errors.json)', () => {
  const errors = fixtureJson<ErrorsFixture>('anthropic/errors.json');
  const recorded: Record<number, RecordedError> = {
    400: fixtureJson<RecordedError>('anthropic/error-400.recorded.json'),
    429: fixtureJson<RecordedError>('anthropic/error-429.recorded.json'),
  };
  const bodyFor = (status: number, type: string): { error: { type: string; message: string } } =>
    recorded[status]?.body ??
    (errors.examples_assembled.find((e) => e.status === status)?.body as { error: { type: string; message: string } } | undefined) ?? {
      error: { type, message: `${type} happened` },
    };

  it.each(errors.status_to_type.map((r) => [r.status, r.type, r.retryable] as const))(
    'status %p (%s): client faults keep status and message, the rest become retryable 502s',
    (status, type, _anthropicRetryable) => {
      const body = { type: 'error', ...bodyFor(status, type) };
      const err = errorFromBody(status, JSON.stringify(body));
      const clientFault = status === 400 || status === 404 || status === 413;
      expect(err.status).toBe(clientFault ? status : 502);
      expect(err.retryable).toBe(!clientFault);
      if (clientFault) {
        expect(err.message).toBe(body.error.message);
        expect(err.type).toBe(body.error.type);
      } else {
        expect(err.message).toMatch(/^anthropic /);
        expect(err.message).not.toContain(body.error.message.slice(0, 100));
        expect(err.detail).toContain(body.error.message.slice(0, 100));
      }
    },
  );

  it('names a credential failure as such', () => {
    expect(errorFromBody(401, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } })).message).toContain(
      "rejected the gateway's credentials",
    );
  });

  it("keeps a non-JSON body's text for the logs", () => {
    const err = errorFromBody(502, '<html>Bad Gateway</html>');
    expect(err).toMatchObject({ status: 502, retryable: true });
    expect(err.detail).toContain('Bad Gateway');
  });

  it('maps stream error events by their type', () => {
    expect(streamError({ type: 'overloaded_error', message: 'Overloaded' })).toMatchObject({ status: 502, retryable: true });
    expect(streamError({ type: 'api_error', message: 'boom' })).toMatchObject({ status: 502, retryable: true });
    expect(streamError({ type: 'invalid_request_error', message: 'bad' })).toMatchObject({ status: 400, retryable: false });
    expect(streamError(undefined)).toMatchObject({ status: 502, retryable: true });
  });
});
