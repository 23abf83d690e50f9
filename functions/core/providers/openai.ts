// OpenAI: the gateway's client wire format is OpenAI's own, so both directions are nearly a
// pass-through. The request is forwarded as the client's bytes when nothing needs changing; the
// response bytes reach the client unchanged except for the gateway's metadata.
import type { ChatCompletion, ChatCompletionRequest, StreamChunk, StreamResult, SyncResult, Usage } from '../chat/model';
import type { EmbeddingsRequest, EmbeddingsResponse, ModelObject } from '../openai-types';
import type { PriceBook } from '../pricing/pricing';
import { GatewayError } from '../errors';
import type { CallContext, EmbeddingsResult, Provider, ProviderHealth } from './provider';
import { expectMediaType, parseUpstreamJson, probe, readText, sendUpstream, type UpstreamResponse } from './upstream-http';
import { badResponse, sseData, truncatedStream } from './stream-framing';
import { upstreamStatusError } from './upstream-errors';

export interface OpenAIOptions {
  apiKey?: string;
  baseUrl: string;
  /** True when OPENAI_BASE_URL was set: an OpenAI-compatible server may need no key. */
  explicitBaseUrl: boolean;
  prices: PriceBook;
}

export class OpenAIProvider implements Provider {
  readonly name = 'openai';
  readonly configured: boolean;
  private readonly chatUrl: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: OpenAIOptions) {
    this.configured = opts.apiKey !== undefined || opts.explicitBaseUrl;
    this.chatUrl = `${opts.baseUrl}/chat/completions`;
    this.headers = { 'content-type': 'application/json' };
    if (opts.apiKey) this.headers.authorization = `Bearer ${opts.apiKey}`;
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    const body = this.requestBody(request, ctx.rawBody);
    const res = await sendUpstream({
      provider: this.name,
      url: this.chatUrl,
      method: 'POST',
      headers: this.headers,
      body,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
    });
    if (res.statusCode >= 300) throw await errorFrom(res);
    if (request.stream) {
      expectMediaType(res, this.name, ['text/event-stream']);
      return streamFrom(res, request.model, ctx.maxResponseBytes);
    }
    const raw = await readText(res, this.name, ctx.maxResponseBytes);
    return { kind: 'json', completion: parseUpstreamJson<ChatCompletion>(this.name, raw), raw };
  }

  async embed(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult> {
    const res = await sendUpstream({
      provider: this.name,
      url: `${this.opts.baseUrl}/embeddings`,
      method: 'POST',
      headers: this.headers,
      body: ctx.rawBody ?? JSON.stringify(request),
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
    });
    if (res.statusCode >= 300) throw await errorFrom(res);
    const raw = await readText(res, this.name, ctx.maxResponseBytes);
    return { response: parseUpstreamJson<EmbeddingsResponse>(this.name, raw), raw };
  }

  /**
   * Usage is always requested on streams so cost can be computed; the client's own bytes are
   * forwarded when they already ask for it (or for non-streaming calls).
   */
  private requestBody(request: ChatCompletionRequest, rawBody: Buffer | undefined): string | Buffer {
    const wantsUsage = request.stream_options?.include_usage === true;
    if (rawBody && (!request.stream || wantsUsage)) return rawBody;
    if (!request.stream) return JSON.stringify(request);
    return JSON.stringify({ ...request, stream_options: { ...request.stream_options, include_usage: true } });
  }

  async listModels(): Promise<ModelObject[]> {
    return this.opts.prices.modelsOf(this.name).map(([id]) => ({ id, object: 'model', created: 0, owned_by: 'openai' }));
  }

  async health(): Promise<ProviderHealth> {
    if (!this.configured) return 'unconfigured';
    return probe(this.name, `${this.opts.baseUrl}/models`, this.headers);
  }
}

/** Only the first 500 characters of an error body are kept: read no more than this of it. */
const ERROR_BODY_BYTES = 64 * 1024;

async function errorFrom(res: UpstreamResponse): Promise<GatewayError> {
  const text = await readText(res, 'openai', ERROR_BODY_BYTES).catch(() => '');
  let detail: { message: string; type?: string; param?: string | null; code?: string | null } = { message: text.slice(0, 500) || `HTTP ${res.statusCode}` };
  try {
    const parsed = JSON.parse(text) as { error?: typeof detail };
    if (parsed.error && typeof parsed.error.message === 'string') detail = parsed.error;
  } catch {
    // not JSON: keep the text
  }
  return upstreamStatusError('openai', res.statusCode, detail);
}

/**
 * Forwards each SSE event's JSON as it arrives; parses only the events that may carry usage.
 * The stream is complete only at `data: [DONE]`: a body that ends before it is a truncation.
 */
async function streamFrom(res: UpstreamResponse, requestedModel: string, maxBytes: number | undefined): Promise<StreamResult> {
  const events = sseData(res, 'openai', maxBytes)[Symbol.asyncIterator]();
  const first = await events.next();
  if (first.done) throw truncatedStream('openai', 'data: [DONE]');
  const head = first.value === '[DONE]' ? undefined : first.value;
  let meta: { id: string; created: number; model: string };
  try {
    meta = head !== undefined ? chunkMeta(head) : { id: 'chatcmpl-empty', created: Math.floor(Date.now() / 1000), model: requestedModel };
  } catch (err) {
    await events.return(undefined);
    throw err;
  }

  async function* chunks(): AsyncGenerator<StreamChunk> {
    if (head === undefined) return;
    yield toChunk(head);
    for (;;) {
      const next = await events.next();
      if (next.done) throw truncatedStream('openai', 'data: [DONE]');
      if (next.value === '[DONE]') return;
      yield toChunk(next.value);
    }
  }
  return { kind: 'stream', ...meta, chunks: chunks() };
}

function toChunk(data: string): StreamChunk {
  if (data.startsWith('{"error"')) {
    const parsed = parseEvent(data) as { error?: { message?: string } };
    // The provider's own words go to the log only (they may quote keys or internals).
    throw new GatewayError(502, 'openai failed mid-stream.', {
      type: 'api_error',
      code: 'upstream_error',
      retryable: true,
      detail: parsed.error?.message ?? 'unknown error',
    });
  }
  // Only usage-bearing chunks are parsed; every other chunk passes through as bytes.
  if (!data.includes('"usage"') || /"usage"\s*:\s*null/.test(data)) return { json: data };
  const parsed = parseEvent(data) as { usage?: Usage | null; choices?: unknown[] };
  if (!parsed.usage) return { json: data };
  return { json: data, usage: parsed.usage, usageOnly: Array.isArray(parsed.choices) && parsed.choices.length === 0 };
}

/** A stream event that is not a JSON object is the provider's fault (502, retryable), not the gateway's 500. */
function parseEvent(data: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw badResponse('openai', 'a stream event that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw badResponse('openai', 'a stream event that is not a JSON object');
  return parsed as Record<string, unknown>;
}

function chunkMeta(data: string): { id: string; created: number; model: string } {
  const parsed = parseEvent(data) as { id?: string; created?: number; model?: string };
  return { id: parsed.id ?? 'chatcmpl', created: parsed.created ?? Math.floor(Date.now() / 1000), model: parsed.model ?? '' };
}
