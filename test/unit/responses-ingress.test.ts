// The Responses API ingress on its own: what a Responses request becomes in the canonical model,
// which requests it refuses, and how canonical answers and chunks are written back.
import type { ChatCompletion, ChatCompletionChunk, StreamChunk } from '../../functions/core/chat/model';
import { GatewayError } from '../../functions/core/errors';
import { openAiResponses } from '../../functions/core/ingress/openai-responses';
import { readResponsesRequestWithReferences } from '../../functions/core/ingress/openai-responses/read-request';
import { responseIdOfItem } from '../../functions/core/ingress/openai-responses/response-object';

const read = (body: Record<string, unknown>) => openAiResponses.readRequest({ model: 'm', ...body });

const refusal = (body: Record<string, unknown>): GatewayError => {
  try {
    read(body);
  } catch (err) {
    if (err instanceof GatewayError) return err;
  }
  throw new Error('expected a 400');
};

const chunk = (
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
): StreamChunk => ({
  json: JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }),
});

const events = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [event, data] = block.split('\n');
      const parsed = JSON.parse(data?.slice('data: '.length) ?? '') as Record<string, unknown>;
      expect(event).toBe(`event: ${String(parsed.type)}`);
      return parsed;
    });

const completion = (
  message: ChatCompletion['choices'][number]['message'],
  finish: ChatCompletion['choices'][number]['finish_reason'] = 'stop',
): ChatCompletion => ({
  id: 'c',
  object: 'chat.completion',
  created: 7,
  model: 'm',
  choices: [{ index: 0, message, finish_reason: finish }],
  usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, completion_tokens_details: { reasoning_tokens: 2 } },
});

describe('a Responses request in the canonical model', () => {
  test('instructions come first as a system message, a string input as one user message', () => {
    expect(read({ instructions: 'Be brief.', input: 'Hi' }).messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
  });

  test('input items become chat turns: function calls join the assistant turn before them, outputs are tool messages', () => {
    const request = read({
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Use tools.' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Look:' },
            { type: 'input_image', image_url: 'data:image/png;base64,AA==', detail: 'low' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
        { type: 'function_call', call_id: 'call_a', name: 'f', arguments: '{"x":1}' },
        { type: 'function_call', call_id: 'call_b', name: 'g', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_a', output: 'one' },
        { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: 'two' }] },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'developer', content: [{ type: 'text', text: 'Use tools.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA==', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
          { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'one' },
      { role: 'tool', tool_call_id: 'call_b', content: 'two' },
    ]);
  });

  test('the sampling, tool and format fields map to their chat completions names; metadata and store stay with the gateway', () => {
    const request = read({
      input: 'Hi',
      stream: true,
      temperature: 0.5,
      top_p: 0.8,
      max_output_tokens: 99,
      tools: [{ type: 'function', name: 'f', description: 'F', parameters: { type: 'object' }, strict: true }],
      tool_choice: { type: 'function', name: 'f' },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'low' },
      user: 'u-1',
      metadata: { a: 'b' },
      store: false,
      include: [],
      truncation: 'disabled',
    });
    expect(request).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      temperature: 0.5,
      top_p: 0.8,
      max_completion_tokens: 99,
      tools: [{ type: 'function', function: { name: 'f', description: 'F', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
      reasoning_effort: 'low',
      user: 'u-1',
    });
  });

  test('a built-in tool is left to the native upstream: the canonical request has the function tools only, and the ingress names it for a translated one', () => {
    const body = {
      model: 'm',
      input: 'Hi',
      tools: [
        { type: 'function', name: 'f' },
        { type: 'code_interpreter', container: { type: 'auto' } },
      ],
    };
    expect(read(body).tools).toEqual([{ type: 'function', function: { name: 'f' } }]);
    const refused = openAiResponses.native?.translatedRefusal(body);
    expect(refused).toMatchObject({ status: 400, param: 'tools[1].type', code: 'unsupported_tool' });
    expect(refused?.message).toContain("'code_interpreter' tool is not available on this provider");
    expect(openAiResponses.native?.translatedRefusal({ model: 'm', input: 'Hi', tools: [{ type: 'function', name: 'f' }] })).toBeUndefined();
  });

  test.each([
    [{ input: 'Hi', tool_choice: { type: 'web_search' } }, 'tool_choice.type', "'web_search' tool"],
    [
      {
        input: [
          { role: 'user', content: 'Hi' },
          { type: 'web_search_call', id: 'ws_1', status: 'completed' },
        ],
      },
      'input[1].type',
      "'web_search_call' items",
    ],
  ])('a built-in tool choice or item is read, and named in the 400 for a translated provider: %j', (body, param, message) => {
    const wire = { model: 'm', ...body };
    expect(read(wire).messages.length).toBeGreaterThan(0);
    const refused = openAiResponses.native?.translatedRefusal(wire);
    expect(refused).toMatchObject({ status: 400, param });
    expect(refused?.message).toContain(message);
  });

  test.each([
    [{ input: 'Hi', seed: 1 }, 'seed', "Unknown parameter: 'seed'"],
    [{ input: 'Hi', background: true }, 'background', 'not supported'],
    [{ input: 'Hi', previous_response_id: 7 }, 'previous_response_id', 'expected a non-empty string'],
    [{ input: 'Hi', previous_response_id: '' }, 'previous_response_id', 'expected a non-empty string'],
    [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type', "continue a stored response with 'previous_response_id'"],
    [{ input: [{ id: 'ws_1' }] }, 'input[0].type', 'item references are not supported'],
    [{ input: [{ status: 'completed' }] }, 'input[0].type', 'expected an item type'],
    [{ input: [{ role: 'tool', content: 'x' }] }, 'input[0].role', 'expected one of'],
    [{ input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }, 'input[0].content[0].type', 'user messages only'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'input[0].content[0].type', "'input_file' parts"],
    [{ input: 'Hi', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata', 'at most 16'],
    [{ input: 'Hi', metadata: { k: 1 } }, 'metadata.k', 'expected a string'],
    [{ input: 'Hi', text: { format: { type: 'json_schema', name: 'x' } } }, 'text.format.schema', 'expected an object'],
    [{ input: 'Hi', max_output_tokens: 0 }, 'max_output_tokens', 'outside the range'],
    [{}, 'input', "Missing required parameter: 'input'"],
    [{ input: [] }, 'input', 'at least one message'],
  ])('refused with a 400 naming the field: %j', (body, param, message) => {
    const err = refusal(body);
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message).toContain(message);
    expect(openAiResponses.errorBody(err)).toEqual({ error: { message: err.message, type: 'invalid_request_error', param, code: err.code } });
  });
});

describe('item references, where responses are stored', () => {
  const readWithReferences = (body: Record<string, unknown>) => readResponsesRequestWithReferences({ model: 'm', ...body });

  test('are left out of the request read (its turn resolves them), even when they are all of its input', () => {
    const input = [
      { type: 'item_reference', id: 'msg_1' },
      { role: 'user', content: 'Hi' },
      { type: 'item_reference', id: 'fc_2' },
    ];
    expect(readWithReferences({ input }).messages).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(readWithReferences({ input: [{ type: 'item_reference', id: 'msg_1' }] }).messages).toEqual([]);
  });

  test.each([{ type: 'item_reference' }, { type: 'item_reference', id: '' }, { type: 'item_reference', id: 7 }])('need an id: %j', (item) => {
    expect(() => readWithReferences({ input: [item] })).toThrow(expect.objectContaining({ status: 400, param: 'input[0].id' }));
  });
});

describe('a canonical answer as a response object', () => {
  const wire = { model: 'm', input: 'Hi', tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }], metadata: { a: 'b' } };

  test('text and refusal are parts of one message; tool calls follow as function_call items', () => {
    const body = openAiResponses.renderCompletion(
      completion(
        {
          role: 'assistant',
          content: 'Sure.',
          refusal: 'Not that part.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        'tool_calls',
      ),
      undefined,
      { provider: 'p' },
      wire,
    );
    const response = JSON.parse(body) as Record<string, unknown>;
    expect(response).toMatchObject({
      object: 'response',
      created_at: 7,
      status: 'completed',
      model: 'm',
      output: [
        {
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [
            { type: 'output_text', text: 'Sure.', annotations: [] },
            { type: 'refusal', refusal: 'Not that part.' },
          ],
        },
        { type: 'function_call', status: 'completed', call_id: 'call_1', name: 'f', arguments: '{}' },
      ],
      usage: { input_tokens: 3, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 7 },
      tools: [{ type: 'function', name: 'f', description: null, parameters: { type: 'object' }, strict: null }],
      metadata: { a: 'b' },
      x_gateway: { provider: 'p' },
    });
  });

  test("each output item's id names its response, whole or streamed", () => {
    const message = {
      role: 'assistant' as const,
      content: 'Sure.',
      tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{}' } }],
    };
    const whole = JSON.parse(openAiResponses.renderCompletion(completion(message, 'tool_calls'), undefined, {}, wire)) as {
      id: string;
      output: Array<{ id: string }>;
    };
    const writer = openAiResponses.openStream(read({ input: 'Hi', stream: true }), { id: 'c', created: 5, model: 'm' }, wire);
    writer.chunk(chunk({ content: 'Sure.', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }));
    const last = events(writer.end(undefined, {})).at(-1) as { response: { id: string; output: Array<{ id: string }> } };
    for (const response of [whole, last.response]) {
      expect(response.output).toHaveLength(2);
      expect(new Set(response.output.map((item) => item.id)).size).toBe(2);
      for (const item of response.output) expect(responseIdOfItem(item.id)).toBe(response.id);
    }
    expect(responseIdOfItem('msg_1')).toBeUndefined();
  });

  test('an answer of function calls alone has no message item', () => {
    const body = openAiResponses.renderCompletion(
      completion(
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        'tool_calls',
      ),
      undefined,
      {},
      wire,
    );
    expect((JSON.parse(body) as { output: Array<{ type: string }> }).output.map((item) => item.type)).toEqual(['function_call']);
  });

  test('a content filter leaves the response incomplete, with that reason', () => {
    const body = openAiResponses.renderCompletion(completion({ role: 'assistant', content: 'Partial' }, 'content_filter'), undefined, {}, wire);
    expect(JSON.parse(body)).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' }, output: [{ status: 'incomplete' }] });
  });
});

describe('a canonical stream as Responses events', () => {
  const open = () =>
    openAiResponses.openStream(read({ input: 'Hi', stream: true }), { id: 'c', created: 5, model: 'm' }, { model: 'm', input: 'Hi', stream: true });

  test('text, then two function calls: each an item opened, filled and closed in order; cut at the token cap it ends incomplete', () => {
    const writer = open();
    let text = writer.chunk(chunk({ role: 'assistant', content: 'Let me ' }));
    text += writer.chunk(chunk({ content: 'check.' }));
    text += writer.chunk(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x"' } }] }));
    text += writer.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }));
    text += writer.chunk(chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } }] }));
    text += writer.chunk(chunk({}, 'length'));
    text += writer.end({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 }, { provider: 'p' });
    const received = events(text);
    expect(received.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    expect(received.map((e) => e.sequence_number)).toEqual(received.map((_, i) => i));
    expect(received[6]).toMatchObject({ output_index: 0, content_index: 0, text: 'Let me check.' });
    expect(received[12]).toMatchObject({ output_index: 1, arguments: '{"x":1}', name: 'f' });
    const last = received.at(-1) as { response: Record<string, unknown> };
    expect(last.response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      created_at: 5,
      output: [
        { type: 'message', content: [{ type: 'output_text', text: 'Let me check.' }] },
        { type: 'function_call', call_id: 'call_a', name: 'f', arguments: '{"x":1}', status: 'completed' },
        { type: 'function_call', call_id: 'call_b', name: 'g', arguments: '{}', status: 'completed' },
      ],
      usage: { input_tokens: 2, output_tokens: 3, total_tokens: 5 },
      x_gateway: { provider: 'p' },
    });
    expect((received[0] as { response: { id: string } }).response.id).toBe((last.response as { id: string }).id);
  });

  test('a refusal streams as a refusal part', () => {
    const writer = open();
    const received = events(writer.chunk(chunk({ refusal: 'No.' })) + writer.chunk(chunk({}, 'stop')) + writer.end(undefined, {}));
    expect(received.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.refusal.delta',
      'response.refusal.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(received.at(-1)).toMatchObject({ response: { output: [{ content: [{ type: 'refusal', refusal: 'No.' }] }], usage: null } });
  });

  test('a fault after the first byte ends the stream with response.failed, the cut item incomplete', () => {
    const writer = open();
    const text = writer.chunk(chunk({ content: 'Half' })) + writer.error(new GatewayError(502, 'The provider hung up.', { code: 'upstream_error' }));
    const last = events(text).at(-1);
    expect(last).toMatchObject({
      type: 'response.failed',
      response: { status: 'failed', error: { code: 'upstream_error', message: 'The provider hung up.' }, output: [{ status: 'incomplete' }] },
    });
  });
});
