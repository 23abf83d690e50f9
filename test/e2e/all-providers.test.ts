// One unchanged OpenAI-SDK program against all four providers through one local gateway, wired
// purely by environment variables (as `npm start` would be), plus a route that outlives the
// death of its first provider.
import OpenAI from 'openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream';
import { fakeAwsEnv, startBedrockUpstream } from '../fakes/bedrock-upstream';
import type { FakeUpstream } from '../fakes/fixtures';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface XGateway {
  provider: string;
  attempts: Array<{ provider: string; status: number; error?: string }>;
}
const meta = (o: unknown): XGateway => (o as { x_gateway: XGateway }).x_gateway;

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** The program a service would run: a completion, a streamed answer, and a tool round trip. */
async function program(client: OpenAI, model: string): Promise<{ provider: string; text: string; streamed: string; toolAnswer: string }> {
  const completion = await client.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ],
  });
  const streamed = await client.chat.completions.stream({ model, messages: [{ role: 'user', content: 'Hello again' }] }).finalChatCompletion();
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
  const first = await client.chat.completions.create({ model, messages, tools: [weatherTool] });
  const call = first.choices[0]?.message.tool_calls?.[0];
  if (first.choices[0]?.finish_reason !== 'tool_calls' || !call || call.type !== 'function') throw new Error(`${model}: no tool call`);
  messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'Sunny' });
  const second = await client.chat.completions.create({ model, messages, tools: [weatherTool] });
  return {
    provider: meta(completion).provider,
    text: completion.choices[0]?.message.content ?? '',
    streamed: streamed.choices[0]?.message.content ?? '',
    toolAnswer: second.choices[0]?.message.content ?? '',
  };
}

describe('one OpenAI-SDK program, four providers', () => {
  let fakes: { openai: FakeUpstream; anthropic: FakeUpstream; bedrock: FakeUpstream; ollama: FakeUpstream };
  let gw: TestGateway;
  let client: OpenAI;
  const saved = { ...process.env };

  beforeAll(async () => {
    fakes = {
      openai: await startOpenAIUpstream(),
      anthropic: await startAnthropicUpstream(),
      bedrock: await startBedrockUpstream(),
      ollama: await startOllamaUpstream(),
    };
    // The AWS SDK reads its credentials and endpoint from the process environment.
    for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_BEARER_TOKEN_BEDROCK', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete process.env[k];
    const aws = fakeAwsEnv(fakes.bedrock.url);
    Object.assign(process.env, aws);
    gw = await startGateway(
      {
        ...aws,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fakes.openai.url,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fakes.anthropic.url,
        OLLAMA_BASE_URL: fakes.ollama.url,
      },
      {
        routing: {
          routes: {
            resilient: {
              targets: [
                { provider: 'anthropic', model: 'claude-haiku-4-5' },
                { provider: 'bedrock', model: 'anthropic.claude-3-haiku-20240307-v1:0' },
              ],
            },
          },
          circuit_breaker: { failure_threshold: 3, success_threshold: 1, open_seconds: 30 },
        },
      },
    );
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(Object.values(fakes).map((f) => f.close().catch(() => undefined)));
    process.env = saved;
  });

  test.each([
    ['openai/gpt-4o', 'openai'],
    ['anthropic/claude-haiku-4-5', 'anthropic'],
    ['bedrock/anthropic.claude-3-haiku-20240307-v1:0', 'bedrock'],
    ['ollama/llama3.2', 'ollama'],
  ])('%s: completion, stream helper and tool round trip', async (model, provider) => {
    const out = await program(client, model);
    expect(out.provider).toBe(provider);
    expect(out.text.length).toBeGreaterThan(0);
    expect(out.streamed.length).toBeGreaterThan(0);
    expect(out.toolAnswer).toContain('Sunny');
  });

  test('/health lists all four providers as configured and reachable', async () => {
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { providers: Record<string, string> };
    expect(health.providers).toEqual({ openai: 'ok', anthropic: 'ok', bedrock: 'ok', ollama: 'ok' });
  });

  test('killing the first provider of a route: the next answers, attempts say why, then the breaker opens', async () => {
    await fakes.anthropic.close(); // the process is gone: connections are refused
    const answer = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'Hello' }] });
    expect(meta(answer).provider).toBe('bedrock');
    expect(meta(answer).attempts[0]).toMatchObject({ provider: 'anthropic', status: 502, error: expect.stringContaining('Could not reach anthropic') });
    for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'Hello' }] });
    const skipped = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'Hello' }] });
    expect(meta(skipped).attempts[0]).toMatchObject({ provider: 'anthropic', error: 'circuit open' });
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { circuit_breakers: Record<string, string> };
    expect(health.circuit_breakers.anthropic).toBe('open');
  });
});
