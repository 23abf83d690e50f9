// The four provider paths of the translation section: how the gateway is pointed at each fake,
// the model a gateway client names, and the same request sent straight to the fake in the
// provider's own wire format (the "direct" path).
import { fakeAwsEnv } from '../fakes/bedrock-upstream';
import type { PerProvider, ProviderName } from './provider-names';
import { sigV4Headers } from './sigv4';
import { anthropicSse, bedrockEventStream, ollamaNdjson, openAiSse, type StreamFormat } from './wire-formats';

export interface HttpCall {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface ProviderSpec {
  provider: ProviderName;
  /** The model as a gateway client names it. */
  gatewayModel: string;
  /** Gateway environment pointing this provider (only) at its fake. */
  gatewayEnv(fakeUrl: string): Record<string, string>;
  /** The equivalent request straight to the fake; async because Bedrock's must be signed. */
  direct(fakeUrl: string, stream: boolean): Promise<HttpCall>;
  /** Wire format of the direct stream (the gateway always streams OpenAI SSE). */
  directFormat: StreamFormat;
}

const PROMPT = 'Say hi';
const json = (o: unknown): string => JSON.stringify(o);
const streamFlag = (stream: boolean): { stream?: true } => (stream ? { stream: true } : {});

export const SPECS: PerProvider<ProviderSpec> = {
  openai: {
    provider: 'openai',
    gatewayModel: 'openai/gpt-4o-mini',
    gatewayEnv: (url) => ({ OPENAI_BASE_URL: url, OPENAI_API_KEY: 'sk-test' }),
    direct: async (url, stream) => ({
      url: `${url}/chat/completions`,
      headers: { authorization: 'Bearer sk-test' },
      body: json({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], ...streamFlag(stream) }),
    }),
    directFormat: openAiSse,
  },
  anthropic: {
    provider: 'anthropic',
    gatewayModel: 'anthropic/claude-haiku-4-5',
    gatewayEnv: (url) => ({ ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: 'sk-ant-test' }),
    direct: async (url, stream) => ({
      url: `${url}/v1/messages`,
      headers: { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' },
      body: json({ model: 'claude-haiku-4-5', max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }], ...streamFlag(stream) }),
    }),
    directFormat: anthropicSse,
  },
  bedrock: {
    provider: 'bedrock',
    gatewayModel: 'bedrock/anthropic.claude-3-haiku-20240307-v1:0',
    gatewayEnv: (url) => fakeAwsEnv(url),
    direct: async (url, stream) => {
      // The model id is percent-encoded in the path, as the AWS SDK sends it.
      const u = new URL(`${url}/model/${encodeURIComponent('anthropic.claude-3-haiku-20240307-v1:0')}/${stream ? 'converse-stream' : 'converse'}`);
      const body = json({ messages: [{ role: 'user', content: [{ text: PROMPT }] }] });
      return { url: u.href, headers: await sigV4Headers(u, body), body };
    },
    directFormat: bedrockEventStream,
  },
  ollama: {
    provider: 'ollama',
    gatewayModel: 'ollama/llama3.2',
    gatewayEnv: (url) => ({ OLLAMA_BASE_URL: url }),
    // Ollama streams unless told not to.
    direct: async (url, stream) => ({
      url: `${url}/api/chat`,
      headers: {},
      body: json({ model: 'llama3.2', messages: [{ role: 'user', content: PROMPT }], stream }),
    }),
    directFormat: ollamaNdjson,
  },
};

/** The gateway request for a provider (OpenAI chat completions, whatever the provider). */
export function gatewayCall(baseUrl: string, auth: string, spec: ProviderSpec, stream: boolean): HttpCall {
  return {
    url: `${baseUrl}/v1/chat/completions`,
    headers: { authorization: auth },
    body: json({ model: spec.gatewayModel, messages: [{ role: 'user', content: PROMPT }], ...streamFlag(stream) }),
  };
}
