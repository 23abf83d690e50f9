// Ollama /api/chat answers (whole, or NDJSON lines) → OpenAI completions and chunks.
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, StreamChunk, ToolCall, Usage } from '../../chat/model';
import { GatewayError } from '../../errors';
import { truncatedStream } from '../stream-framing';
import type { OllamaChatResponse, OllamaToolCall } from './types';

export const newCompletionId = (): string => `chatcmpl-${randomBytes(12).toString('base64url')}`;
const newCallId = (): string => `call_${randomBytes(12).toString('base64url')}`;

function toOpenAIToolCalls(calls: OllamaToolCall[] | undefined): ToolCall[] | undefined {
  if (!calls?.length) return undefined;
  return calls.map((c) => ({
    id: c.id ?? newCallId(),
    type: 'function',
    function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) },
  }));
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
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: r.message?.content ?? '', refusal: null };
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
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'fp_ollama',
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  let sentRole = false;
  let toolIndex = 0;
  for await (const line of lines) {
    if (line.error !== undefined) {
      // The provider's own words go to the log only (they may quote keys or internals).
      throw new GatewayError(502, 'ollama failed mid-stream.', { type: 'api_error', code: 'upstream_error', retryable: true, detail: String(line.error) });
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
      yield {
        json: JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_ollama', choices: [], usage }),
        usage,
        usageOnly: true,
      };
      return;
    }
  }
  throw truncatedStream('ollama', 'the done: true line');
}
