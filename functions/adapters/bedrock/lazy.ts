// Bedrock's module pulls in the AWS SDK (~500 KB, ~60 ms to import); most local runs never use
// it. This stand-in is cheap to create and loads the real provider on first use.
import type { ChatCompletionRequest, StreamResult, SyncResult } from '../../core/chat/model';
import type { EmbeddingsRequest, ModelObject } from '../../core/openai-types';
import type { PriceBook } from '../../core/pricing/pricing';
import type { CallContext, EmbeddingsResult, Provider, ProviderHealth } from '../../core/providers/provider';

export class LazyBedrockProvider implements Provider {
  readonly name: string;
  readonly configured: boolean;
  private loaded: Promise<Provider> | undefined;

  /** `name`: `bedrock`, or a named region's (`bedrock-west`). */
  constructor(private readonly opts: { name?: string; region?: string; prices: PriceBook }) {
    this.name = opts.name ?? 'bedrock';
    this.configured = opts.region !== undefined;
  }

  private provider(): Promise<Provider> {
    this.loaded ??= import('./provider').then(({ BedrockProvider }) => new BedrockProvider(this.opts));
    return this.loaded;
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    return (await this.provider()).chat(request, ctx);
  }

  async embed(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult> {
    const provider = await this.provider();
    if (!provider.embed) throw new Error('the Bedrock provider lost its embed method');
    return provider.embed(request, ctx);
  }

  async listModels(): Promise<ModelObject[]> {
    // The catalog needs no SDK: answer without loading it.
    return this.opts.prices.modelsOf(this.name).map(([id]) => ({ id, object: 'model', created: 0, owned_by: this.name }));
  }

  async health(): Promise<ProviderHealth> {
    if (!this.configured) return 'unconfigured';
    return (await this.provider()).health();
  }
}
