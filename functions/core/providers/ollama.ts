// Ollama through its native API (/api/chat, NDJSON streaming, /api/tags), translated both ways
// to OpenAI's chat-completions wire format.
import { randomBytes } from 'node:crypto';
import type {
  ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatMessage, ContentPart, EmbeddingsRequest, EmbeddingsResponse, FinishReason,
  ModelObject, ToolCall, Usage,
} from '../openai-types';
import { badRequest, GatewayError } from '../errors';
import type { CallContext, EmbeddingsResult, Provider, ProviderHealth, StreamChunk, StreamResult, SyncResult } from './provider';
import { getJson, parseUpstreamJson, probe, readText, sendUpstream, type UpstreamResponse } from './upstream-http';
import { ndjsonLines } from './stream-framing';
import { upstreamStatusError } from './upstream-errors';
import { parseToolArguments } from './tool-arguments';

// ---- Ollama's native shapes -------------------------------------------------------------

interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown>; index?: number };
  id?: string;
}

interface OllamaMessage {
  role: string;
  content: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
  thinking?: string;
}

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  tools?: unknown[];
  format?: 'json' | Record<string, unknown>;
  options?: Record<string, unknown>;
}

interface OllamaChatResponse {
  model: string;
  created_at: string;
  message?: OllamaMessage;
  done: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

interface OllamaTags {
  models?: Array<{ name: string; modified_at?: string }>;
}

// ---- OpenAI → Ollama --------------------------------------------------------------------

/** Translates an OpenAI chat request into Ollama's /api/chat body. */
export function toOllamaRequest(req: ChatCompletionRequest, model: string): OllamaChatRequest {
  if (req.n !== undefined && req.n !== null && req.n !== 1) {
    throw badRequest('Ollama returns one choice per request; "n" must be 1.', 'n');
  }
  const toolNames = new Map<string, string>();
  const messages = req.messages.map((m, i) => toOllamaMessage(m, i, toolNames));
  const out: OllamaChatRequest = { model, messages, stream: req.stream === true };
  if (req.tools && req.tools.length > 0 && req.tool_choice !== 'none') out.tools = req.tools;
  const fmt = req.response_format;
  if (fmt?.type === 'json_object') out.format = 'json';
  else if (fmt?.type === 'json_schema') out.format = fmt.json_schema.schema ?? {};

  const options: Record<string, unknown> = {};
  const copy = (from: keyof ChatCompletionRequest, to: string): void => {
    const v = req[from];
    if (v !== undefined && v !== null) options[to] = v;
  };
  copy('temperature', 'temperature');
  copy('top_p', 'top_p');
  copy('seed', 'seed');
  copy('presence_penalty', 'presence_penalty');
  copy('frequency_penalty', 'frequency_penalty');
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) options.num_predict = maxTokens;
  if (req.stop !== undefined && req.stop !== null) options.stop = Array.isArray(req.stop) ? req.stop : [req.stop];
  if (Object.keys(options).length > 0) out.options = options;
  return out;
}

function toOllamaMessage(m: ChatMessage, index: number, toolNames: Map<string, string>): OllamaMessage {
  const role = m.role === 'developer' ? 'system' : m.role;
  const { text, images } = flattenContent(m.content, index);
  const out: OllamaMessage = { role, content: text };
  if (images.length > 0) out.images = images;
  if (m.role === 'assistant' && m.tool_calls?.length) {
    out.tool_calls = m.tool_calls.map((call, j) => {
      toolNames.set(call.id, call.function.name);
      return { function: { name: call.function.name, arguments: parseToolArguments(call.function.arguments, `messages[${index}].tool_calls[${j}].function.arguments`) } };
    });
  }
  if (m.role === 'tool' && m.tool_call_id) {
    const name = toolNames.get(m.tool_call_id);
    if (name) out.tool_name = name;
  }
  return out;
}

function flattenContent(content: ChatMessage['content'], index: number): { text: string; images: string[] } {
  if (typeof content === 'string') return { text: content, images: [] };
  if (!content) return { text: '', images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  content.forEach((part: ContentPart, j) => {
    if (part.type === 'text') texts.push((part as { text: string }).text);
    else if (part.type === 'image_url') {
      const url = (part as { image_url: { url: string } }).image_url.url;
      const match = /^data:[^;,]+;base64,(.*)$/s.exec(url);
      if (!match) {
        throw badRequest('Ollama accepts images only as base64 data URLs (data:image/...;base64,...).', `messages[${index}].content[${j}].image_url.url`);
      }
      images.push(match[1] ?? '');
    } else {
      throw badRequest(`Content part type "${part.type}" is not supported by Ollama.`, `messages[${index}].content[${j}].type`);
    }
  });
  return { text: texts.join('\n'), images };
}


// ---- Ollama → OpenAI --------------------------------------------------------------------

const newCompletionId = (): string => `chatcmpl-${randomBytes(12).toString('base64url')}`;
const newCallId = (): string => `call_${randomBytes(12).toString('base64url')}`;

function toOpenAIToolCalls(calls: OllamaToolCall[] | undefined): ToolCall[] | undefined {
  if (!calls?.length) return undefined;
  return calls.map((c) => ({ id: c.id ?? newCallId(), type: 'function', function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) } }));
}

function finishReason(doneReason: string | undefined, sawToolCalls: boolean): FinishReason {
  if (doneReason === 'length') return 'length';
  return sawToolCalls ? 'tool_calls' : 'stop';
}

function usageOf(r: OllamaChatResponse): Usage {
  const prompt = r.prompt_eval_count ?? 0;
  const completion = r.eval_count ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

const createdOf = (r: OllamaChatResponse): number => {
  const t = Date.parse(r.created_at);
  return Number.isFinite(t) ? Math.floor(t / 1000) : Math.floor(Date.now() / 1000);
};

/** Translates a non-streaming /api/chat answer into an OpenAI chat.completion. */
export function toOpenAICompletion(r: OllamaChatResponse): ChatCompletion {
  const toolCalls = toOpenAIToolCalls(r.message?.tool_calls);
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: r.message?.content ?? '' };
  if (toolCalls) message.tool_calls = toolCalls;
  if (r.message?.thinking) message.reasoning = r.message.thinking;
  return {
    id: newCompletionId(),
    object: 'chat.completion',
    created: createdOf(r),
    model: r.model,
    system_fingerprint: 'fp_ollama',
    choices: [{ index: 0, message, finish_reason: finishReason(r.done_reason, toolCalls !== undefined), logprobs: null }],
    usage: usageOf(r),
  };
}

/** Translates Ollama's NDJSON stream into OpenAI chunks, one per upstream line. */
export async function* toOpenAIChunks(lines: AsyncIterable<OllamaChatResponse>, id: string, created: number, model: string): AsyncGenerator<StreamChunk> {
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null): ChatCompletionChunk => ({
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_ollama',
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  let sentRole = false;
  let toolIndex = 0;
  for await (const line of lines) {
    if (line.error !== undefined) {
      throw new GatewayError(502, `ollama failed mid-stream: ${line.error}`, { type: 'api_error', code: 'upstream_error' });
    }
    const m = line.message;
    const calls = toOpenAIToolCalls(m?.tool_calls);
    // The final done=true line carries counts, not text; every other line becomes a content chunk.
    // The first chunk always names the role, which OpenAI's stream helpers require.
    if (!sentRole || m?.content || m?.thinking || calls) {
      const delta: ChatCompletionChunk['choices'][number]['delta'] = {};
      if (!sentRole) delta.role = 'assistant';
      sentRole = true;
      delta.content = m?.content ?? '';
      if (m?.thinking) delta.reasoning = m.thinking;
      if (calls) delta.tool_calls = calls.map((c) => ({ index: toolIndex++, ...c }));
      yield { json: JSON.stringify(chunk(delta, null)) };
    }
    if (line.done) {
      yield { json: JSON.stringify(chunk({}, finishReason(line.done_reason, toolIndex > 0))) };
      const usage = usageOf(line);
      yield { json: JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_ollama', choices: [], usage }), usage, usageOnly: true };
      return;
    }
  }
  throw new GatewayError(502, 'ollama ended the stream without its final message.', { type: 'api_error', code: 'upstream_error' });
}

// ---- the provider -----------------------------------------------------------------------

export class OllamaProvider implements Provider {
  readonly name = 'ollama';
  readonly configured = true;

  constructor(private readonly baseUrl: string) {}

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    const body = JSON.stringify(toOllamaRequest(request, request.model));
    const res = await sendUpstream({
      provider: this.name, url: `${this.baseUrl}/api/chat`, method: 'POST',
      headers: { 'content-type': 'application/json' }, body, signal: ctx.signal, timeoutMs: ctx.timeoutMs,
    });
    if (res.statusCode >= 300) throw await errorFrom(res);
    if (!request.stream) {
      return { kind: 'json', completion: toOpenAICompletion(parseUpstreamJson<OllamaChatResponse>(this.name, await readText(res))) };
    }
    return this.stream(res, request.model);
  }

  private stream(res: UpstreamResponse, model: string): StreamResult {
    const id = newCompletionId();
    const created = Math.floor(Date.now() / 1000);
    async function* parsed(): AsyncGenerator<OllamaChatResponse> {
      for await (const line of ndjsonLines(res, 'ollama')) {
        try {
          yield JSON.parse(line) as OllamaChatResponse;
        } catch (err) {
          if (err instanceof SyntaxError) throw new GatewayError(502, 'ollama sent a stream line that is not JSON.', { type: 'api_error', code: 'upstream_bad_response' });
          throw err;
        }
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
      provider: this.name, url: `${this.baseUrl}/api/embed`, method: 'POST',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctx.signal, timeoutMs: ctx.timeoutMs,
    });
    if (res.statusCode >= 300) throw await errorFrom(res);
    const parsed = parseUpstreamJson<{ model?: string; embeddings?: number[][]; prompt_eval_count?: number }>(this.name, await readText(res));
    const tokens = parsed.prompt_eval_count ?? 0;
    const response: EmbeddingsResponse = {
      object: 'list',
      data: (parsed.embeddings ?? []).map((vector, index) => ({
        object: 'embedding', index, embedding: request.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
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
      owned_by: 'ollama',
    }));
  }

  health(): Promise<ProviderHealth> {
    return probe(this.name, `${this.baseUrl}/api/tags`, {});
  }
}

async function errorFrom(res: UpstreamResponse): Promise<GatewayError> {
  const text = await readText(res).catch(() => '');
  let message = text.slice(0, 500) || `HTTP ${res.statusCode}`;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // plain-text body: keep it
  }
  return upstreamStatusError('ollama', res.statusCode, { message });
}
