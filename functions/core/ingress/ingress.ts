// functions/core/ingress — client chat APIs as ingress adapters over the canonical model, one folder
// each (openai-chat/, openai-responses/, anthropic-messages/): route, key source, request
// validation and translation, answer and stream rendering, error shape. A new client API is one
// folder here and touches no provider and no pipeline step.
//
// An ingress adapter: everything about one client chat API that differs from another (its route,
// its request and answer formats, its stream framing, its error shape, where its clients send the
// key). The chat pipeline (auth, limits, budget, cache, routing, breaker, fallback, accounting)
// works on the canonical model (chat/model.ts) only and asks the adapter for every wire detail.
import type { ApiKeySource } from '../tenant-auth';
import type { ChatCompletion, ChatCompletionRequest, StreamChunk, Usage } from '../chat/model';
import type { GatewayError } from '../errors';
import type { Tenant } from '../ports';
import type { NativeApi, NativeStreamEvent } from '../providers/provider';
import type { ApiRequest } from '../api-types';

/** The gateway's facts about one answer (provider, cost, latency, attempts), from `gatewayMetadata`. */
export type GatewayMetadata = Record<string, unknown>;

/**
 * The client's request body as parsed, after `readRequest` accepted it: an API whose answers echo
 * request fields the canonical request does not keep reads them here.
 */
export type WireRequest = Readonly<Record<string, unknown>>;

/** What every event of one streamed answer shares. */
export interface StreamHead {
  id: string;
  created: number;
  model: string;
}

/**
 * Writes one streamed answer in a client API's framing. One per stream, so it may keep state
 * between events (which content block is open, how many events were sent).
 */
export interface StreamWriter {
  /** The wire text for one canonical chunk, or '' when this client is not to see it. */
  chunk(chunk: StreamChunk): string;
  /**
   * The text that ends a stream that finished: the gateway's metadata and the API's end marker.
   * `usage` is the provider's final token usage, when it sent one.
   */
  end(usage: Usage | undefined, metadata: GatewayMetadata): string;
  /** The event that ends a stream which failed after its first byte (no status code can change then). */
  error(err: GatewayError): string;
}

export interface ChatIngress {
  /** The route this API is served on, e.g. POST /v1/chat/completions. */
  readonly method: string;
  readonly path: string;
  /**
   * True when this API's request bytes are a canonical request, so an upstream that speaks the
   * canonical format may be sent them as they came (only OpenAI chat completions).
   */
  readonly passThrough: boolean;
  /** Headers of a whole (non-streamed) answer, and of a streamed one. */
  readonly jsonHeaders: Readonly<Record<string, string>>;
  readonly streamHeaders: Readonly<Record<string, string>>;
  /** Where this API's clients send the tenant's key (`Authorization: Bearer`, `x-api-key`, ...). */
  readonly apiKey: ApiKeySource;
  /**
   * The canonical request from the parsed JSON body. Throws a 400 GatewayError naming the field
   * at fault; `errorBody` shapes it. A property, not a method: the pipeline passes it on unbound.
   */
  readonly readRequest: (body: Record<string, unknown>) => ChatCompletionRequest;
  /**
   * A whole answer's body. `canonicalJson`, when present, is `completion` serialised in the
   * canonical format exactly as the provider (or the cache) had it: an API that speaks that
   * format answers with those bytes rather than re-encoding `completion`. `wire` is the request
   * it answers.
   */
  renderCompletion(completion: ChatCompletion, canonicalJson: string | undefined, metadata: GatewayMetadata, wire: WireRequest): string;
  /** A writer for one streamed answer to `request` (`wire` as the client sent it). */
  openStream(request: ChatCompletionRequest, head: StreamHead, wire: WireRequest): StreamWriter;
  /** The JSON body of an error answer on this API's route. */
  errorBody(err: GatewayError): unknown;
  /**
   * The status of an error answer on this API's route, for an API whose clients expect another
   * than the gateway's (Anthropic's 529 where the gateway says 503). Absent: the error's own.
   */
  errorStatus?(err: GatewayError): number;
  /**
   * For an API that keeps its answers between requests (the Responses API's stored responses):
   * the request's own part, once its tenant is known and before anything is served. Throws a
   * GatewayError the client sees (an unknown conversation, a store that cannot answer). Absent
   * on an API without state, whose requests then do no more work.
   */
  readonly beginTurn?: (tenant: Tenant, request: ChatCompletionRequest, wire: WireRequest) => Promise<IngressTurn>;
  /**
   * For an API an upstream may speak itself (a provider whose `forwards(native.api)` is true):
   * how its requests are forwarded there and its answers passed back. Absent: every provider is
   * served through the canonical model.
   */
  readonly native?: NativeIngress;
}

/** An answer forwarded natively, read once its model is known, rendered once its cost is. */
export interface NativeFinal {
  /** The model that answered, as the upstream reports it (absent when it did not). */
  readonly model: string | undefined;
  /**
   * Why the answer stopped, in the API's own values (the attempt's span reports it); absent when
   * the API has no such field. Asked only when a span records it.
   */
  finishReasons?(): readonly string[] | undefined;
  /** The answer's wire text with the gateway's metadata in it. */
  render(metadata: GatewayMetadata): string;
}

/** Writes one natively forwarded stream back to the client. */
export interface NativeStreamWriter {
  /**
   * True for the event that settles the answer: it carries its usage, is rendered with the
   * gateway's metadata, and its cost is recorded. Events after it still pass through.
   */
  isFinal(event: NativeStreamEvent): boolean;
  /** True for an event carrying generated text, counted toward the estimate of a stream that ends without usage. */
  carriesText(event: NativeStreamEvent): boolean;
  /** The wire text of an event passed through as it came. */
  pass(event: NativeStreamEvent): string;
  /** The final event, to be rendered with the gateway's metadata. */
  final(event: NativeStreamEvent): NativeFinal;
  /** The event that ends a stream which failed after its first byte. */
  error(err: GatewayError): string;
}

/** Where a natively forwarded request goes: a provider and the model it is asked for there. */
export interface NativeTarget {
  readonly provider: string;
  readonly model: string;
}

export interface NativeIngress {
  /** The client API this is, which a provider's `forwards(api)` names. */
  readonly api: NativeApi;
  /**
   * Why a provider without the native path cannot serve this request (a built-in tool only the
   * native upstream runs, e.g. `web_search`): the 400 the client gets when no target can; undefined when it can.
   */
  translatedRefusal(wire: WireRequest): GatewayError | undefined;
  /**
   * The bytes to forward to `target`: the client's own when they still say exactly this
   * (`expanded` false: the gateway added no stored history), else `wire` re-encoded with the
   * target's model and the conversation of `request`.
   */
  requestBody(request: ChatCompletionRequest, wire: WireRequest, rawBody: Buffer, target: NativeTarget, expanded: boolean): Buffer;
  /** The client's request headers passed on to the upstream with the body (lower-case names). */
  forwardedHeaders(headers: ApiRequest['headers']): Record<string, string>;
  /** A whole answer to `wire`, from the upstream's JSON text. */
  answer(raw: string, wire: WireRequest): NativeFinal;
  /** A writer for one streamed answer to `wire`. */
  openStream(wire: WireRequest): NativeStreamWriter;
}

/** One request of an API that keeps its answers: what to serve, and who answers it. */
export interface IngressTurn {
  /** The canonical request to serve: the one read, completed from what the API kept (an earlier conversation). */
  readonly request: ChatCompletionRequest;
  /** The API as it answers this request: the same wire formats, and what it answers is kept. */
  readonly ingress: ChatIngress;
  /** The size, in characters, of what the API kept and adds to the prompt (a stored conversation): the budget's estimate counts it. */
  readonly keptPromptChars?: number;
}
