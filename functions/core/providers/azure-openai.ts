// Azure OpenAI: OpenAI's wire format (bodies, streams, tools, errors) behind Azure's deployment
// URLs. Per Azure OpenAI's data-plane inference REST reference (learn.microsoft.com, "Azure OpenAI
// in Azure AI Foundry Models REST API reference", API version 2024-10-21), a call goes to
// `{endpoint}/openai/deployments/{deployment-id}/chat/completions?api-version={version}` (and
// `/embeddings`), authenticated by the `api-key` header; the deployment stands for the model, so
// the request's model names the deployment. The Responses API is not forwarded here: Azure serves
// it on other paths and versions, so Responses requests are translated to chat completions.
import type { ChatCompletionRequest, StreamResult, SyncResult } from '../chat/model';
import type { EmbeddingsRequest, ModelObject } from '../openai-types';
import type { PriceBook } from '../pricing/pricing';
import { OpenAIProvider, type OpenAIEndpoint } from './openai';
import type { CallContext, EmbeddingsResult, Provider, ProviderHealth } from './provider';

export interface AzureOpenAIOptions {
  name: string;
  /** `https://<resource>.openai.azure.com`, without a trailing slash. */
  endpoint: string;
  apiVersion: string;
  apiKey?: string;
  prices: PriceBook;
}

/** Azure's URLs for one resource and API version; a deployment name is a path segment, so it is encoded. */
export function azureEndpoint(endpoint: string, apiVersion: string, apiKey: string | undefined): OpenAIEndpoint {
  const version = `api-version=${encodeURIComponent(apiVersion)}`;
  const deployment = (model: string): string => `${endpoint}/openai/deployments/${encodeURIComponent(model)}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey) headers['api-key'] = apiKey;
  return {
    chatUrl: (model) => `${deployment(model)}/chat/completions?${version}`,
    embeddingsUrl: (model) => `${deployment(model)}/embeddings?${version}`,
    probeUrl: `${endpoint}/openai/models?${version}`,
    headers,
  };
}

export class AzureOpenAIProvider implements Provider {
  readonly name: string;
  readonly configured: boolean;
  private readonly wire: OpenAIProvider;

  constructor(opts: AzureOpenAIOptions) {
    this.name = opts.name;
    this.configured = opts.apiKey !== undefined;
    this.wire = new OpenAIProvider({
      name: opts.name,
      apiKey: opts.apiKey,
      baseUrl: opts.endpoint,
      explicitBaseUrl: true,
      prices: opts.prices,
      endpoint: azureEndpoint(opts.endpoint, opts.apiVersion, opts.apiKey),
    });
  }

  chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    return this.wire.chat(request, ctx);
  }

  embed(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult> {
    return this.wire.embed(request, ctx);
  }

  /** Deployments are named by their owner, not by the catalog: the gateway lists the configured ones. */
  async listModels(): Promise<ModelObject[]> {
    return [];
  }

  health(): Promise<ProviderHealth> {
    return this.wire.health();
  }
}
