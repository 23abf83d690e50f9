// The Vercel AI SDK's OpenAI provider, unmodified: its default model speaks the Responses API.
// Pointed at the gateway, it is served by Anthropic (the recorded-format fake) through translation.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream';
import type { FakeUpstream } from '../fakes/fixtures';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

describe('Vercel AI SDK (Responses API) → gateway → Anthropic', () => {
  let anthropic: FakeUpstream;
  let gw: TestGateway;
  let openai: ReturnType<typeof createOpenAI>;

  beforeAll(async () => {
    anthropic = await startAnthropicUpstream();
    gw = await startGateway({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: anthropic.url });
    openai = createOpenAI({ baseURL: gw.baseURL, apiKey: DEFAULT_KEY });
  });
  afterAll(async () => {
    await gw.close();
    await anthropic.close();
  });

  test('generateText answers the text and the token usage', async () => {
    const result = await generateText({ model: openai('claude-haiku-4-5'), prompt: 'Hello' });
    expect(result.text).not.toBe('');
    expect(result.finishReason).toBe('stop');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(anthropic.requests.at(-1)?.json).toMatchObject({ model: 'claude-haiku-4-5', messages: [{ role: 'user' }] });
  });

  test('streamText delivers the text in pieces that add up to the whole', async () => {
    anthropic.setBehaviour({ streamChunks: 3 });
    try {
      const result = streamText({ model: openai('claude-haiku-4-5'), prompt: 'Count' });
      const pieces: string[] = [];
      for await (const piece of result.textStream) pieces.push(piece);
      expect(pieces.join('')).toBe('tok0 tok1 tok2 ');
      expect(await result.text).toBe('tok0 tok1 tok2 ');
      expect((await result.usage).outputTokens).toBeGreaterThan(0);
    } finally {
      anthropic.setBehaviour(null);
    }
  });

  test('a stream the provider breaks after its first text surfaces as an error, after the text that arrived', async () => {
    anthropic.setBehaviour({ streamChunks: 5, failAfterChunks: 4 });
    try {
      const result = streamText({ model: openai('claude-haiku-4-5'), prompt: 'Fail midway', onError: () => undefined });
      const parts: string[] = [];
      for await (const part of result.fullStream) parts.push(part.type);
      expect(parts).toContain('text-delta');
      expect(parts.indexOf('error')).toBeGreaterThan(parts.indexOf('text-delta'));
    } finally {
      anthropic.setBehaviour(null);
    }
  });

  test('a tool call over two steps: the model calls the tool, then answers with its result', async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: openai('claude-haiku-4-5'),
      prompt: 'Weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'Get the weather in a city',
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
          execute: async (input) => {
            calls.push(input);
            return 'Hail, 3 degrees';
          },
        }),
      },
      stopWhen: stepCountIs(2),
    });
    expect(calls).toHaveLength(1);
    expect(result.steps).toHaveLength(2);
    expect(result.text).toContain('Hail, 3 degrees');
  });
});
