// functions/core/providers/anthropic — the Anthropic provider: canonical ⇄ Messages API for requests,
// answers, streams and errors, with the Messages wire types (types.ts).
//
// Anthropic through its Messages API (POST /v1/messages), translated both ways to OpenAI's
// chat-completions wire format: to-anthropic.ts (requests), from-anthropic.ts (answers, usage,
// errors), stream.ts (SSE events → chunks). A Messages API client's request is forwarded as it
// came instead (native.ts), and so is its count_tokens request.
import type { ChatCompletionRequest, StreamResult, SyncResult } from '../../chat/model';
import type { ModelObject } from '../../openai-types';
import type { PriceBook } from '../../pricing/pricing';
import type { CallContext, NativeApi, NativeCall, NativeStream, NativeSync, Provider, ProviderHealth } from '../provider';
import { expectMediaType, parseUpstreamJson, probe, readText, sendUpstream, type UpstreamResponse } from '../upstream-http';
import { sseData } from '../stream-framing';
import { errorFromBody, PROVIDER, toOpenAICompletion } from './from-anthropic';
import { countAnswer, nativeAnswer, nativeStream } from './native';
import { notForwarded } from '../upstream-errors';
import { streamResultFrom } from './stream';
import { toAnthropicRequest } from './to-anthropic';
import { ANTHROPIC_VERSION, type AnthropicResponse } from './types';

/** Only the start of an error body is reported: read no more than this of it. */
const ERROR_BODY_BYTES = 64 * 1024;

/**
 * The client headers a forwarded request may carry: the betas it asked for, and the API version
 * its body and the answer it parses are written in. Nothing else a client sends reaches Anthropic
 * (never a credential: the gateway's key is the provider's own).
 */
const FORWARDED_HEADERS = ['anthropic-beta', 'anthropic-version'] as const;

export interface AnthropicOptions {
  /** The provider's name in routes, metrics and usage: `anthropic`, or a named instance's. */
  name?: string;
  apiKey?: string;
  /** Without /v1, e.g. https://api.anthropic.com (ANTHROPIC_BASE_URL). */
  baseUrl: string;
  /** True when ANTHROPIC_BASE_URL was set: a proxy in front of Anthropic may hold the key itself. */
  explicitBaseUrl: boolean;
  prices: PriceBook;
}

export class AnthropicProvider implements Provider {
  readonly name: string;
  readonly configured: boolean;
  private readonly baseUrl: string;
  private readonly messagesUrl: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: AnthropicOptions) {
    this.name = opts.name ?? PROVIDER;
    this.configured = opts.apiKey !== undefined || opts.explicitBaseUrl;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.messagesUrl = `${this.baseUrl}/v1/messages`;
    this.headers = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION };
    if (opts.apiKey) this.headers['x-api-key'] = opts.apiKey;
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    // Translated before anything is sent, so a request Anthropic cannot take is the client's 400.
    const body = JSON.stringify(toAnthropicRequest(request, request.model));
    const res = await sendUpstream({
      provider: this.name,
      url: this.messagesUrl,
      method: 'POST',
      headers: this.headers,
      body,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      traceparent: ctx.traceparent,
      tracestate: ctx.tracestate,
    });
    if (res.statusCode >= 300) throw errorFromBody(res.statusCode, await readText(res, this.name, ERROR_BODY_BYTES).catch(() => ''), res.headers);
    if (request.stream) {
      expectMediaType(res, this.name, ['text/event-stream']);
      return streamResultFrom(sseData(res, this.name, ctx.maxResponseBytes), request.model);
    }
    const answer = parseUpstreamJson<AnthropicResponse>(this.name, await readText(res, this.name, ctx.maxResponseBytes));
    return { kind: 'json', completion: toOpenAICompletion(answer) };
  }

  /** Anthropic speaks its own Messages API. */
  forwards(api: NativeApi): boolean {
    return api === 'anthropic-messages';
  }

  /**
   * The client's Messages request, byte for byte, with its `anthropic-beta` and
   * `anthropic-version`. Whether the answer is a stream is the upstream's to say (its content
   * type), so the body is never parsed here.
   */
  async forward(api: NativeApi, call: NativeCall, ctx: CallContext): Promise<NativeSync | NativeStream> {
    if (api !== 'anthropic-messages') throw notForwarded(this.name, api);
    const res = await this.post(this.messagesUrl, call, ctx);
    if (res.headers['content-type']?.toLowerCase().startsWith('text/event-stream')) return nativeStream(res, ctx.maxResponseBytes);
    return nativeAnswer(res, ctx.maxResponseBytes);
  }

  /** Anthropic's own count of a Messages request's input tokens (POST /v1/messages/count_tokens). */
  async countInputTokens(api: NativeApi, call: NativeCall, ctx: CallContext): Promise<number> {
    if (api !== 'anthropic-messages') throw notForwarded(this.name, api);
    return countAnswer(await this.post(`${this.messagesUrl}/count_tokens`, call, ctx));
  }

  /** Sends a forwarded request; resolves on a 2xx, throws the mapped upstream error otherwise. */
  private async post(url: string, call: NativeCall, ctx: CallContext): Promise<UpstreamResponse> {
    const headers = { ...this.headers };
    for (const name of FORWARDED_HEADERS) {
      const value = call.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    const res = await sendUpstream({
      provider: this.name,
      url,
      method: 'POST',
      headers,
      body: call.body,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      traceparent: ctx.traceparent,
      tracestate: ctx.tracestate,
    });
    if (res.statusCode >= 300) throw errorFromBody(res.statusCode, await readText(res, this.name, ERROR_BODY_BYTES).catch(() => ''), res.headers);
    return res;
  }

  async listModels(): Promise<ModelObject[]> {
    return this.opts.prices.modelsOf(this.name).map(([id]) => ({ id, object: 'model', created: 0, owned_by: this.name }));
  }

  async health(): Promise<ProviderHealth> {
    if (!this.configured) return 'unconfigured';
    return probe(this.name, `${this.baseUrl}/v1/models`, this.headers);
  }
}
