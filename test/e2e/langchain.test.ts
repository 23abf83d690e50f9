// LangChain's ChatOpenAI with `useResponsesApi`, unmodified, pointed at the gateway: served by
// every provider through the Responses API's translation.
import { ChatOpenAI } from '@langchain/openai';
import { PROVIDER_MODELS, startFourProviders, type FourProviders } from '../helpers/four-providers';
import { eventually } from '../helpers/eventually';
import { DEFAULT_KEY } from '../helpers/gateway';

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Get the weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe("LangChain's ChatOpenAI (Responses API) → gateway", () => {
  let four: FourProviders;

  beforeAll(async () => {
    four = await startFourProviders();
  });
  afterAll(() => four.close());
  afterEach(() => four.reset());

  describe.each(PROVIDER_MODELS)('→ $provider', ({ provider, model: name }) => {
    const chat = (): ChatOpenAI =>
      new ChatOpenAI({ model: name, apiKey: DEFAULT_KEY, configuration: { baseURL: four.gw.baseURL }, useResponsesApi: true, maxRetries: 0 });

    test('invoke answers the text with its token usage', async () => {
      const upstream = four.fakes[provider].requests.length;
      const answer = await chat().invoke('Hello');
      expect(answer.text).not.toBe('');
      expect(answer.usage_metadata?.input_tokens).toBeGreaterThan(0);
      expect(answer.usage_metadata?.output_tokens).toBeGreaterThan(0);
      expect(answer.response_metadata).toMatchObject({ object: 'response', status: 'completed' });
      expect(four.fakes[provider].requests.length).toBe(upstream + 1);
    });

    test('stream delivers the text in pieces, in order, and the token usage', async () => {
      four.fakes[provider].setBehaviour({ streamChunks: 3 });
      const pieces: string[] = [];
      let outputTokens = 0;
      for await (const chunk of await chat().stream('Count')) {
        pieces.push(chunk.text);
        outputTokens += chunk.usage_metadata?.output_tokens ?? 0;
      }
      expect(pieces.filter((p) => p !== '')).toEqual(['tok0 ', 'tok1 ', 'tok2 ']);
      expect(outputTokens).toBeGreaterThan(0);
    });

    test("a stream the caller aborts after its first text is cut at the provider's end too", async () => {
      const fake = four.fakes[provider];
      fake.setBehaviour({ streamChunks: 50, chunkDelayMs: 50 });
      const abortedBefore = fake.aborted;
      const controller = new AbortController();
      const pieces: string[] = [];
      const reading = (async () => {
        for await (const chunk of await chat().stream('Talk at length', { signal: controller.signal })) {
          if (chunk.text !== '') pieces.push(chunk.text);
          if (pieces.length === 1) controller.abort();
        }
      })();
      await expect(reading).rejects.toThrow();
      expect(pieces.length).toBeGreaterThan(0);
      expect(pieces.length).toBeLessThan(50);
      await eventually(`the ${provider} request aborted`, () => fake.aborted > abortedBefore);
    });

    test('a conversation continues with the earlier AIMessage sent back', async () => {
      const model = chat();
      const first = await model.invoke([
        ['system', 'Be brief.'],
        ['human', 'Hello'],
      ]);
      const upstream = four.fakes[provider].requests.length;
      const second = await model.invoke([['system', 'Be brief.'], ['human', 'Hello'], first, ['human', 'And again']]);
      expect(second.text).not.toBe('');
      expect(four.fakes[provider].requests.length).toBe(upstream + 1);
    });

    test('a tool call comes back as a LangChain tool call, and its result is answered', async () => {
      const withTools = chat().bindTools([weather]);
      const first = await withTools.invoke('Weather in Paris?');
      const call = first.tool_calls?.[0];
      expect(call?.name).toBe('get_weather');
      expect(call?.id).toEqual(expect.any(String));
      const second = await withTools.invoke([['human', 'Weather in Paris?'], first, { role: 'tool', content: 'Fog, 9 degrees', tool_call_id: call?.id ?? '' }]);
      expect(second.text).toContain('Fog, 9 degrees');
    });

    test('a streamed tool call gathers into one tool call, and its result is answered', async () => {
      const withTools = chat().bindTools([weather]);
      let gathered: Awaited<ReturnType<typeof withTools.invoke>> | undefined;
      for await (const chunk of await withTools.stream('Weather in Paris?')) gathered = gathered === undefined ? chunk : gathered.concat(chunk);
      const call = gathered?.tool_calls?.[0];
      expect(call?.name).toBe('get_weather');
      expect(call?.args).toEqual(expect.any(Object));
      if (!gathered) throw new Error('no chunks');
      let answer = '';
      for await (const chunk of await withTools.stream([
        ['human', 'Weather in Paris?'],
        gathered,
        { role: 'tool', content: 'Rain, 11 degrees', tool_call_id: call?.id ?? '' },
      ]))
        answer += chunk.text;
      expect(answer).toContain('Rain, 11 degrees');
    });
  });
});
