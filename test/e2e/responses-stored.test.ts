// Stored responses of the Responses API with the official `openai` package as the client, over
// real sockets: `previous_response_id` continuing a conversation (across providers too),
// `responses.retrieve` / `responses.delete`, `store: false`, one tenant never reaching another's
// responses, and what a client sees while the response store (a real redis-server) is down (item
// references: responses-item-references.test.ts); then
// once on DynamoDB (an embedded dynalite), the store a deployed gateway uses.
import OpenAI from 'openai';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { readFixtureJson, type FakeUpstream } from '../fakes/fixtures';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { loadConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { startLocalGateway, type LocalGateway } from '../../functions/local/app';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';
import { eventually } from '../helpers/eventually';
import { startFourProviders, type FourProviders } from '../helpers/four-providers';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import { startRestartableRedis, type RestartableRedis } from '../helpers/store-processes';
import { apiError, weatherTool } from '../helpers/responses-client';

const MODELS = ['openai/gpt-4o', 'anthropic/claude-haiku-4-5', 'bedrock/anthropic.claude-3-haiku-20240307-v1:0', 'ollama/llama3.2'];

/** A message's text as a provider received it: a string, or the text of its content blocks. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block: { type?: string; text?: string }) => (block.type === 'text' ? (block.text ?? '') : '')).join('');
}

describe('stored responses, memory store', () => {
  let four: FourProviders;
  let fakes: FourProviders['fakes'];
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    four = await startFourProviders();
    ({ fakes, gw } = four);
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(() => four.close());
  afterEach(() => {
    for (const fake of Object.values(fakes)) fake.setBehaviour(null);
  });

  test.each(MODELS)('%s: a function call round trip continued with previous_response_id', async (model) => {
    const first = await client.responses.create({ model, input: 'Weather in Paris?', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error(`${model}: no function call`);
    const second = await client.responses.create({
      model,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'Drizzle, 14 degrees' }],
      tools: [weatherTool],
    });
    expect(second.status).toBe('completed');
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toContain('Drizzle, 14 degrees');
  });

  test("a continued conversation's budget estimate counts the kept history: the turn that would overrun is refused", async () => {
    // claude-haiku-4-5 input is 1 USD per million tokens: 100,000 characters ≈ 25,000 tokens ≈ 0.025 USD.
    gw.tenants.put('gw-small-budget', { ...DEFAULT_TENANT, id: 'small-budget', name: 'small-budget', budget_usd: 0.04 });
    const small = new OpenAI({ apiKey: 'gw-small-budget', baseURL: gw.baseURL, maxRetries: 0 });
    const long = 'word '.repeat(20_000);
    const ask = { model: 'anthropic/claude-haiku-4-5', max_output_tokens: 16 };
    const first = await small.responses.create({ ...ask, input: long });
    await gw.gateway.flush();
    // Alone, the second turn's own body (≈ 0.025 USD) would pass; with the history it continues it would not.
    const refused = await small.responses.create({ ...ask, previous_response_id: first.id, input: long }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
    const alone = await small.responses.create({ ...ask, input: long });
    expect(alone.status).toBe('completed');
  });

  test('a three-turn conversation moves from Anthropic to Ollama; Ollama receives the whole history, without earlier instructions', async () => {
    const first = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', instructions: 'Be brief.', input: 'My name is Ada.' });
    const second = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', previous_response_id: first.id, input: 'I live in Lyon.' });
    const sentToAnthropic = fakes.anthropic.requests.at(-1)?.json as { system?: unknown; messages: Array<{ role: string; content: unknown }> };
    expect(sentToAnthropic.system).toBeUndefined(); // instructions are not carried over
    expect(sentToAnthropic.messages.map((m) => [m.role, textOf(m.content)])).toEqual([
      ['user', 'My name is Ada.'],
      ['assistant', first.output_text],
      ['user', 'I live in Lyon.'],
    ]);

    const third = await client.responses.create({
      model: 'ollama/llama3.2',
      previous_response_id: second.id,
      instructions: 'Answer in French.',
      input: 'Where do I live?',
    });
    const sentToOllama = fakes.ollama.requests.at(-1)?.json as { messages: Array<{ role: string; content: unknown }> };
    expect(sentToOllama.messages.map((m) => [m.role, textOf(m.content)])).toEqual([
      ['system', 'Answer in French.'],
      ['user', 'My name is Ada.'],
      ['assistant', first.output_text],
      ['user', 'I live in Lyon.'],
      ['assistant', second.output_text],
      ['user', 'Where do I live?'],
    ]);
    expect(third).toMatchObject({ status: 'completed', previous_response_id: second.id, instructions: 'Answer in French.' });
    expect((third as unknown as { x_gateway: { provider: string } }).x_gateway.provider).toBe('ollama');
  });

  test('responses.retrieve returns what create returned, a cache hit included', async () => {
    const created = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Keep me', metadata: { ticket: 'T-7' } });
    expect(await client.responses.retrieve(created.id)).toEqual(created);
    const options = { headers: { 'x-cache-ttl': '60' } };
    await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Keep me cached' }, options);
    const hit = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Keep me cached' }, options);
    expect((hit as unknown as { x_gateway: { cache_hit: boolean } }).x_gateway.cache_hit).toBe(true);
    expect(await client.responses.retrieve(hit.id)).toEqual(hit);
  });

  test('a streamed response is retrievable once it completes, as its final event carried it', async () => {
    const stream = client.responses.stream({ model: 'ollama/llama3.2', input: 'Stream and keep' });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no response.completed event');
    const retrieved = await client.responses.retrieve(completed.response.id);
    expect(retrieved).toEqual({ ...completed.response, output_text: retrieved.output_text });
    expect(retrieved.output_text).toBe((await stream.finalResponse()).output_text);
  });

  test('an incomplete response (cut at max_output_tokens) is kept and can be continued', async () => {
    const message = readFixtureJson<Record<string, unknown>>('anthropic/messages-nonstream.response.json');
    fakes.anthropic.setBehaviour({ status: 200, body: JSON.stringify({ ...message, stop_reason: 'max_tokens' }), times: 1 });
    const cut = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Tell me everything', max_output_tokens: 16 });
    expect(cut.status).toBe('incomplete');
    expect(await client.responses.retrieve(cut.id)).toEqual(cut);
    const next = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', previous_response_id: cut.id, input: 'Go on.' });
    const sent = fakes.anthropic.requests.at(-1)?.json as { messages: Array<{ role: string; content: unknown }> };
    expect(sent.messages.map((m) => [m.role, textOf(m.content)])).toEqual([
      ['user', 'Tell me everything'],
      ['assistant', cut.output_text],
      ['user', 'Go on.'],
    ]);
    expect(next.status).toBe('completed');
  });

  test('a stream that fails midway is not kept', async () => {
    fakes.anthropic.setBehaviour({ streamChunks: 5, failAfterChunks: 4 });
    const stream = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Fail midway', stream: true });
    let failed: Response | undefined;
    for await (const event of stream) if (event.type === 'response.failed') failed = event.response;
    if (!failed) throw new Error('no response.failed event');
    await gw.gateway.flush();
    expect(await apiError(client.responses.retrieve(failed.id))).toMatchObject({ status: 404 });
  });

  test('a stream the client leaves is not kept', async () => {
    fakes.ollama.setBehaviour({ streamChunks: 50, chunkDelayMs: 20 });
    const stream = await client.responses.create({ model: 'ollama/llama3.2', input: 'Leave midway', stream: true });
    let id: string | undefined;
    for await (const event of stream) {
      if (event.type === 'response.created') id = event.response.id;
      if (event.type === 'response.output_text.delta') break; // the client leaves
    }
    if (!id) throw new Error('no response.created event');
    await eventually('the provider sees the client leave', () => fakes.ollama.aborted > 0);
    await gw.gateway.flush();
    expect(await apiError(client.responses.retrieve(id))).toMatchObject({ status: 404 });
  });

  test('responses.delete removes it: retrieve, delete again and previous_response_id then fail', async () => {
    const created = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Forget me' });
    await client.responses.delete(created.id);
    expect(await apiError(client.responses.retrieve(created.id))).toMatchObject({ status: 404, type: 'invalid_request_error' });
    expect(await apiError(client.responses.delete(created.id))).toMatchObject({ status: 404 });
    const continued = await apiError(client.responses.create({ model: 'anthropic/claude-haiku-4-5', previous_response_id: created.id, input: 'Hi' }));
    expect(continued).toMatchObject({ status: 400, param: 'previous_response_id', code: 'previous_response_not_found' });
    expect(continued.message).toContain(`Previous response with id '${created.id}' not found.`);
  });

  test('store: false keeps nothing: retrieve is 404 and previous_response_id to it is refused', async () => {
    const unstored = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Do not keep', store: false });
    expect(unstored).toMatchObject({ store: false });
    await gw.gateway.flush();
    expect(await apiError(client.responses.retrieve(unstored.id))).toMatchObject({ status: 404 });
    const continued = await apiError(client.responses.create({ model: 'anthropic/claude-haiku-4-5', previous_response_id: unstored.id, input: 'Hi' }));
    expect(continued).toMatchObject({ status: 400, param: 'previous_response_id', code: 'previous_response_not_found' });
  });

  test("tenant B can neither read, delete nor continue tenant A's response", async () => {
    gw.tenants.put('gw-tenant-b', { ...DEFAULT_TENANT, id: 'tenant-b', name: 'tenant-b' });
    const other = new OpenAI({ apiKey: 'gw-tenant-b', baseURL: gw.baseURL, maxRetries: 0 });
    const mine = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Mine only' });
    expect(await apiError(other.responses.retrieve(mine.id))).toMatchObject({ status: 404 });
    expect(await apiError(other.responses.delete(mine.id))).toMatchObject({ status: 404 });
    const continued = await apiError(other.responses.create({ model: 'anthropic/claude-haiku-4-5', previous_response_id: mine.id, input: 'Hi' }));
    expect(continued).toMatchObject({ status: 400, code: 'previous_response_not_found' });
    expect(await client.responses.retrieve(mine.id)).toEqual(mine);
  });

  test('GET and DELETE need a valid key; a deeper path and other methods are not served', async () => {
    const created = await client.responses.create({ model: 'anthropic/claude-haiku-4-5', input: 'Hi' });
    const call = (method: string, path: string, key?: string) =>
      fetch(`${gw.baseURL}/responses/${path}`, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });
    expect((await call('GET', created.id)).status).toBe(401);
    expect((await call('DELETE', created.id, 'gw-wrong')).status).toBe(401);
    expect((await call('GET', `${created.id}/input_items`, DEFAULT_KEY)).status).toBe(404);
    const put = await call('PUT', created.id, DEFAULT_KEY);
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, DELETE');
    expect((await call('GET', created.id, DEFAULT_KEY)).status).toBe(200);
  });
});

describe('stored responses while the response store (redis-server) is down', () => {
  let redis: RestartableRedis;
  let ollama: FakeUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    [redis, ollama] = await Promise.all([startRestartableRedis(), startOllamaUpstream()]);
    gw = await startGateway({ OLLAMA_BASE_URL: ollama.url, REDIS_URL: redis.url });
    // No budget: what is tested is the response store, not the budget ledger's outage handling.
    gw.tenants.put('gw-no-budget', { ...DEFAULT_TENANT, id: 'no-budget', name: 'no-budget', budget_usd: 0 });
    client = new OpenAI({ apiKey: 'gw-no-budget', baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await ollama?.close();
    await redis?.stop();
  });

  test('a response answered by one instance is read and continued on another sharing the store', async () => {
    const other = await startGateway({ OLLAMA_BASE_URL: ollama.url, REDIS_URL: redis.url });
    try {
      other.tenants.put('gw-no-budget', { ...DEFAULT_TENANT, id: 'no-budget', name: 'no-budget', budget_usd: 0 });
      const there = new OpenAI({ apiKey: 'gw-no-budget', baseURL: other.baseURL, maxRetries: 0 });
      const created = await client.responses.create({ model: 'ollama/llama3.2', input: 'Shared' });
      await gw.gateway.flush(); // as a Lambda does before it returns
      expect(await there.responses.retrieve(created.id)).toEqual(created);
      const next = await there.responses.create({ model: 'ollama/llama3.2', previous_response_id: created.id, input: 'Still there?' });
      expect(next.previous_response_id).toBe(created.id);
    } finally {
      await other.close();
    }
  });

  test('answers are still served; reading or continuing a stored response is 503 store_unavailable; all works again once it is back', async () => {
    const kept = await client.responses.create({ model: 'ollama/llama3.2', input: 'Before the outage' });
    expect(await client.responses.retrieve(kept.id)).toEqual(kept);

    await redis.kill();
    const during = await client.responses.create({ model: 'ollama/llama3.2', input: 'During the outage' });
    expect(during.status).toBe('completed');
    const streamed = await client.responses.stream({ model: 'ollama/llama3.2', input: 'Streamed during the outage' }).finalResponse();
    expect(streamed.status).toBe('completed');
    const continued = await apiError(client.responses.create({ model: 'ollama/llama3.2', previous_response_id: kept.id, input: 'And now?' }));
    expect(continued).toMatchObject({ status: 503, code: 'store_unavailable' });
    expect(continued.headers?.get('retry-after')).toBe('1');
    const referred = await apiError(
      client.responses.create({
        model: 'ollama/llama3.2',
        input: [
          { type: 'item_reference', id: kept.output[0]?.id ?? '' },
          { role: 'user', content: 'And now?' },
        ],
      }),
    );
    expect(referred).toMatchObject({ status: 503, code: 'store_unavailable' });
    expect(await apiError(client.responses.retrieve(kept.id))).toMatchObject({ status: 503, code: 'store_unavailable' });

    await redis.restart(); // without persistence: what was stored before is gone, as after a real loss
    await eventually('the store answers again', async () => {
      const res = await fetch(`${gw.baseURL}/responses/${kept.id}`, { headers: { authorization: 'Bearer gw-no-budget' } });
      return res.status === 404;
    });
    const after = await client.responses.create({ model: 'ollama/llama3.2', input: 'After the outage' });
    const next = await client.responses.create({ model: 'ollama/llama3.2', previous_response_id: after.id, input: 'Continue' });
    expect(next.previous_response_id).toBe(after.id);
  });
});

describe('stored responses on DynamoDB (dynalite)', () => {
  let dynalite: RunningDynalite;
  let ollama: FakeUpstream;
  let local: LocalGateway;
  let client: OpenAI;
  const saved = { ...process.env };

  beforeAll(async () => {
    [dynalite, ollama] = await Promise.all([startDynalite(), startOllamaUpstream()]);
    const prefix = uniqueTablePrefix('stored-responses');
    const env = {
      ADDR: '127.0.0.1:0',
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      TENANTS_TABLE: `${prefix}tenants`,
      STATE_TABLE: `${prefix}state`,
      OLLAMA_BASE_URL: ollama.url,
      // What is stored is tested here, not deadlines: a loaded test machine must not time a call out.
      STORE_TIMEOUT: '5000',
    };
    local = await startLocalGateway(
      loadConfig(env, () => '', 'test'),
      silentLogger,
    );
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: `${local.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await local?.close(500);
    await ollama?.close();
    await dynalite?.close();
    process.env = saved;
  });

  test('kept, retrieved, continued and deleted', async () => {
    const first = await client.responses.create({ model: 'ollama/llama3.2', instructions: 'Be brief.', input: 'My name is Ada.' });
    expect(await client.responses.retrieve(first.id)).toEqual(first);
    const streamed = await client.responses.stream({ model: 'ollama/llama3.2', previous_response_id: first.id, input: 'And yours?' }).finalResponse();
    const sent = ollama.requests.at(-1)?.json as { messages: Array<{ role: string; content: unknown }> };
    expect(sent.messages.map((m) => [m.role, textOf(m.content)])).toEqual([
      ['user', 'My name is Ada.'],
      ['assistant', first.output_text],
      ['user', 'And yours?'],
    ]);
    expect(await client.responses.retrieve(streamed.id)).toMatchObject({ id: streamed.id, previous_response_id: first.id, output_text: streamed.output_text });
    await client.responses.delete(first.id);
    expect(await apiError(client.responses.retrieve(first.id))).toMatchObject({ status: 404 });
    // The conversation lives on in the responses that continued it.
    const third = await client.responses.create({ model: 'ollama/llama3.2', previous_response_id: streamed.id, input: 'Thanks.' });
    expect(third.previous_response_id).toBe(streamed.id);
    const continued = ollama.requests.at(-1)?.json as { messages: unknown[] } | undefined;
    expect(continued?.messages).toHaveLength(5);
  });
});
