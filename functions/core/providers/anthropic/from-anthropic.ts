// Anthropic Messages response → OpenAI chat.completion: content, tool calls, finish reason,
// usage (with prompt-cache reads and writes), and Anthropic's error bodies → GatewayError.
import type { GatewayError } from '../../errors';
import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../../chat/model';
import { upstreamStatusError } from '../upstream-errors';
import type { ResponseHeaders } from '../retry-after';
import type { AnthropicErrorBody, AnthropicResponse, AnthropicUsage } from './types';

export const PROVIDER = 'anthropic';

/**
 * stop_reason → finish_reason. The first five follow fixtures/anthropic/stop-reasons.json
 * (LiteLLM's table, the only one published); pause_turn (a server-tool loop paused) is a normal
 * end of this response. model_context_window_exceeded and compaction mean the answer was cut
 * short, which OpenAI calls "length". Unknown or missing values are "stop", as in LiteLLM.
 */
const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
  pause_turn: 'stop',
  model_context_window_exceeded: 'length',
  compaction: 'length',
};

export function finishReasonOf(stopReason: string | null | undefined): FinishReason {
  return (stopReason ? FINISH_REASONS[stopReason] : undefined) ?? 'stop';
}

/** The field of `usage.prompt_tokens_details` that carries prompt-cache writes (priced as cache_write_tokens). */
export const CACHE_WRITE_FIELD = 'cache_creation_tokens';

/**
 * Anthropic counts uncached input, cache reads and cache writes separately; OpenAI's prompt_tokens
 * is all of the prompt, with the cached part in prompt_tokens_details.cached_tokens. Cache writes
 * go to prompt_tokens_details.cache_creation_tokens (LiteLLM's name) so pricing can bill them.
 */
export function usageOf(u: AnthropicUsage | undefined): Usage {
  const input = u?.input_tokens ?? 0;
  const read = u?.cache_read_input_tokens ?? 0;
  const write = u?.cache_creation_input_tokens ?? 0;
  const completion = u?.output_tokens ?? 0;
  const prompt = input + read + write;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: read, [CACHE_WRITE_FIELD]: write },
  };
}

/**
 * Folds a stream event's usage into the counts so far: `message_delta` repeats cumulative counts,
 * and a field it leaves out keeps `message_start`'s value.
 */
export function mergeUsage(into: AnthropicUsage, u: AnthropicUsage | undefined): void {
  if (!u) return;
  for (const key of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const) {
    const v = u[key];
    if (typeof v === 'number') into[key] = v;
  }
}

/** Translates a non-streaming Messages answer into an OpenAI chat.completion. */
export function toOpenAICompletion(r: AnthropicResponse, created = Math.floor(Date.now() / 1000)): ChatCompletion {
  const texts: string[] = [];
  const thinking: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of r.content ?? []) {
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'thinking' && typeof block.thinking === 'string') thinking.push(block.thinking);
    else if (block.type === 'tool_use') {
      const b = block as { id: string; name: string; input: unknown };
      toolCalls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    }
    // redacted_thinking, server-tool blocks and anything newer have no OpenAI counterpart.
  }
  // OpenAI sends content null beside tool calls when there is no text.
  const content = texts.length > 0 ? texts.join('') : toolCalls.length > 0 ? null : '';
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thinking.length > 0) message.reasoning = thinking.join('');
  return {
    id: r.id,
    object: 'chat.completion',
    created,
    model: r.model,
    choices: [{ index: 0, message, finish_reason: finishReasonOf(r.stop_reason), logprobs: null }],
    usage: usageOf(r.usage),
  };
}

/**
 * Status an Anthropic error type stands for (fixtures/anthropic/errors.json), used for errors that
 * arrive inside a 200 stream and so carry no status of their own.
 */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 403,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

const statusOfErrorType = (type: string): number => STATUS_OF_TYPE[type] ?? 500;

/**
 * An Anthropic error answer → GatewayError. Client faults (400/404/413) keep their status and
 * Anthropic's message; credentials, rate limits, 5xx and 529 become retryable 502s naming anthropic.
 */
export function errorFromBody(status: number, text: string, headers: ResponseHeaders = {}): GatewayError {
  let detail: { message: string; type?: string } = { message: text.trim().slice(0, 500) || `HTTP ${status}` };
  try {
    const parsed = JSON.parse(text) as Partial<AnthropicErrorBody>;
    const e = parsed.error;
    if (e && typeof e.message === 'string') detail = { message: e.message, ...(typeof e.type === 'string' ? { type: e.type } : {}) };
  } catch {
    // not JSON (a proxy's HTML page, say): keep the text
  }
  return upstreamStatusError(PROVIDER, status, detail, headers);
}

/** The `error` event of a stream (e.g. overloaded_error after the 200 head) → GatewayError. */
export function streamError(error: { type?: unknown; message?: unknown } | undefined): GatewayError {
  const type = typeof error?.type === 'string' ? error.type : 'api_error';
  const message = typeof error?.message === 'string' ? error.message : 'unknown error';
  return upstreamStatusError(PROVIDER, statusOfErrorType(type), { message: `${message} (${type}, mid-stream)`, type });
}
