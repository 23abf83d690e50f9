// The four provider paths of the translation section: how the gateway is pointed at each fake,
// the model a gateway client names, the same request sent straight to the fake in the
// provider's own wire format (the "direct" path), and the gateway requests of both client APIs
// (chat completions, the Responses API) that wrk and the stream runs send.
import { fakeAwsEnv } from '../fakes/bedrock-upstream';
import type { PerProvider, ProviderName } from './provider-names';
import { sigV4Headers } from './sigv4';
import { anthropicSse, bedrockEventStream, ollamaNdjson, openAiSse, responsesSse, type StreamFormat } from './wire-formats';

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

/** The client APIs the gateway serves that the section measures. */
export type ClientApi = 'chat' | 'responses' | 'messages';

/** The gateway's answer format per client API (whatever the provider). */
export const GATEWAY_FORMAT: Record<ClientApi, StreamFormat> = { chat: openAiSse, responses: responsesSse, messages: anthropicSse };

/** The gateway's path per client API. */
const GATEWAY_PATH: Record<ClientApi, string> = { chat: 'chat/completions', responses: 'responses', messages: 'messages' };

/** The same question in each client API: chat messages, a Responses API string input, or an Anthropic Messages request. */
function gatewayBody(api: ClientApi, model: string, stream: boolean): string {
  if (api === 'chat') return json({ model, messages: [{ role: 'user', content: PROMPT }], ...streamFlag(stream) });
  if (api === 'messages') return json({ model, max_tokens: 256, messages: [{ role: 'user', content: PROMPT }], ...streamFlag(stream) });
  // store: false keeps the rows comparable with chat, which stores nothing.
  return json({ model, input: PROMPT, store: false, ...streamFlag(stream) });
}

/** The gateway request for a provider in one client API. */
export function gatewayCall(baseUrl: string, auth: string, spec: ProviderSpec, api: ClientApi, stream: boolean): HttpCall {
  return {
    url: `${baseUrl}/v1/${GATEWAY_PATH[api]}`,
    headers: { authorization: auth },
    body: gatewayBody(api, spec.gatewayModel, stream),
  };
}

/** OpenAI's own Responses API, straight to the fake: the direct path once the gateway forwards natively. */
export const OPENAI_RESPONSES_PATH = '/v1/responses';
export function openAiResponsesDirect(fakeUrl: string, stream: boolean): HttpCall {
  // The OpenAI fake's URL ends in /v1.
  return { url: `${fakeUrl}/responses`, headers: { authorization: 'Bearer sk-test' }, body: gatewayBody('responses', 'gpt-4o-mini', stream) };
}

/** The text of a synthetic n-chunk stream, as every fake sends it ("tok0 tok1 ... "). */
export function streamText(chunks: number): string {
  return Array.from({ length: chunks }, (_, i) => `tok${i} `).join('');
}
