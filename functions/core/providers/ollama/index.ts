// functions/core/providers/ollama — the Ollama provider: canonical ⇄ Ollama's native API for chat,
// embeddings and the model list, with its wire types (types.ts).
//
// Ollama through its native API (/api/chat, NDJSON streaming, /api/embed, /api/tags), translated
// both ways to OpenAI's wire format: to-ollama.ts (requests), from-ollama.ts (answers and streams).
import type { ChatCompletionRequest, StreamResult, SyncResult } from '../../chat/model';
import type { EmbeddingsRequest, EmbeddingsResponse, ModelObject } from '../../openai-types';
import { badRequest, type GatewayError } from '../../errors';
import type { CallContext, EmbeddingsResult, Provider, ProviderHealth } from '../provider';
import { expectMediaType, getJson, parseUpstreamJson, probe, readText, sendUpstream, type UpstreamResponse } from '../upstream-http';
import { badResponse, ndjsonLines } from '../stream-framing';
import { upstreamStatusError } from '../upstream-errors';
import { newCompletionId, toOpenAIChunks, toOpenAICompletion } from './from-ollama';
import { toOllamaRequest } from './to-ollama';
import type { OllamaChatResponse, OllamaTags } from './types';

export { toOllamaRequest } from './to-ollama';
export { toOpenAIChunks, toOpenAICompletion } from './from-ollama';

export class OllamaProvider implements Provider {
  readonly configured = true;

  /** `name`: `ollama`, or a named instance's (its name in routes, metrics and usage). */
  constructor(
    private readonly baseUrl: string,
    readonly name = 'ollama',
  ) {}

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    const body = JSON.stringify(toOllamaRequest(request, request.model));
    const res = await sendUpstream({
      provider: this.name,
      url: `${this.baseUrl}/api/chat`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      traceparent: ctx.traceparent,
      tracestate: ctx.tracestate,
    });
    if (res.statusCode >= 300) throw await errorFrom(res, this.name);
    if (!request.stream) {
      return {
        kind: 'json',
        completion: toOpenAICompletion(parseUpstreamJson<OllamaChatResponse>(this.name, await readText(res, this.name, ctx.maxResponseBytes))),
      };
    }
    // Ollama streams NDJSON; some versions label it application/json.
    expectMediaType(res, this.name, ['application/x-ndjson', 'application/json']);
    return this.stream(res, request.model, ctx.maxResponseBytes);
  }

  private stream(res: UpstreamResponse, model: string, maxBytes: number | undefined): StreamResult {
    const provider = this.name;
    const id = newCompletionId();
    const created = Math.floor(Date.now() / 1000);
    async function* parsed(): AsyncGenerator<OllamaChatResponse> {
      for await (const line of ndjsonLines(res, provider, maxBytes)) {
        let parsed: OllamaChatResponse;
        try {
          parsed = JSON.parse(line) as OllamaChatResponse;
        } catch {
          throw badResponse(provider, 'a stream line that is not JSON'); // a provider fault: retryable
        }
        yield parsed;
      }
    }
    return { kind: 'stream', id, created, model, chunks: toOpenAIChunks(parsed(), id, created, model) };
  }

  /** OpenAI embeddings → Ollama's /api/embed, and back (base64 = little-endian float32, as OpenAI encodes). */
  async embed(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult> {
    const input = request.input;
    if (typeof input !== 'string' && !(Array.isArray(input) && input.every((i) => typeof i === 'string'))) {
      throw badRequest('Ollama embeds text only; token-id inputs are not supported.', 'input', 'invalid_value');
    }
    const body: Record<string, unknown> = { model: request.model, input };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    const res = await sendUpstream({
      provider: this.name,
      url: `${this.baseUrl}/api/embed`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
      traceparent: ctx.traceparent,
      tracestate: ctx.tracestate,
    });
    if (res.statusCode >= 300) throw await errorFrom(res, this.name);
    const parsed = parseUpstreamJson<{ model?: string; embeddings?: number[][]; prompt_eval_count?: number }>(
      this.name,
      await readText(res, this.name, ctx.maxResponseBytes),
    );
    const tokens = parsed.prompt_eval_count ?? 0;
    const response: EmbeddingsResponse = {
      object: 'list',
      data: (parsed.embeddings ?? []).map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: request.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
      })),
      model: parsed.model ?? request.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
    return { response };
  }

  async listModels(): Promise<ModelObject[]> {
    const tags = (await getJson(this.name, `${this.baseUrl}/api/tags`, {}, 1500)) as OllamaTags;
    return (tags.models ?? []).map((m) => ({
      id: m.name,
      object: 'model',
      created: m.modified_at ? Math.floor(Date.parse(m.modified_at) / 1000) : 0,
      owned_by: this.name,
    }));
  }

  health(): Promise<ProviderHealth> {
    return probe(this.name, `${this.baseUrl}/api/tags`, {});
  }
}

async function errorFrom(res: UpstreamResponse, provider: string): Promise<GatewayError> {
  const text = await readText(res, provider, 64 * 1024).catch(() => ''); // only its start is reported
  let message = text.slice(0, 500) || `HTTP ${res.statusCode}`;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // plain-text body: keep it
  }
  return upstreamStatusError(provider, res.statusCode, { message }, res.headers);
}
