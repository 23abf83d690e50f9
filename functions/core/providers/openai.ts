// OpenAI: the gateway's client wire format is OpenAI's own, so both directions are nearly a
// pass-through. The request is forwarded as the client's bytes when nothing needs changing; the
// response bytes reach the client unchanged except for the gateway's metadata. Responses API
// requests are forwarded natively to the upstream's /responses (see `forward`).
import type { ChatCompletion, ChatCompletionRequest, StreamChunk, StreamResult, SyncResult, Usage } from '../chat/model';
import type { EmbeddingsRequest, EmbeddingsResponse, ModelObject } from '../openai-types';
import type { PriceBook } from '../pricing/pricing';
import { GatewayError } from '../errors';
import type { CallContext, EmbeddingsResult, NativeApi, NativeCall, NativeStream, NativeStreamEvent, NativeSync, Provider, ProviderHealth } from './provider';
import { expectMediaType, parseUpstreamJson, probe, readText, sendUpstream, type UpstreamResponse } from './upstream-http';
import { badResponse, forwardedEvents, sseData, truncatedStream } from './stream-framing';
import { notForwarded, upstreamStatusError } from './upstream-errors';

/**
 * Where a server speaking OpenAI's wire format takes each call, and its auth headers; absent:
 * `{baseUrl}/chat/completions` (and `/embeddings`, `/models`) with the key as a Bearer token.
 */
export interface OpenAIEndpoint {
  chatUrl(model: string): string;
  embeddingsUrl(model: string): string;
  /** What the health probe GETs. */
  probeUrl: string;
  headers: Record<string, string>;
}

export interface OpenAIOptions {
  /** The provider's name in routes, metrics and usage: `openai`, or a named OpenAI-compatible server's. */
  name?: string;
  apiKey?: string;
  baseUrl: string;
  /** True when OPENAI_BASE_URL was set: an OpenAI-compatible server may need no key. */
  explicitBaseUrl: boolean;
  prices: PriceBook;
  endpoint?: OpenAIEndpoint;
}

export class OpenAIProvider implements Provider {
  readonly name: string;
  readonly configured: boolean;
  private readonly endpoint: OpenAIEndpoint;
  private readonly responsesUrl: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: OpenAIOptions) {
    this.name = opts.name ?? 'openai';
    this.configured = opts.apiKey !== undefined || opts.explicitBaseUrl;
    this.responsesUrl = `${opts.baseUrl}/responses`;
    this.headers = { 'content-type': 'application/json' };
    if (opts.apiKey) this.headers.authorization = `Bearer ${opts.apiKey}`;
    this.endpoint = opts.endpoint ?? defaultEndpoint(opts.baseUrl, this.headers);
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    const body = this.requestBody(request, ctx.rawBody);
    const res = await sendUpstream({
      provider: this.name,
      url: this.endpoint.chatUrl(request.model),
      method: 'POST',
      headers: this.endpoint.headers,
      body,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      traceparent: ctx.traceparent,
      tracestate: ctx.tracestate,
    });
    if (res.statusCode >= 300) throw await errorFrom(res, this.name);
    if (request.stream) {
      expectMediaType(res, this.name, ['text/event-stream']);
      return streamFrom(res, request.model, ctx.maxResponseBytes, this.name);
    }
    const raw = await readText(res, this.name, ctx.maxResponseBytes);
    return { kind: 'json', completion: parseUpstreamJson<ChatCompletion>(this.name, raw), raw };
  }

  async embed(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult> {
    const res = await sendUpstream({
      provider: this.name,
      url: this.endpoint.embeddingsUrl(request.model),
      method: 'POST',
      headers: this.endpoint.headers,
      body: ctx.rawBody ?? JSON.stringify(request),
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      traceparent: ctx.traceparent,
      tracestate: ctx.tracestate,
    });
    if (res.statusCode >= 300) throw await errorFrom(res, this.name);
    const raw = await readText(res, this.name, ctx.maxResponseBytes);
    return { response: parseUpstreamJson<EmbeddingsResponse>(this.name, raw), raw };
  }

  /** OpenAI speaks its own Responses API. */
  forwards(api: NativeApi): boolean {
    return api === 'openai-responses';
  }

  /**
   * The client's Responses request, byte for byte. Whether the answer is a stream is the
   * upstream's to say (its content type), so the body is never parsed here. No client header is
   * passed on: OpenAI's Responses API takes none the gateway would forward.
   */
  async forward(api: NativeApi, call: NativeCall, ctx: CallContext): Promise<NativeSync | NativeStream> {
    if (api !== 'openai-responses') throw notForwarded(this.name, api);
    const res = await sendUpstream({
      provider: this.name,
      url: this.responsesUrl,
      method: 'POST',
      headers: this.headers,
      body: call.body,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      traceparent: ctx.traceparent,
      tracestate: ctx.tracestate,
    });
    if (res.statusCode >= 300) throw await errorFrom(res, this.name);
    if (res.headers['content-type']?.toLowerCase().startsWith('text/event-stream')) return responsesStream(res, ctx.maxResponseBytes);
    const raw = await readText(res, this.name, ctx.maxResponseBytes);
    const parsed = parseUpstreamJson<unknown>(this.name, raw);
    if (typeof parsed !== 'object' || parsed === null) throw badResponse(this.name, 'a Responses answer that is not a JSON object');
    const usage = canonicalUsage((parsed as { usage?: unknown }).usage);
    return usage ? { kind: 'json', raw, usage } : { kind: 'json', raw };
  }

  /**
   * Usage is always requested on streams so cost can be computed; the client's own bytes are
   * forwarded when they already ask for it (or for non-streaming calls).
   */
  private requestBody(request: ChatCompletionRequest, rawBody: Buffer | undefined): string | Buffer {
    const wantsUsage = request.stream_options?.include_usage === true;
    if (rawBody && (!request.stream || wantsUsage)) return rawBody;
    // top_k is a canonical extension field (Anthropic's Messages API has it) that OpenAI refuses as unknown.
    const { top_k: _topK, ...sent } = request;
    if (!request.stream) return JSON.stringify(sent);
    return JSON.stringify({ ...sent, stream_options: { ...request.stream_options, include_usage: true } });
  }

  async listModels(): Promise<ModelObject[]> {
    return this.opts.prices.modelsOf(this.name).map(([id]) => ({ id, object: 'model', created: 0, owned_by: this.name }));
  }

  async health(): Promise<ProviderHealth> {
    if (!this.configured) return 'unconfigured';
    return probe(this.name, this.endpoint.probeUrl, this.endpoint.headers);
  }
}

function defaultEndpoint(baseUrl: string, headers: Record<string, string>): OpenAIEndpoint {
  const chatUrl = `${baseUrl}/chat/completions`;
  const embeddingsUrl = `${baseUrl}/embeddings`;
  return { chatUrl: () => chatUrl, embeddingsUrl: () => embeddingsUrl, probeUrl: `${baseUrl}/models`, headers };
}

/** Only the first 500 characters of an error body are kept: read no more than this of it. */
const ERROR_BODY_BYTES = 64 * 1024;

async function errorFrom(res: UpstreamResponse, provider: string): Promise<GatewayError> {
  const text = await readText(res, provider, ERROR_BODY_BYTES).catch(() => '');
  let detail: { message: string; type?: string; param?: string | null; code?: string | null } = { message: text.slice(0, 500) || `HTTP ${res.statusCode}` };
  try {
    const parsed = JSON.parse(text) as { error?: typeof detail };
    if (parsed.error && typeof parsed.error.message === 'string') detail = parsed.error;
  } catch {
    // not JSON: keep the text
  }
  return upstreamStatusError(provider, res.statusCode, detail, res.headers);
}

/**
 * Forwards each SSE event's JSON as it arrives; parses only the events that may carry usage.
 * The stream is complete only at `data: [DONE]`: a body that ends before it is a truncation.
 */
async function streamFrom(res: UpstreamResponse, requestedModel: string, maxBytes: number | undefined, provider: string): Promise<StreamResult> {
  const events = sseData(res, provider, maxBytes)[Symbol.asyncIterator]();
  const first = await events.next();
  if (first.done) throw truncatedStream(provider, 'data: [DONE]');
  const head = first.value === '[DONE]' ? undefined : first.value;
  let meta: { id: string; created: number; model: string };
  try {
    meta = head !== undefined ? chunkMeta(head, provider) : { id: 'chatcmpl-empty', created: Math.floor(Date.now() / 1000), model: requestedModel };
  } catch (err) {
    await events.return(undefined);
    throw err;
  }

  async function* chunks(): AsyncGenerator<StreamChunk> {
    if (head === undefined) return;
    yield toChunk(head, provider);
    for (;;) {
      const next = await events.next();
      if (next.done) throw truncatedStream(provider, 'data: [DONE]');
      if (next.value === '[DONE]') return;
      yield toChunk(next.value, provider);
    }
  }
  return { kind: 'stream', ...meta, chunks: chunks() };
}

function toChunk(data: string, provider: string): StreamChunk {
  if (data.startsWith('{"error"')) {
    const parsed = parseEvent(data, provider) as { error?: { message?: string } };
    // The provider's own words go to the log only (they may quote keys or internals).
    throw new GatewayError(502, `${provider} failed mid-stream.`, {
      type: 'api_error',
      code: 'upstream_error',
      retryable: true,
      detail: parsed.error?.message ?? 'unknown error',
    });
  }
  // Only usage-bearing chunks are parsed; every other chunk passes through as bytes.
  if (!data.includes('"usage"') || /"usage"\s*:\s*null/.test(data)) return { json: data };
  const parsed = parseEvent(data, provider) as { usage?: Usage | null; choices?: unknown[] };
  if (!parsed.usage) return { json: data };
  return { json: data, usage: parsed.usage, usageOnly: Array.isArray(parsed.choices) && parsed.choices.length === 0 };
}

/** A stream event that is not a JSON object is the provider's fault (502, retryable), not the gateway's 500. */
function parseEvent(data: string, provider = 'openai'): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw badResponse(provider, 'a stream event that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw badResponse(provider, 'a stream event that is not a JSON object');
  return parsed as Record<string, unknown>;
}

function chunkMeta(data: string, provider: string): { id: string; created: number; model: string } {
  const parsed = parseEvent(data, provider) as { id?: string; created?: number; model?: string };
  return { id: parsed.id ?? 'chatcmpl', created: parsed.created ?? Math.floor(Date.now() / 1000), model: parsed.model ?? '' };
}

// ---------------------------------------------------------------------------------------------
// Responses API streams
// ---------------------------------------------------------------------------------------------

/** The events that end a Responses stream; each carries the whole response, usage included. */
const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const RESPONSES_TERMINATOR = 'response.completed';
/** The API writes `type` first; the fast path reads it without parsing the event. */
const LEADING_TYPE = /^\{\s*"type"\s*:\s*"([^"\\]+)"/;

/**
 * Forwards a Responses stream event by event. The first event is read before resolving, so a
 * stream that fails at once can still fall back. The stream is complete only at a terminal event:
 * a body that ends before one is a truncation; an `error` event is the provider failing mid-stream.
 */
async function responsesStream(res: UpstreamResponse, maxBytes: number | undefined): Promise<NativeStream> {
  // The body ends right after the terminal event (a compatible server may add `data: [DONE]`).
  return forwardedEvents(sseData(res, 'openai', maxBytes)[Symbol.asyncIterator](), nextResponsesEvent, (type) => TERMINAL_EVENTS.has(type));
}

async function nextResponsesEvent(data: AsyncIterator<string>): Promise<NativeStreamEvent> {
  const next = await data.next();
  if (next.done || next.value === '[DONE]') throw truncatedStream('openai', RESPONSES_TERMINATOR);
  return responsesEvent(next.value);
}

function responsesEvent(data: string): NativeStreamEvent {
  const fast = LEADING_TYPE.exec(data)?.[1];
  if (fast !== undefined && fast !== 'error' && !TERMINAL_EVENTS.has(fast)) return { type: fast, data };
  const parsed = parseEvent(data) as { type?: unknown; message?: unknown; error?: { message?: unknown }; response?: { usage?: unknown } };
  if (typeof parsed.type !== 'string') throw badResponse('openai', 'a Responses stream event without a type');
  if (parsed.type === 'error') {
    const message = typeof parsed.message === 'string' ? parsed.message : parsed.error?.message;
    // The provider's own words go to the log only (they may quote keys or internals).
    throw new GatewayError(502, 'openai failed mid-stream.', {
      type: 'api_error',
      code: 'upstream_error',
      retryable: true,
      detail: typeof message === 'string' ? message : 'unknown error',
    });
  }
  const usage = TERMINAL_EVENTS.has(parsed.type) ? canonicalUsage(parsed.response?.usage) : undefined;
  return usage ? { type: parsed.type, data, usage } : { type: parsed.type, data };
}

/** The Responses API's usage (`input_tokens`, `output_tokens`, …) in the canonical chat shape. */
function canonicalUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as {
    input_tokens?: unknown;
    output_tokens?: unknown;
    total_tokens?: unknown;
    input_tokens_details?: { cached_tokens?: unknown } | null;
    output_tokens_details?: { reasoning_tokens?: unknown } | null;
  };
  if (typeof u.input_tokens !== 'number' || typeof u.output_tokens !== 'number') return undefined;
  const usage: Usage = {
    prompt_tokens: u.input_tokens,
    completion_tokens: u.output_tokens,
    total_tokens: typeof u.total_tokens === 'number' ? u.total_tokens : u.input_tokens + u.output_tokens,
  };
  const cached = u.input_tokens_details?.cached_tokens;
  if (typeof cached === 'number') usage.prompt_tokens_details = { cached_tokens: cached };
  const reasoning = u.output_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}
