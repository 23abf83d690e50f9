// The Anthropic Messages ingress on its own: each request field read into the canonical request (or
// refused with a 400 naming it), and the canonical answer written as Anthropic writes it: the
// message object, the event sequence of a stream, and the error shape and status.
import type { ChatCompletion, StreamChunk } from '../../functions/core/chat/model';
import { GatewayError } from '../../functions/core/errors';
import { anthropicMessages } from '../../functions/core/ingress/anthropic-messages';
import { messagesErrorBody, messagesErrorStatus } from '../../functions/core/ingress/anthropic-messages/errors';
import { messageObject, messagesUsage } from '../../functions/core/ingress/anthropic-messages/message-object';
import { readMessagesRequest, reasoningEffort, refusedWhenTranslated } from '../../functions/core/ingress/anthropic-messages/read-request';
import { MessagesStreamWriter } from '../../functions/core/ingress/anthropic-messages/stream-writer';

const base = { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hi' }] };
const read = (extra: Record<string, unknown>): ReturnType<typeof readMessagesRequest> => readMessagesRequest({ ...base, ...extra });
const PIXEL = 'iVBORw0KGgo=';
const weather = { name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } };

/** The 400 a body gets: its param and message. */
function refusal(body: Record<string, unknown>): { status: number; param: string | null; message: string } {
  try {
    anthropicMessages.readRequest(body);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { status: err.status, param: err.param, message: err.message };
  }
  throw new Error('expected a refusal');
}

describe('reading a Messages request', () => {
  test('model, max_tokens (as max_completion_tokens) and a string turn; nothing else is set', () => {
    expect(read({})).toEqual({ model: 'claude-sonnet-4-5', max_completion_tokens: 1024, messages: [{ role: 'user', content: 'Hi' }] });
  });

  test('system as a string, and as text blocks whose cache_control is left out', () => {
    expect(read({ system: 'Be brief.' }).messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    const blocks = read({
      system: [
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Be brief.' },
      ],
    });
    expect(blocks.messages[0]).toEqual({
      role: 'system',
      content: [
        { type: 'text', text: 'You are Claude Code.' },
        { type: 'text', text: 'Be brief.' },
      ],
    });
    expect(JSON.stringify(blocks)).not.toContain('cache_control');
  });

  test('user text and images: base64 as a data URL, url as it is', () => {
    const request = read({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare', cache_control: { type: 'ephemeral' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PIXEL } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  test('assistant text and tool_use become one message with tool calls; thinking blocks are left out', () => {
    const request = read({
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'The user wants weather.', signature: 'sig' },
            { type: 'redacted_thinking', data: 'opaque' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
      ],
    });
    expect(request.messages[1]).toEqual({
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    expect(JSON.stringify(request)).not.toContain('The user wants weather.');
  });

  test('tool results become tool messages ahead of the turn; their images follow in a user message naming the call', () => {
    const request = read({
      messages: [
        { role: 'user', content: 'Weather and a photo?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'photo', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Drizzle', is_error: false },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: [
                { type: 'text', text: 'A photo:' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PIXEL } },
              ],
            },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
    });
    expect(request.messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Drizzle' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'A photo:' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Returned by tool call toolu_2:' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ]);
  });

  test('a PDF in a tool result follows as a file part; a plain-text document joins the result text', () => {
    const request = read({
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_9', name: 'Read', input: { file_path: 'a.pdf' } }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_9',
              content: [
                { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
                { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } },
              ],
            },
          ],
        },
      ],
    });
    expect(request.messages.slice(1)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_9', content: 'notes' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Returned by tool call toolu_9:' },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
        ],
      },
    ]);
  });

  test('custom tools become function tools; tool_choice and disable_parallel_tool_use map to their chat counterparts', () => {
    const request = read({ tools: [weather], tool_choice: { type: 'any', disable_parallel_tool_use: true } });
    expect(request.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: weather.input_schema } },
    ]);
    expect(request).toMatchObject({ tool_choice: 'required', parallel_tool_calls: false });
    expect(read({ tools: [weather], tool_choice: { type: 'auto' } })).toMatchObject({ tool_choice: 'auto' });
    expect(read({ tools: [weather], tool_choice: { type: 'none' } })).toMatchObject({ tool_choice: 'none' });
    expect(read({ tools: [weather], tool_choice: { type: 'tool', name: 'get_weather' } })).toMatchObject({
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(read({ tools: [weather], tool_choice: { type: 'auto' } }).parallel_tool_calls).toBeUndefined();
    const withoutTools = read({ tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    expect(withoutTools.tool_choice).toBeUndefined();
    expect(withoutTools.parallel_tool_calls).toBeUndefined();
  });

  test('sampling fields, stop_sequences, metadata.user_id and stream', () => {
    expect(read({ temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ['\n\nHuman:'], metadata: { user_id: 'user-7' }, stream: true })).toMatchObject({
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop: ['\n\nHuman:'],
      user: 'user-7',
      stream: true,
    });
  });

  test.each([
    [1024, 'low'],
    [4000, 'low'],
    [10000, 'medium'],
    [31999, 'high'],
  ])('thinking with a budget of %i tokens asks for %s reasoning effort', (budget, effort) => {
    expect(reasoningEffort(budget)).toBe(effort);
    expect(read({ thinking: { type: 'enabled', budget_tokens: budget } }).reasoning_effort).toBe(effort);
  });

  test('thinking disabled or adaptive sets no reasoning effort; service_tier and context_management are accepted', () => {
    expect(read({ thinking: { type: 'disabled' } }).reasoning_effort).toBeUndefined();
    expect(read({ thinking: { type: 'adaptive' } }).reasoning_effort).toBeUndefined();
    expect(read({ service_tier: 'auto', context_management: { edits: [] } }).model).toBe('claude-sonnet-4-5');
  });

  test('output_config: effort where thinking set none, and a JSON schema format as response_format', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    expect(read({ output_config: { effort: 'medium', format: { type: 'json_schema', schema } } })).toMatchObject({
      reasoning_effort: 'medium',
      response_format: { type: 'json_schema', json_schema: { name: 'output', schema } },
    });
    expect(read({ output_config: { effort: 'low' }, thinking: { type: 'enabled', budget_tokens: 30000 } }).reasoning_effort).toBe('high');
    expect(read({ output_config: { effort: 'max' } }).reasoning_effort).toBeUndefined();
    expect(refusal({ ...base, output_config: { format: { type: 'json_object' } } })).toMatchObject({ param: 'output_config.format.type' });
    expect(refusal({ ...base, output_config: { effort: 3 } })).toMatchObject({ param: 'output_config.effort' });
  });

  test("a server tool, or a server tool's blocks in the history, is read, and refused where the request is translated", () => {
    const withSearch = { ...base, tools: [weather, { type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] };
    expect(readMessagesRequest(withSearch).tools).toHaveLength(1);
    // The ingress reads it (Anthropic is forwarded the request itself); a translated target refuses it.
    expect(anthropicMessages.readRequest(withSearch).tools).toHaveLength(1);
    expect(anthropicMessages.native?.translatedRefusal(withSearch)).toMatchObject({ status: 400, param: 'tools[1].type' });
    expect(refusedWhenTranslated(withSearch)?.message).toContain('web_search_20250305');
    const history = {
      ...base,
      messages: [
        { role: 'user', content: 'News?' },
        { role: 'assistant', content: [{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'news' } }] },
      ],
    };
    expect(refusedWhenTranslated(history)).toMatchObject({ status: 400, param: 'messages[1].content[0].type' });
    expect(refusedWhenTranslated(base)).toBeUndefined();
  });

  const image = (source: Record<string, unknown>): Record<string, unknown> => ({ messages: [{ role: 'user', content: [{ type: 'image', source }] }] });
  test.each<[string, Record<string, unknown>, string]>([
    ['model missing', { model: undefined }, 'model'],
    ['model empty', { model: ' ' }, 'model'],
    ['max_tokens missing', { max_tokens: undefined }, 'max_tokens'],
    ['max_tokens zero', { max_tokens: 0 }, 'max_tokens'],
    ['max_tokens fractional', { max_tokens: 1.5 }, 'max_tokens'],
    ['messages missing', { messages: undefined }, 'messages'],
    ['messages empty', { messages: [] }, 'messages'],
    ['a system role', { messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role'],
    ['content not text or blocks', { messages: [{ role: 'user', content: 7 }] }, 'messages[0].content'],
    ['text without text', { messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text'],
    ['an unknown block', { messages: [{ role: 'user', content: [{ type: 'video' }] }] }, 'messages[0].content[0].type'],
    ['tool_use from the user', { messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b', input: {} }] }] }, 'messages[0].content[0].type'],
    [
      'tool_result from the assistant',
      { messages: [{ role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 'a' }] }] },
      'messages[0].content[0].type',
    ],
    [
      'tool_use input not an object',
      { messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'b', input: '{}' }] }] },
      'messages[0].content[0].input',
    ],
    ['tool_result without its id', { messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] }, 'messages[0].content[0].tool_use_id'],
    [
      'a search result inside a tool result',
      { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'a', content: [{ type: 'search_result' }] }] }] },
      'messages[0].content[0].content[0].type',
    ],
    ['an image from a file id', image({ type: 'file', file_id: 'file_1' }), 'messages[0].content[0].source.type'],
    ['a base64 image without a media type', image({ type: 'base64', data: PIXEL }), 'messages[0].content[0].source.media_type'],
    ['an image URL that is not http(s)', image({ type: 'url', url: 'ftp://x/y.png' }), 'messages[0].content[0].source.url'],
    [
      'a document by URL',
      { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/y.pdf' } }] }] },
      'messages[0].content[0].source.type',
    ],
    [
      'cache_control of another type',
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'forever' } }] }] },
      'messages[0].content[0].cache_control.type',
    ],
    ['system blocks that are not text', { system: [{ type: 'image' }] }, 'system[0].type'],
    ['a tool without input_schema', { tools: [{ name: 'x' }] }, 'tools[0].input_schema'],
    ['a tool without a name', { tools: [{ input_schema: {} }] }, 'tools[0].name'],
    ['tool_choice of an unknown type', { tool_choice: { type: 'function' } }, 'tool_choice.type'],
    ['tool_choice tool without a name', { tool_choice: { type: 'tool' } }, 'tool_choice.name'],
    ['stop_sequences not strings', { stop_sequences: [1] }, 'stop_sequences[0]'],
    ['temperature above 1', { temperature: 1.5 }, 'temperature'],
    ['top_p above 1', { top_p: 2 }, 'top_p'],
    ['top_k fractional', { top_k: 1.5 }, 'top_k'],
    ['metadata.user_id not a string', { metadata: { user_id: 7 } }, 'metadata.user_id'],
    ['a thinking budget under 1024', { thinking: { type: 'enabled', budget_tokens: 500 } }, 'thinking.budget_tokens'],
    ['thinking of an unknown type', { thinking: { type: 'on' } }, 'thinking.type'],
    ['stream not a boolean', { stream: 'yes' }, 'stream'],
    ['a field the API does not have', { frequency_penalty: 1 }, 'frequency_penalty'],
    ['mcp_servers', { mcp_servers: [{ type: 'url', url: 'https://x', name: 'x' }] }, 'mcp_servers'],
  ])('%s: a 400 naming the field', (_name, extra, param) => {
    expect(refusal({ ...base, ...extra })).toMatchObject({ status: 400, param });
  });
});

const completion = (
  message: Record<string, unknown>,
  finish: ChatCompletion['choices'][number]['finish_reason'],
  usage?: ChatCompletion['usage'],
): ChatCompletion => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
  ...(usage ? { usage } : {}),
});

describe('writing a whole answer', () => {
  test('reasoning, text and tool calls as thinking, text and tool_use blocks, with usage and x_gateway', () => {
    const usage = { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 60, cache_creation_tokens: 30 } };
    const message = messageObject(
      completion(
        {
          content: 'Checking.',
          reasoning: 'Needs a tool.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        'tool_calls',
        usage,
      ),
      { provider: 'openai' },
    );
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-2024-08-06',
      stop_reason: 'tool_use',
      stop_sequence: null,
      content: [
        { type: 'thinking', thinking: 'Needs a tool.', signature: '' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      ],
      usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 60, cache_creation_input_tokens: 30 },
      x_gateway: { provider: 'openai' },
    });
    expect(message.id).toMatch(/^msg_[A-Za-z0-9]{24}$/);
  });

  test.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
  ] as const)('finish_reason %s is stop_reason %s', (finish, stop) => {
    expect(messageObject(completion({ content: 'x' }, finish), {}).stop_reason).toBe(stop);
  });

  test("a provider's refusal is a text block with stop_reason refusal, whole and streamed", () => {
    const message = messageObject(completion({ content: null, refusal: "I can't help with that." }, 'stop'), {});
    expect(message).toMatchObject({ stop_reason: 'refusal', content: [{ type: 'text', text: "I can't help with that." }] });
    const writer = new MessagesStreamWriter({ id: 'c', created: 1, model: 'gpt-4o' });
    const text = writer.chunk(chunk({ refusal: "I can't" })) + writer.chunk(chunk({}, 'stop')) + writer.end(undefined, {});
    expect(events(text).find(([type]) => type === 'message_delta')?.[1].delta).toEqual({ stop_reason: 'refusal', stop_sequence: null });
  });

  test('an empty answer is one empty text block; unparsable tool arguments an empty input; no usage is zeros', () => {
    expect(messageObject(completion({ content: '' }, 'stop'), {}).content).toEqual([{ type: 'text', text: '' }]);
    const broken = messageObject(completion({ tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }, 'tool_calls'), {});
    expect(broken.content).toEqual([{ type: 'tool_use', id: 'c', name: 'f', input: {} }]);
    expect(messagesUsage(undefined)).toEqual({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  test('renderCompletion writes that object as JSON', () => {
    const json = anthropicMessages.renderCompletion(completion({ content: 'Hi' }, 'stop'), undefined, { provider: 'ollama' }, {});
    expect(JSON.parse(json)).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'Hi' }], x_gateway: { provider: 'ollama' } });
  });
});

const chunk = (delta: Record<string, unknown>, finish: string | null = null): StreamChunk => ({
  json: JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }),
});

/** The events of a stream's text, as [type, data]. */
const events = (text: string): Array<[string, Record<string, unknown>]> =>
  text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => {
      const [head, data] = e.split('\n');
      return [head?.slice('event: '.length) ?? '', JSON.parse(data?.slice('data: '.length) ?? 'null') as Record<string, unknown>];
    });

describe('writing a stream', () => {
  const head = { id: 'c', created: 1, model: 'gpt-4o' };

  test('message_start and ping, then each block opened, filled and closed in order, then message_delta and message_stop', () => {
    const writer = anthropicMessages.openStream({ model: 'gpt-4o', messages: [] }, head, {});
    let text = writer.chunk(chunk({ role: 'assistant', reasoning: 'Hmm' }));
    text += writer.chunk(chunk({ content: 'Let me ' }));
    text += writer.chunk(chunk({ content: 'check.' }));
    text += writer.chunk(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
    text += writer.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
    text += writer.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
    text += writer.chunk(chunk({}, 'tool_calls'));
    const usage = { prompt_tokens: 50, completion_tokens: 9, total_tokens: 59, prompt_tokens_details: { cached_tokens: 40 } };
    text += writer.chunk({
      json: JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage }),
      usage,
      usageOnly: true,
    });
    text += writer.end(usage, { provider: 'openai' });

    const list = events(text);
    for (const [type, data] of list) expect(data.type).toBe(type);
    expect(list.map(([type, data]) => (typeof data.index === 'number' ? `${type}:${data.index}` : type))).toEqual([
      'message_start',
      'ping',
      'content_block_start:0',
      'content_block_delta:0',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta:1',
      'content_block_delta:1',
      'content_block_stop:1',
      'content_block_start:2',
      'content_block_delta:2',
      'content_block_delta:2',
      'content_block_stop:2',
      'message_delta',
      'message_stop',
    ]);
    expect(list[0]?.[1]).toMatchObject({
      message: { type: 'message', role: 'assistant', model: 'gpt-4o', content: [], stop_reason: null, usage: { input_tokens: 0, output_tokens: 0 } },
    });
    expect(list[2]?.[1].content_block).toEqual({ type: 'thinking', thinking: '', signature: '' });
    expect(list[3]?.[1].delta).toEqual({ type: 'thinking_delta', thinking: 'Hmm' });
    expect(list[6]?.[1].delta).toEqual({ type: 'text_delta', text: 'Let me ' });
    expect(list[9]?.[1].content_block).toEqual({ type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} });
    expect(list[10]?.[1].delta).toEqual({ type: 'input_json_delta', partial_json: '{"city":' });
    expect(list[13]?.[1]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 10, output_tokens: 9, cache_read_input_tokens: 40, cache_creation_input_tokens: 0 },
      x_gateway: { provider: 'openai' },
    });
  });

  test('a second tool call (a new index) opens its own block; a stream with no chunks still opens and ends', () => {
    const writer = new MessagesStreamWriter(head);
    let text = writer.chunk(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{}' } }] }));
    text += writer.chunk(chunk({ tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: '{}' } }] }));
    text += writer.end(undefined, {});
    const starts = events(text).filter(([type]) => type === 'content_block_start');
    expect(starts.map(([, data]) => (data.content_block as { id: string }).id)).toEqual(['a', 'b']);

    const empty = new MessagesStreamWriter(head).end(undefined, {});
    expect(events(empty).map(([type]) => type)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
  });

  test("a fault after the first byte ends the stream with Anthropic's error event", () => {
    const writer = new MessagesStreamWriter(head);
    writer.chunk(chunk({ content: 'Hel' }));
    const overloaded = events(writer.error(new GatewayError(503, 'Every provider is unavailable.')));
    expect(overloaded).toEqual([['error', { type: 'error', error: { type: 'overloaded_error', message: 'Every provider is unavailable.' } }]]);
    const failed = events(new MessagesStreamWriter(head).error(new GatewayError(502, 'openai sent a malformed stream.')));
    expect(failed.map(([type]) => type)).toEqual(['message_start', 'ping', 'error']);
    expect(failed[2]?.[1]).toEqual({ type: 'error', error: { type: 'api_error', message: 'openai sent a malformed stream.' } });
  });
});

describe('errors', () => {
  test.each([
    [400, 400, 'invalid_request_error'],
    [401, 401, 'authentication_error'],
    [403, 403, 'permission_error'],
    [404, 404, 'not_found_error'],
    [405, 405, 'invalid_request_error'],
    [413, 413, 'request_too_large'],
    [429, 429, 'rate_limit_error'],
    [500, 500, 'api_error'],
    [502, 502, 'api_error'],
    [503, 529, 'overloaded_error'],
    [504, 504, 'api_error'],
  ])("the gateway's %i is answered %i %s", (status, answered, type) => {
    const err = new GatewayError(status, 'Something happened.');
    expect(messagesErrorStatus(err)).toBe(answered);
    expect(anthropicMessages.errorStatus?.(err)).toBe(answered);
    expect(messagesErrorBody(err)).toEqual({ type: 'error', error: { type, message: 'Something happened.' } });
  });

  test('key-shaped text in a message is masked', () => {
    const body = messagesErrorBody(new GatewayError(400, 'Bad key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789'));
    expect(body.error.message).not.toContain('abcdefghijklmnop');
  });
});
