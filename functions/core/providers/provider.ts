import type { CancelSignal } from '../cancel';
import type { ChatCompletion, ChatCompletionRequest, EmbeddingsRequest, EmbeddingsResponse, ModelObject, Usage } from '../openai-types';

/** What a provider call knows besides the request itself. */
export interface CallContext {
  /** Cancelled when the client goes away. */
  signal: CancelSignal;
  requestId: string;
  /** Milliseconds to wait for the upstream's response head, and for each body chunk after it. */
  timeoutMs: number;
  /**
   * The client's request bytes, present only when they still describe this call exactly (same
   * model), so an OpenAI-speaking upstream can be sent them without re-encoding.
   */
  rawBody?: Buffer;
  /** Cap on a sync answer and on one stream event (MAX_RESPONSE_BYTES); the framing default when absent. */
  maxResponseBytes?: number;
}

export interface SyncResult {
  kind: 'json';
  completion: ChatCompletion;
  /**
   * The exact OpenAI-shaped JSON bytes, when the provider already speaks OpenAI's wire format;
   * the gateway then splices its metadata into them instead of re-encoding the whole object.
   */
  raw?: string;
}

/** One OpenAI `chat.completion.chunk`, already serialised, plus what the gateway must know of it. */
export interface StreamChunk {
  /** The chunk's JSON text, written to the client as `data: <json>\n\n`. */
  json: string;
  /** Set on the chunk that carries final token usage. */
  usage?: Usage;
  /** True for the usage-only chunk (`choices: []`) that the client gets only if it asked. */
  usageOnly?: boolean;
}

export interface StreamResult {
  kind: 'stream';
  /** Upstream model name as reported in the first chunk (or the requested one). */
  model: string;
  id: string;
  created: number;
  /** Chunks as they arrive; throws a GatewayError if the upstream fails mid-stream. */
  chunks: AsyncIterable<StreamChunk>;
}

export interface EmbeddingsResult {
  response: EmbeddingsResponse;
  /** The exact OpenAI-shaped JSON bytes when the provider already speaks OpenAI's format. */
  raw?: string;
}

export type ProviderHealth = 'ok' | 'unconfigured' | 'unreachable' | 'error';

/**
 * One upstream provider. A module implementing it holds both directions of its translation:
 * OpenAI request → provider request, provider response → OpenAI response.
 */
export interface Provider {
  readonly name: string;
  /** True when credentials or a base URL are present, so the provider may be routed to. */
  readonly configured: boolean;
  /** Resolves once the upstream answered 2xx; before that every failure throws a GatewayError. */
  chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult>;
  /** Present on providers that embed; resolves once the upstream answered 2xx. */
  embed?(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult>;
  listModels(): Promise<ModelObject[]>;
  /** A cheap probe with its own short timeout. */
  health(): Promise<ProviderHealth>;
}
