// LangChain's ChatOpenAI with `useResponsesApi`, unmodified, pointed at the gateway: served by
// Ollama (the recorded-format fake) through the Responses API's translation.
import { ChatOpenAI } from '@langchain/openai';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import type { FakeUpstream } from '../fakes/fixtures';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

describe("LangChain's ChatOpenAI (Responses API) → gateway → Ollama", () => {
  let ollama: FakeUpstream;
  let gw: TestGateway;
  let model: ChatOpenAI;

  beforeAll(async () => {
    ollama = await startOllamaUpstream();
    gw = await startGateway({ OLLAMA_BASE_URL: ollama.url });
    model = new ChatOpenAI({ model: 'llama3.2', apiKey: DEFAULT_KEY, configuration: { baseURL: gw.baseURL }, useResponsesApi: true, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await ollama.close();
  });

  test('invoke answers the text with its token usage', async () => {
    const answer = await model.invoke('Hello');
    expect(typeof answer.content === 'string' ? answer.content : answer.text).not.toBe('');
    expect(answer.usage_metadata?.output_tokens).toBeGreaterThan(0);
    expect(ollama.requests.at(-1)?.json).toMatchObject({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }] });
  });

  test('stream delivers the text in pieces, in order', async () => {
    ollama.setBehaviour({ streamChunks: 3 });
    try {
      const pieces: string[] = [];
      for await (const chunk of await model.stream('Count')) pieces.push(chunk.text);
      expect(pieces.filter((p) => p !== '')).toEqual(['tok0 ', 'tok1 ', 'tok2 ']);
    } finally {
      ollama.setBehaviour(null);
    }
  });

  test('a tool call comes back as a LangChain tool call, and its result is answered', async () => {
    const weather = {
      type: 'function' as const,
      function: {
        name: 'get_weather',
        description: 'Get the weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    };
    const withTools = model.bindTools([weather]);
    const first = await withTools.invoke('Weather in Paris?');
    const call = first.tool_calls?.[0];
    expect(call?.name).toBe('get_weather');
    const second = await withTools.invoke([['human', 'Weather in Paris?'], first, { role: 'tool', content: 'Fog, 9 degrees', tool_call_id: call?.id ?? '' }]);
    expect(second.text).toContain('Fog, 9 degrees');
  });
});
