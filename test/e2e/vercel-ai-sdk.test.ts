// The Vercel AI SDK's OpenAI provider, unmodified: its default model speaks the Responses API.
// Pointed at the gateway, it is served by every provider through the Responses API's translation.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, type ModelMessage, stepCountIs, streamText, tool } from 'ai';
import { readFixtureJson } from '../fakes/fixtures';
import { PROVIDER_MODELS, startFourProviders, type FourProviders } from '../helpers/four-providers';
import { eventually } from '../helpers/eventually';
import { DEFAULT_KEY } from '../helpers/gateway';

const servedBy = (body: unknown): string | undefined => (body as { x_gateway?: { provider?: string } } | undefined)?.x_gateway?.provider;

/** A weather tool that answers `answer` and records the input of each call in `calls`. */
function weatherTool(answer: string, calls: unknown[] = []) {
  return tool({
    description: 'Get the weather in a city',
    inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
    execute: async (input) => {
      calls.push(input);
      return answer;
    },
  });
}

describe('Vercel AI SDK (Responses API) → gateway', () => {
  let four: FourProviders;
  let openai: ReturnType<typeof createOpenAI>;

  beforeAll(async () => {
    four = await startFourProviders();
    openai = createOpenAI({ baseURL: four.gw.baseURL, apiKey: DEFAULT_KEY });
  });
  afterAll(() => four.close());
  afterEach(() => four.reset());

  describe.each(PROVIDER_MODELS)('→ $provider', ({ provider, model }) => {
    test('generateText answers the text and the token usage', async () => {
      const result = await generateText({ model: openai(model), prompt: 'Hello' });
      expect(result.text).not.toBe('');
      expect(result.finishReason).toBe('stop');
      expect(result.usage.inputTokens).toBeGreaterThan(0);
      expect(result.usage.outputTokens).toBeGreaterThan(0);
      expect(servedBy(result.response.body)).toBe(provider);
    });

    test('streamText delivers the text in pieces, in order, then the finish reason and usage', async () => {
      four.fakes[provider].setBehaviour({ streamChunks: 3 });
      const result = streamText({ model: openai(model), prompt: 'Count' });
      const pieces: string[] = [];
      for await (const piece of result.textStream) pieces.push(piece);
      expect(pieces.filter((p) => p !== '')).toEqual(['tok0 ', 'tok1 ', 'tok2 ']);
      expect(await result.text).toBe('tok0 tok1 tok2 ');
      expect(await result.finishReason).toBe('stop');
      expect((await result.usage).outputTokens).toBeGreaterThan(0);
    });

    test('a stream the provider breaks after its first text surfaces as an error, after the text that arrived', async () => {
      // OpenAI, served natively, sends its own Responses events: four open the stream before the first delta.
      four.fakes[provider].setBehaviour({ streamChunks: 5, failAfterChunks: provider === 'openai' ? 6 : 4 });
      const result = streamText({ model: openai(model), prompt: 'Fail midway', onError: () => undefined });
      const parts: string[] = [];
      for await (const part of result.fullStream) parts.push(part.type);
      expect(parts).toContain('text-delta');
      expect(parts.indexOf('error')).toBeGreaterThan(parts.indexOf('text-delta'));
    });

    test("a stream the client aborts after its first text is cut at the provider's end too", async () => {
      const fake = four.fakes[provider];
      fake.setBehaviour({ streamChunks: 50, chunkDelayMs: 50 });
      const abortedBefore = fake.aborted;
      const controller = new AbortController();
      const result = streamText({ model: openai(model), prompt: 'Talk at length', abortSignal: controller.signal, onError: () => undefined });
      const parts: string[] = [];
      for await (const part of result.fullStream) {
        parts.push(part.type);
        if (part.type === 'text-delta') controller.abort();
      }
      const pieces = parts.filter((p) => p === 'text-delta').length;
      expect(pieces).toBeGreaterThan(0);
      expect(pieces).toBeLessThan(50);
      await eventually(`the ${provider} request aborted`, () => fake.aborted > abortedBefore);
    });

    test('a tool call over two steps: the model calls the tool, then answers with its result', async () => {
      const calls: unknown[] = [];
      const result = await generateText({
        model: openai(model),
        prompt: 'Weather in Paris?',
        tools: { get_weather: weatherTool('Hail, 3 degrees', calls) },
        stopWhen: stepCountIs(2),
      });
      expect(calls).toHaveLength(1);
      expect(result.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
      expect(result.text).toContain('Hail, 3 degrees');
    });

    test('a streamed tool call over two steps', async () => {
      const result = streamText({
        model: openai(model),
        prompt: 'Weather in Paris?',
        tools: { get_weather: weatherTool('Sleet, 1 degree') },
        stopWhen: stepCountIs(2),
      });
      expect(await result.text).toContain('Sleet, 1 degree');
      expect((await result.steps).map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    });

    test('a conversation continues with the earlier answer sent back inline (store: false)', async () => {
      const providerOptions = { openai: { store: false } };
      const messages: ModelMessage[] = [{ role: 'user', content: 'Hello' }];
      const first = await generateText({ model: openai(model), messages, providerOptions });
      messages.push(...first.response.messages, { role: 'user', content: 'And again' });
      const second = await generateText({ model: openai(model), messages, providerOptions });
      expect(second.text).not.toBe('');
      expect(servedBy(second.response.body)).toBe(provider);
    });

    // With `store` on (the SDK's default) the SDK sends its earlier answers back as item_reference
    // items, which resolve against the responses the gateway has stored.
    test('a conversation continues with the earlier answer referred to by its item id (store on)', async () => {
      const messages: ModelMessage[] = [{ role: 'user', content: 'Hello' }];
      const first = await generateText({ model: openai(model), messages });
      messages.push(...first.response.messages, { role: 'user', content: 'And again' });
      const second = await generateText({ model: openai(model), messages });
      expect(second.text).not.toBe('');
      expect(JSON.stringify(four.fakes[provider].requests.at(-1)?.json)).toContain(JSON.stringify(first.text).slice(1, -1));
    });
  });

  test('a first step that answers text beside its tool call continues to the second step (store on)', async () => {
    const recorded = readFixtureJson<{ content: unknown[] }>('anthropic/tools-nonstream.response.json');
    const textAndCall = { ...recorded, content: [{ type: 'text', text: 'Let me look that up.' }, ...recorded.content] };
    four.fakes.anthropic.setBehaviour({ status: 200, body: JSON.stringify(textAndCall), times: 1 });
    const result = await generateText({
      model: openai('anthropic/claude-haiku-4-5'),
      prompt: 'Weather in Paris?',
      tools: { get_weather: weatherTool('Dust, 30 degrees') },
      stopWhen: stepCountIs(2),
    });
    expect(result.text).toContain('Dust, 30 degrees');
    expect(JSON.stringify(four.fakes.anthropic.requests.at(-1)?.json)).toContain('Let me look that up.');
  });
});
