// functions/core/providers — the upstream providers, one module or folder each (openai.ts, anthropic/,
// ollama/), each translating the canonical model to its upstream and back, and what they share: the
// pooled upstream HTTP client, stream framing, deadlines, upstream error mapping. This file is the
// Provider port the pipelines call. A provider that needs the AWS SDK lives in adapters/bedrock/.
import type { CancelSignal } from '../cancel';
import type { ChatCompletionRequest, StreamResult, SyncResult, Usage } from '../chat/model';
import type { EmbeddingsRequest, EmbeddingsResponse, ModelObject } from '../openai-types';

/** What a provider call knows besides the request itself. */
export interface CallContext {
  /** Cancelled when the client goes away. */
  signal: CancelSignal;
  requestId: string;
  /** Milliseconds to wait for the upstream's response head, and for each body chunk after it. */
  timeoutMs: number;
  /**
   * The client's request bytes, present only when they still describe this call exactly (same
   * model, and the client spoke the canonical format), so an OpenAI-speaking upstream can be
   * sent them without re-encoding.
   */
  rawBody?: Buffer;
  /** Cap on a sync answer and on one stream event (MAX_RESPONSE_BYTES); the framing default when absent. */
  maxResponseBytes?: number;
  /**
   * The W3C `traceparent` of this attempt's CLIENT span, when telemetry is on: HTTP upstreams are
   * sent it (upstream-http.ts), Bedrock through a middleware on its SDK command; X-Ray's own
   * `X-Amzn-Trace-Id` is left to the SDK.
   */
  traceparent?: string;
  /** The W3C `tracestate` the client sent, forwarded with `traceparent`. */
  tracestate?: string;
}

export interface EmbeddingsResult {
  response: EmbeddingsResponse;
  /** The exact OpenAI-shaped JSON bytes when the provider already speaks OpenAI's format. */
  raw?: string;
}

/**
 * A client API that an upstream may speak itself, so a request in it is forwarded there as the
 * client wrote it rather than translated through the canonical model.
 */
export type NativeApi = 'openai-responses' | 'anthropic-messages';

/** One request forwarded natively: what goes upstream besides the provider's own credentials. */
export interface NativeCall {
  /** The request body, sent as it is. */
  body: Buffer;
  /** The model the body asks for (the target's), for traces: the body is not parsed for it. */
  model: string;
  /** Request headers the ingress passes on (lower-case names), e.g. `anthropic-beta`. */
  headers: Readonly<Record<string, string>>;
}

/**
 * An answer forwarded natively: the upstream's JSON bytes unchanged, and its usage in the
 * canonical shape for accounting.
 */
export interface NativeSync {
  kind: 'json';
  raw: string;
  /** Absent when the upstream reported none. */
  usage?: Usage;
}

/** One event of a forwarded stream, as the upstream sent it. */
export interface NativeStreamEvent {
  /** The event's `type`, which is also its SSE `event:` name (e.g. `response.output_text.delta`, `message_delta`). */
  type: string;
  /** The event's JSON, unchanged. */
  data: string;
  /** Present on the event that settles the answer (Responses: its terminal event; Messages: `message_delta`) when usage is known. */
  usage?: Usage;
}

/** A forwarded stream: events as they arrive, ending after the upstream's own last event. */
export interface NativeStream {
  kind: 'stream';
  events: AsyncIterable<NativeStreamEvent>;
}

export type ProviderHealth = 'ok' | 'unconfigured' | 'unreachable' | 'error';

/**
 * One upstream provider. A module implementing it holds both directions of its translation:
 * canonical chat request (chat/model.ts) → provider request, provider response → canonical response.
 */
export interface Provider {
  readonly name: string;
  /** True when credentials or a base URL are present, so the provider may be routed to. */
  readonly configured: boolean;
  /** Resolves once the upstream answered 2xx; before that every failure throws a GatewayError. */
  chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult>;
  /** Present on providers that embed; resolves once the upstream answered 2xx. */
  embed?(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult>;
  /** True when this provider's upstream speaks `api` itself (`forward` then serves it). Absent: none. */
  forwards?(api: NativeApi): boolean;
  /**
   * Forwards a request of a client API the upstream speaks (`forwards(api)`): the body as given,
   * the answer's bytes back unchanged. Whether it is a stream is the upstream's to say. Resolves
   * once the upstream answered 2xx (and, for a stream, sent its first event); before that every
   * failure throws a GatewayError, mapped as for `chat`.
   */
  forward?(api: NativeApi, call: NativeCall, ctx: CallContext): Promise<NativeSync | NativeStream>;
  /**
   * Present on providers that count a request of `api` themselves (Anthropic's count_tokens): the
   * input tokens `call.body` would cost. Throws a GatewayError as `forward` does.
   */
  countInputTokens?(api: NativeApi, call: NativeCall, ctx: CallContext): Promise<number>;
  listModels(): Promise<ModelObject[]>;
  /** A cheap probe with its own short timeout. */
  health(): Promise<ProviderHealth>;
}

/** True when `provider` forwards requests of `api` natively. */
export const forwardsNatively = (provider: Provider | undefined, api: NativeApi): boolean =>
  provider?.forward !== undefined && provider.forwards?.(api) === true;
