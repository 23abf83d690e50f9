// The four provider fakes (OpenAI, Anthropic, Bedrock, Ollama) behind one local gateway, for
// client-library suites that run the same checks against every provider.
import { startAnthropicUpstream } from '../fakes/anthropic-upstream';
import { fakeAwsEnv, startBedrockUpstream } from '../fakes/bedrock-upstream';
import type { FakeUpstream } from '../fakes/fixtures';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream } from '../fakes/openai-upstream';
import { startGateway, type StartOptions, type TestGateway } from './gateway';

export type ProviderName = 'openai' | 'anthropic' | 'bedrock' | 'ollama';

/** A `provider/model` name the gateway routes to each fake. */
export const PROVIDER_MODELS: ReadonlyArray<{ provider: ProviderName; model: string }> = [
  { provider: 'openai', model: 'openai/gpt-4o' },
  { provider: 'anthropic', model: 'anthropic/claude-haiku-4-5' },
  { provider: 'bedrock', model: 'bedrock/anthropic.claude-3-haiku-20240307-v1:0' },
  { provider: 'ollama', model: 'ollama/llama3.2' },
];

export interface FourProviders {
  fakes: Record<ProviderName, FakeUpstream>;
  gw: TestGateway;
  /** Clears every fake's behaviour. */
  reset(): void;
  /** Stops the gateway and the fakes, and restores the process environment. */
  close(): Promise<void>;
}

const AWS_PROFILE_VARIABLES = ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_BEARER_TOKEN_BEDROCK', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'];

/** `opts` go to the gateway as they are (a routing document, a clock, ...). */
export async function startFourProviders(opts: StartOptions = {}): Promise<FourProviders> {
  const [openai, anthropic, bedrock, ollama] = await Promise.all([
    startOpenAIUpstream(),
    startAnthropicUpstream(),
    startBedrockUpstream(),
    startOllamaUpstream(),
  ]);
  const fakes = { openai, anthropic, bedrock, ollama };
  // The AWS SDK reads its credentials and endpoint from the process environment.
  const saved = { ...process.env };
  for (const name of AWS_PROFILE_VARIABLES) delete process.env[name];
  const aws = fakeAwsEnv(bedrock.url);
  Object.assign(process.env, aws);
  const gw = await startGateway(
    {
      ...aws,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: anthropic.url,
      OLLAMA_BASE_URL: ollama.url,
    },
    opts,
  );
  return {
    fakes,
    gw,
    reset: () => {
      for (const fake of Object.values(fakes)) fake.setBehaviour(null);
    },
    close: async () => {
      await gw.close();
      await Promise.all(Object.values(fakes).map((f) => f.close().catch(() => undefined)));
      process.env = saved;
    },
  };
}
