// item_reference input items with the official `openai` package as the client, over real sockets:
// an earlier answer's message or function call, referred to by its item id, reaches the provider
// as that answer's assistant turn, on every provider; another tenant's item, one the gateway never
// answered and an expired one are 400s naming the item.
import OpenAI from 'openai';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import type { FakeUpstream } from '../fakes/fixtures';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { PROVIDER_MODELS, startFourProviders, type FourProviders } from '../helpers/four-providers';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import { apiError, weatherTool } from '../helpers/responses-client';

const reference = (id: string): ResponseInputItem => ({ type: 'item_reference', id });

/** A message's text as any of the four providers received it: a string, or the text of its content blocks. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block: { text?: unknown }) => (typeof block.text === 'string' ? block.text : '')).join('');
}

/**
 * The role and text of each message the provider was last sent: its chat messages, or the message
 * items of a Responses request (OpenAI is served natively).
 */
function sentMessages(fake: FakeUpstream): Array<[string, string]> {
  const sent = fake.requests.at(-1)?.json as { messages?: Array<{ role: string; content: unknown }>; input?: Array<{ role: string; content: unknown }> };
  return (sent.messages ?? sent.input ?? []).map((m) => [m.role, textOf(m.content)]);
}

describe('item references to stored responses', () => {
  let four: FourProviders;
  let client: OpenAI;

  beforeAll(async () => {
    four = await startFourProviders();
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: four.gw.baseURL, maxRetries: 0 });
  });
  afterAll(() => four.close());
  afterEach(() => four.reset());

  describe.each(PROVIDER_MODELS)('→ $provider', ({ provider, model }) => {
    test("a reference to an earlier answer's message sends that answer as the assistant turn", async () => {
      const first = await client.responses.create({ model, input: 'My name is Ada.' });
      const message = first.output.find((item) => item.type === 'message');
      if (!message) throw new Error('no message item');
      const second = await client.responses.create({
        model,
        input: [{ role: 'user', content: 'My name is Ada.' }, reference(message.id), { role: 'user', content: 'What is my name?' }],
      });
      expect(second.status).toBe('completed');
      expect(sentMessages(four.fakes[provider])).toEqual([
        ['user', 'My name is Ada.'],
        ['assistant', first.output_text],
        ['user', 'What is my name?'],
      ]);
    });

    test("a reference to an earlier answer's function call completes the round trip with its output", async () => {
      const first = await client.responses.create({ model, input: 'Weather in Paris?', tools: [weatherTool] });
      const call = first.output.find((item) => item.type === 'function_call');
      if (call?.type !== 'function_call' || !call.id) throw new Error('no function call with an id');
      const second = await client.responses.create({
        model,
        input: [
          { role: 'user', content: 'Weather in Paris?' },
          reference(call.id),
          { type: 'function_call_output', call_id: call.call_id, output: 'Drizzle, 14 degrees' },
        ],
        tools: [weatherTool],
      });
      expect(second.status).toBe('completed');
      expect(second.output_text).toContain('Drizzle, 14 degrees');
      // The provider was sent the call itself: its arguments are in no other part of the request.
      const argumentValues = Object.values(JSON.parse(call.arguments) as Record<string, unknown>).map(String);
      expect(argumentValues.length).toBeGreaterThan(0);
      const sent = JSON.stringify(four.fakes[provider].requests.at(-1)?.json);
      for (const value of argumentValues) expect(sent).toContain(value);
    });
  });

  test('a reference may leave out its type (an item with only an id), as OpenAI allows', async () => {
    const first = await client.responses.create({ model: PROVIDER_MODELS[1]!.model, input: 'My name is Ada.' });
    const message = first.output.find((item) => item.type === 'message');
    if (!message) throw new Error('no message item');
    const untyped = { id: message.id } as unknown as ResponseInputItem;
    const second = await client.responses.create({
      model: PROVIDER_MODELS[1]!.model,
      input: [{ role: 'user', content: 'My name is Ada.' }, untyped, { role: 'user', content: 'What is my name?' }],
    });
    expect(second.status).toBe('completed');
    expect(sentMessages(four.fakes.anthropic)).toEqual([
      ['user', 'My name is Ada.'],
      ['assistant', first.output_text],
      ['user', 'What is my name?'],
    ]);
  });

  test("a streamed answer's message can be referred to once the stream is done", async () => {
    const streamed = await client.responses.stream({ model: 'ollama/llama3.2', input: 'Stream and keep' }).finalResponse();
    const message = streamed.output.find((item) => item.type === 'message');
    if (!message) throw new Error('no message item');
    await client.responses.create({ model: 'ollama/llama3.2', input: [reference(message.id), { role: 'user', content: 'Go on.' }] });
    expect(sentMessages(four.fakes.ollama)).toEqual([
      ['assistant', streamed.output_text],
      ['user', 'Go on.'],
    ]);
  });

  test("another tenant's item, or one the gateway never answered, is a 400 naming it", async () => {
    four.gw.tenants.put('gw-tenant-b', { ...DEFAULT_TENANT, id: 'tenant-b', name: 'tenant-b' });
    const other = new OpenAI({ apiKey: 'gw-tenant-b', baseURL: four.gw.baseURL, maxRetries: 0 });
    const mine = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Mine only' });
    const id = mine.output[0]?.id ?? '';
    const sentBefore = four.fakes.anthropic.requests.length;
    for (const unknown of [id, 'msg_0123']) {
      const err = await apiError(other.responses.create({ model: 'anthropic/claude-haiku-4-5', input: [reference(unknown), { role: 'user', content: 'Hi' }] }));
      expect(err).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'input' });
      expect(err.message).toContain(`Item with id '${unknown}' not found.`);
    }
    expect(four.fakes.anthropic.requests).toHaveLength(sentBefore); // nothing was sent on
    // Its own tenant still can.
    const again = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: [reference(id), { role: 'user', content: 'Hi' }] });
    expect(again.status).toBe('completed');
  });
});

describe('item references to stored responses that expire', () => {
  let ollama: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let clock = Date.parse('2026-01-01T00:00:00Z');

  beforeAll(async () => {
    ollama = await startOllamaUpstream();
    gw = await startGateway({ OLLAMA_BASE_URL: ollama.url, RESPONSES_TTL: '60' }, { now: () => clock });
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await ollama.close();
  });

  test('an item resolves until its response expires (RESPONSES_TTL), then is a 400 naming it', async () => {
    const first = await client.responses.create({ model: 'ollama/llama3.2', input: 'Remember me' });
    const id = first.output[0]?.id ?? '';
    const followUp = { model: 'ollama/llama3.2', input: [reference(id), { role: 'user' as const, content: 'Still there?' }] };
    clock += 59_000;
    expect((await client.responses.create(followUp)).status).toBe('completed');
    clock += 2_000;
    const err = await apiError(client.responses.create(followUp));
    expect(err).toMatchObject({ status: 400, param: 'input' });
    expect(err.message).toContain(`Item with id '${id}' not found.`);
  });
});
