// OpenAI ⇄ Ollama translation, checked against the provider wire-format fixtures.
import { GatewayError } from '../../functions/core/errors';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatMessage, ToolCall, Usage } from '../../functions/core/openai-types';
import type { StreamChunk } from '../../functions/core/chat/model';
import { toOllamaRequest, toOpenAIChunks, toOpenAICompletion } from '../../functions/core/providers/ollama';
import { fixtureJson, fixtureNdjson, rejectionOf, thrownBy } from './fixture-files';

type OllamaLine = Parameters<typeof toOpenAICompletion>[0];

interface OllamaFixtureToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

const openaiToolsRequest = (): ChatCompletionRequest => fixtureJson<ChatCompletionRequest>('openai/tools-nonstream.request.json');
const openaiChatRequest = (): ChatCompletionRequest => fixtureJson<ChatCompletionRequest>('openai/chat-nonstream.request.json');

function badRequestParam(fn: () => unknown): string | null {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(GatewayError);
  const ge = err as GatewayError;
  expect(ge.status).toBe(400);
  return ge.param;
}

function userWith(content: ChatMessage['content']): ChatCompletionRequest {
  return { model: 'llava', messages: [{ role: 'user', content }] };
}

// ---- OpenAI request → Ollama /api/chat body ----------------------------------------------

describe('toOllamaRequest', () => {
  it('maps the developer message of the OpenAI example to a system message and keeps the user turn', () => {
    const req = openaiChatRequest();
    const out = toOllamaRequest(req, 'llama3.2');
    expect(out.model).toBe('llama3.2');
    expect(out.messages).toHaveLength(req.messages.length);
    expect(out.messages[0]).toEqual({ role: 'system', content: req.messages[0]?.content });
    expect(out.messages[1]).toEqual({ role: 'user', content: req.messages[1]?.content });
  });

  it('keeps a plain system message as system and preserves the order of a multi-turn conversation', () => {
    const req: ChatCompletionRequest = {
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'why is the sky blue?' },
        { role: 'assistant', content: 'Rayleigh scattering.' },
        { role: 'user', content: 'and sunsets?' },
      ],
    };
    const out = toOllamaRequest(req, 'llama3.2');
    expect(out.messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 'Be terse.'],
      ['user', 'why is the sky blue?'],
      ['assistant', 'Rayleigh scattering.'],
      ['user', 'and sunsets?'],
    ]);
  });

  it('produces the same body as the Ollama doc example for the same conversation', () => {
    const ollamaDoc = fixtureJson<{ model: string; messages: Array<{ role: string; content: string }>; stream: boolean }>('ollama/chat-nonstream.request.json');
    const req: ChatCompletionRequest = {
      model: ollamaDoc.model,
      messages: ollamaDoc.messages.map((m) => ({ role: 'user', content: m.content })),
      stream: false,
    };
    expect(toOllamaRequest(req, ollamaDoc.model)).toEqual(ollamaDoc);
  });

  it('joins text parts and moves base64 data-URL images into images[]', () => {
    const out = toOllamaRequest(
      userWith([
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==' } },
        { type: 'text', text: 'Answer briefly.' },
      ]),
      'llava',
    );
    const msg = out.messages[0];
    expect(msg?.images).toEqual(['iVBORw0KGgoAAAANSUhEUg==']);
    const content = msg?.content ?? '';
    expect(content.indexOf('What is in this picture?')).toBe(0);
    expect(content.indexOf('Answer briefly.')).toBeGreaterThan(content.indexOf('What is in this picture?'));
    expect(content).not.toContain('base64');
  });

  it('rejects an http image URL with a 400 naming the exact part', () => {
    const req: ChatCompletionRequest = {
      model: 'llava',
      messages: [
        { role: 'system', content: 'describe images' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          ],
        },
      ],
    };
    expect(badRequestParam(() => toOllamaRequest(req, 'llava'))).toBe('messages[1].content[1].image_url.url');
  });

  it('turns assistant tool_calls with JSON-string arguments into Ollama object arguments', () => {
    const answer = fixtureJson<ChatCompletion>('openai/tools-nonstream.response.json');
    const call = answer.choices[0]?.message.tool_calls?.[0] as ToolCall;
    const req = openaiToolsRequest();
    req.messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    const out = toOllamaRequest(req, 'llama3.2');
    const assistant = out.messages[1];
    expect(assistant?.role).toBe('assistant');
    expect(assistant?.content).toBe('');
    expect(assistant?.tool_calls).toEqual([{ function: { name: call.function.name, arguments: JSON.parse(call.function.arguments) as unknown } }]);
  });

  it('gives each tool message the tool_name of the call it answers, looked up by tool_call_id', () => {
    const answer = fixtureJson<ChatCompletion>('openai/tools-parallel-nonstream.recorded.response.json');
    const calls = answer.choices[0]?.message.tool_calls ?? [];
    expect(calls).toHaveLength(2);
    const [first, second] = calls as [ToolCall, ToolCall];
    const req: ChatCompletionRequest = {
      model: 'llama3.2',
      messages: [
        { role: 'user', content: 'weather in Edinburgh and the AAPL price?' },
        { role: 'assistant', content: null, tool_calls: calls },
        // answered in the opposite order, so position-based matching would get it wrong
        { role: 'tool', tool_call_id: second.id, content: '{"price": 1}' },
        { role: 'tool', tool_call_id: first.id, content: '{"temp": 12}' },
      ],
    };
    const out = toOllamaRequest(req, 'llama3.2');
    expect(out.messages[1]?.tool_calls?.map((c) => c.function.name)).toEqual([first.function.name, second.function.name]);
    expect(out.messages[2]).toMatchObject({ role: 'tool', content: '{"price": 1}', tool_name: second.function.name });
    expect(out.messages[3]).toMatchObject({ role: 'tool', content: '{"temp": 12}', tool_name: first.function.name });
  });

  it.each([
    ['not JSON', '{"location": '],
    ['a JSON array', '["Boston"]'],
  ])('rejects tool-call arguments that are %s with a 400 naming the argument', (_label, args) => {
    const req: ChatCompletionRequest = {
      model: 'llama3.2',
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
    expect(badRequestParam(() => toOllamaRequest(req, 'llama3.2'))).toBe('messages[1].tool_calls[1].function.arguments');
  });

  it('passes tools through unchanged', () => {
    const req = openaiToolsRequest();
    const out = toOllamaRequest(req, 'llama3.2');
    expect(out.tools).toEqual(req.tools);
  });

  it('drops tools when tool_choice is "none"', () => {
    const req = { ...openaiToolsRequest(), tool_choice: 'none' };
    expect(toOllamaRequest(req, 'llama3.2').tools).toBeUndefined();
  });

  it('maps response_format json_object to format "json" and json_schema to the schema object', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const base = openaiChatRequest();
    expect(toOllamaRequest({ ...base, response_format: { type: 'json_object' } }, 'm').format).toBe('json');
    expect(toOllamaRequest({ ...base, response_format: { type: 'json_schema', json_schema: { name: 'city', schema } } }, 'm').format).toEqual(schema);
    expect(toOllamaRequest({ ...base, response_format: { type: 'text' } }, 'm').format).toBeUndefined();
  });

  it('moves sampling parameters into options', () => {
    const out = toOllamaRequest({ ...openaiChatRequest(), temperature: 0.2, top_p: 0.9, seed: 42, stop: 'END', max_tokens: 64 }, 'm');
    expect(out.options).toEqual({ temperature: 0.2, top_p: 0.9, seed: 42, stop: ['END'], num_predict: 64 });
  });

  it('keeps an array stop as is and prefers max_completion_tokens over max_tokens', () => {
    const out = toOllamaRequest({ ...openaiChatRequest(), stop: ['a', 'b'], max_tokens: 64, max_completion_tokens: 16 }, 'm');
    expect(out.options?.stop).toEqual(['a', 'b']);
    expect(out.options?.num_predict).toBe(16);
  });

  it('sends no options when the request sets none', () => {
    expect(toOllamaRequest(openaiChatRequest(), 'm').options).toBeUndefined();
  });

  it('rejects n=2 with a 400 on "n" (Ollama returns one choice)', () => {
    expect(badRequestParam(() => toOllamaRequest({ ...openaiChatRequest(), n: 2 }, 'm'))).toBe('n');
    expect(toOllamaRequest({ ...openaiChatRequest(), n: 1 }, 'm').messages).toHaveLength(2);
  });

  it('carries the stream flag, defaulting to false', () => {
    expect(toOllamaRequest(fixtureJson<ChatCompletionRequest>('openai/chat-stream.request.json'), 'm').stream).toBe(true);
    expect(toOllamaRequest(openaiChatRequest(), 'm').stream).toBe(false);
  });
});

// ---- Ollama non-stream answer → chat.completion ------------------------------------------

describe('toOpenAICompletion', () => {
  it("translates the doc's plain answer, with usage and created from the Ollama fields", () => {
    const r = fixtureJson<OllamaLine>('ollama/chat-nonstream.response.json');
    const c = toOpenAICompletion(r);
    expect(c.object).toBe('chat.completion');
    expect(c.id).toMatch(/^chatcmpl-/);
    expect(c.model).toBe(r.model);
    expect(c.created).toBe(Math.floor(Date.parse(r.created_at) / 1000));
    expect(c.choices).toHaveLength(1);
    expect(c.choices[0]?.message).toMatchObject({ role: 'assistant', content: r.message?.content });
    expect(c.choices[0]?.message.tool_calls).toBeUndefined();
    expect(c.choices[0]?.finish_reason).toBe('stop');
    const prompt = r.prompt_eval_count ?? NaN;
    const completion = r.eval_count ?? NaN;
    expect(c.usage).toEqual({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });
  });

  it('translates tool calls into OpenAI tool_calls with string arguments and finish_reason "tool_calls"', () => {
    const r = fixtureJson<OllamaLine>('ollama/chat-tools-nonstream.response.json');
    const src = (r.message?.tool_calls ?? []) as OllamaFixtureToolCall[];
    expect(r.done_reason).toBe('stop');
    const c = toOpenAICompletion(r);
    const calls = c.choices[0]?.message.tool_calls ?? [];
    expect(calls).toHaveLength(src.length);
    const call = calls[0] as ToolCall;
    expect(call.id).toMatch(/^call_/);
    expect(call.type).toBe('function');
    expect(call.function.name).toBe(src[0]?.function.name);
    expect(typeof call.function.arguments).toBe('string');
    expect(call.function.arguments).toBe(JSON.stringify(src[0]?.function.arguments));
    expect(c.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('maps done_reason "length" to finish_reason "length"', () => {
    const r = { ...fixtureJson<OllamaLine>('ollama/chat-nonstream.response.json'), done_reason: 'length' };
    expect(toOpenAICompletion(r).choices[0]?.finish_reason).toBe('length');
  });
});

// ---- Ollama NDJSON stream → chat.completion.chunk -----------------------------------------

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect(lines: OllamaLine[], id = 'chatcmpl-test', created = 1_700_000_000, model = 'llama3.2'): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of toOpenAIChunks(iterate(lines), id, created, model)) out.push(c);
  return out;
}

const parse = (c: StreamChunk): ChatCompletionChunk => JSON.parse(c.json) as ChatCompletionChunk;

function expectFinishThenUsage(chunks: StreamChunk[], finish: string, last: OllamaLine): void {
  const finishChunk = parse(chunks[chunks.length - 2] as StreamChunk);
  expect(finishChunk.choices).toHaveLength(1);
  expect(finishChunk.choices[0]?.finish_reason).toBe(finish);
  const usageChunk = chunks[chunks.length - 1] as StreamChunk;
  const prompt = last.prompt_eval_count ?? NaN;
  const completion = last.eval_count ?? NaN;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  expect(usageChunk.usageOnly).toBe(true);
  expect(usageChunk.usage).toEqual(usage);
  const parsed = parse(usageChunk);
  expect(parsed.choices).toEqual([]);
  expect(parsed.usage).toEqual(usage);
  // no chunk before the usage-only one claims to be it
  expect(chunks.slice(0, -1).some((c) => c.usageOnly)).toBe(false);
}

describe('toOpenAIChunks', () => {
  it('streams the doc\'s text answer: role first, content, finish "stop", then a usage-only chunk', async () => {
    const lines = fixtureNdjson<OllamaLine>('ollama/chat-stream.ndjson');
    const chunks = await collect(lines, 'chatcmpl-xyz', 1234, 'llama3.2');
    const parsed = chunks.map(parse);
    for (const p of parsed) {
      expect(p).toMatchObject({ id: 'chatcmpl-xyz', object: 'chat.completion.chunk', created: 1234, model: 'llama3.2' });
    }
    expect(parsed[0]?.choices[0]?.delta.role).toBe('assistant');
    const expected = lines.map((l) => l.message?.content ?? '').join('');
    const streamed = parsed.flatMap((p) => p.choices.map((ch) => ch.delta.content ?? '')).join('');
    expect(streamed).toBe(expected);
    expect(parsed.flatMap((p) => p.choices).filter((ch) => ch.finish_reason !== null)).toHaveLength(1);
    expectFinishThenUsage(chunks, 'stop', lines[lines.length - 1] as OllamaLine);
  });

  it('streams the doc\'s tool call as one tool_calls delta at index 0, finish "tool_calls", then usage', async () => {
    const lines = fixtureNdjson<OllamaLine>('ollama/chat-tools-stream.ndjson');
    const src = (lines[0]?.message?.tool_calls ?? []) as OllamaFixtureToolCall[];
    expect(src).toHaveLength(1);
    const chunks = await collect(lines);
    const parsed = chunks.map(parse);
    expect(parsed[0]?.choices[0]?.delta.role).toBe('assistant');
    const deltas = parsed.flatMap((p) => p.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(deltas).toHaveLength(1);
    const d = deltas[0];
    expect(d?.index).toBe(0);
    expect(d?.id).toEqual(expect.stringMatching(/^call_/));
    expect(d?.type).toBe('function');
    expect(d?.function?.name).toBe(src[0]?.function.name);
    expect(typeof d?.function?.arguments).toBe('string');
    expect(JSON.parse(d?.function?.arguments ?? 'null')).toEqual(src[0]?.function.arguments);
    expectFinishThenUsage(chunks, 'tool_calls', lines[lines.length - 1] as OllamaLine);
  });

  it('numbers tool calls spread over several lines 0, 1, …', async () => {
    const [toolLine, doneLine] = fixtureNdjson<OllamaLine>('ollama/chat-tools-stream.ndjson') as [OllamaLine, OllamaLine];
    const chunks = await collect([toolLine, toolLine, doneLine]);
    const indexes = chunks
      .map(parse)
      .flatMap((p) => p.choices.flatMap((ch) => ch.delta.tool_calls ?? []))
      .map((t) => t.index);
    expect(indexes).toEqual([0, 1]);
  });

  it('reports done_reason "length" as finish_reason "length"', async () => {
    const lines = fixtureNdjson<OllamaLine>('ollama/chat-stream.ndjson');
    const last = { ...(lines[lines.length - 1] as OllamaLine), done_reason: 'length' };
    const chunks = await collect([...lines.slice(0, -1), last]);
    expectFinishThenUsage(chunks, 'length', last);
  });

  it('throws a 502 carrying Ollama\'s message when a line is an {"error": …} object', async () => {
    const lines = fixtureNdjson<OllamaLine>('ollama/stream-midstream-error.ndjson');
    const message = lines[lines.length - 1]?.error;
    expect(typeof message).toBe('string');
    const err = await rejectionOf(collect(lines));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(502);
    expect((err as GatewayError).message).toBe('ollama failed mid-stream.');
    expect((err as GatewayError).detail).toContain(message);
  });

  it('throws a 502 when the stream ends without its done line', async () => {
    const lines = fixtureNdjson<OllamaLine>('ollama/chat-stream.ndjson').filter((l) => !l.done);
    expect(lines.length).toBeGreaterThan(0);
    const err = await rejectionOf(collect(lines));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(502);
  });
});
