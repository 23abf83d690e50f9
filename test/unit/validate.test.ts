// Request-body validation: every problem is a 400 naming the offending field.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../../functions/core/errors';
import { validateChatRequest } from '../../functions/core/ingress/openai-chat/validate-request';
import { parseJsonBody } from '../../functions/core/validate';
import { FIXTURES, fixtureJson, fixtureText, thrownBy } from './fixture-files';

type Json = Record<string, unknown>;

const base = (): Json => ({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hello!' },
  ],
});

function rejection(fn: () => unknown): GatewayError {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(GatewayError);
  const ge = err as GatewayError;
  expect(ge.status).toBe(400);
  expect(ge.type).toBe('invalid_request_error');
  return ge;
}

const without = (key: string): Json => {
  const b = base();
  delete b[key];
  return b;
};

describe('validateChatRequest rejects bad bodies with the exact param', () => {
  const cases: Array<[string, string, Json]> = [
    ['model missing', 'model', without('model')],
    ['model is a number', 'model', { ...base(), model: 4 }],
    ['model is empty', 'model', { ...base(), model: '  ' }],
    ['messages missing', 'messages', without('messages')],
    ['messages not an array', 'messages', { ...base(), messages: { role: 'user', content: 'hi' } }],
    ['messages empty', 'messages', { ...base(), messages: [] }],
    [
      'messages[1].role invalid',
      'messages[1].role',
      {
        ...base(),
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'robot', content: 'beep' },
        ],
      },
    ],
    ['messages[0].content a number', 'messages[0].content', { ...base(), messages: [{ role: 'user', content: 42 }] }],
    [
      'tool message without tool_call_id',
      'messages[1].tool_call_id',
      {
        ...base(),
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'tool', content: '{}' },
        ],
      },
    ],
    ['tools[0].function.name missing', 'tools[0].function.name', { ...base(), tools: [{ type: 'function', function: { parameters: { type: 'object' } } }] }],
    ['temperature 3', 'temperature', { ...base(), temperature: 3 }],
    ['max_tokens 0', 'max_tokens', { ...base(), max_tokens: 0 }],
    ['max_tokens 1.5', 'max_tokens', { ...base(), max_tokens: 1.5 }],
    ['stop [1]', 'stop', { ...base(), stop: [1] }],
    ['response_format.type "xml"', 'response_format.type', { ...base(), response_format: { type: 'xml' } }],
    ['stream "yes"', 'stream', { ...base(), stream: 'yes' }],
    ['stream_options.include_usage "no"', 'stream_options.include_usage', { ...base(), stream: true, stream_options: { include_usage: 'no' } }],
  ];

  it.each(cases)('%s → param %s', (_label, param, body) => {
    expect(rejection(() => validateChatRequest(body)).param).toBe(param);
  });

  it('names the field in the message too', () => {
    expect(rejection(() => validateChatRequest({ ...base(), temperature: 3 })).message).toContain('temperature');
  });
});

describe('parseJsonBody', () => {
  it.each<[string, string]>([
    ['malformed JSON', '{"model": "gpt-4o", "messages": ['],
    ['an empty body', ''],
    ['a JSON array', '[{"model": "gpt-4o"}]'],
    ['a JSON string', '"hello"'],
    ['JSON null', 'null'],
  ])('rejects %s with a 400', (_label, text) => {
    rejection(() => parseJsonBody(Buffer.from(text, 'utf8')));
  });

  it('parses a JSON object', () => {
    const text = fixtureText('openai/chat-nonstream.request.json');
    expect(parseJsonBody(Buffer.from(text, 'utf8'))).toEqual(JSON.parse(text) as unknown);
  });
});

describe('valid requests pass unchanged', () => {
  // Every chat request fixture (embeddings and Responses API requests are not chat requests).
  const chatFixtures = readdirSync(join(FIXTURES, 'openai'))
    .filter((f) => f.endsWith('.request.json') && !f.startsWith('embeddings') && !f.startsWith('responses-'))
    .map((f) => `openai/${f}`);

  it('finds the fixture requests', () => {
    expect(chatFixtures.length).toBeGreaterThanOrEqual(4);
  });

  it.each(chatFixtures)('%s', (file) => {
    const text = fixtureText(file);
    const body = parseJsonBody(Buffer.from(text, 'utf8'));
    const req = validateChatRequest(body);
    expect(req).toEqual(fixtureJson<Json>(file));
  });

  it('accepts a full tool-calling conversation with content parts and sampling options', () => {
    const body: Json = {
      model: 'gpt-4o',
      messages: [
        { role: 'developer', content: 'Use tools.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'weather?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Boston"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 20}' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      temperature: 0,
      max_tokens: 1,
      stop: ['\n'],
      stream: true,
      stream_options: { include_usage: true },
      response_format: { type: 'json_object' },
      some_future_field: { kept: true },
    };
    expect(validateChatRequest(body)).toEqual(body);
  });
});
