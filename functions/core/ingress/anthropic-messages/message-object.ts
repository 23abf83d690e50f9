// The Messages API's `message` object from a canonical completion: its content blocks, stop reason
// and usage, as Anthropic writes them whatever provider answered.
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../../chat/model';
import type { ContentBlock, MessageObject, MessagesUsage, StopReason } from './types';

/** An id in Anthropic's style: the object's prefix (`msg`, `toolu`) and 24 random characters. */
export const newId = (prefix: 'msg' | 'toolu'): string => `${prefix}_${randomBytes(18).toString('base64url').replace(/[-_]/g, '0')}`;

/**
 * finish_reason → stop_reason. Which stop sequence ended an answer is not in the canonical model,
 * so a stop is always `end_turn` and `stop_sequence` stays null.
 */
const STOP_REASONS: Readonly<Record<FinishReason, StopReason>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/** The stop reason of an answer that ended with `finish`; one that carried a refusal (OpenAI's) is a refusal. */
export const stopReasonOf = (finish: FinishReason | null | undefined, refused = false): StopReason =>
  refused ? 'refusal' : ((finish ? STOP_REASONS[finish] : undefined) ?? 'end_turn');

/**
 * Canonical usage → Anthropic's. The canonical prompt_tokens counts the whole prompt, cache reads
 * and writes included; Anthropic's input_tokens counts only the part neither read from nor
 * written to its cache.
 */
export function messagesUsage(usage: Usage | undefined): MessagesUsage {
  const read = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage?.prompt_tokens_details?.cache_creation_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - read - written),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: read,
  };
}

/**
 * A tool call's arguments as the object Anthropic's `input` is. Arguments that are not a JSON
 * object (a model's malformed output) become an empty input rather than failing an answer the
 * provider already billed.
 */
export function toolInput(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args === '' ? '{}' : args);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // below
  }
  return {};
}

/** The reasoning a provider returned beside the answer, under the names the canonical model and OpenAI-compatible servers use. */
export function reasoningOf(fields: Record<string, unknown>): string | undefined {
  const text = fields.reasoning ?? fields.reasoning_content;
  return typeof text === 'string' && text !== '' ? text : undefined;
}

/** A whole completion's content: its reasoning as a thinking block, its text (or refusal), then each tool call. */
export function contentBlocks(completion: ChatCompletion): ContentBlock[] {
  const message = completion.choices[0]?.message;
  if (!message) return [];
  const blocks: ContentBlock[] = [];
  const reasoning = reasoningOf(message);
  // No signature: the reasoning is not Anthropic's, and only Anthropic could sign it.
  if (reasoning) blocks.push({ type: 'thinking', thinking: reasoning, signature: '' });
  const text = [message.content, message.refusal].filter((t): t is string => typeof t === 'string' && t !== '').join('');
  const calls: ToolCall[] = message.tool_calls ?? [];
  if (text !== '' || calls.length === 0) blocks.push({ type: 'text', text });
  for (const call of calls)
    blocks.push({ type: 'tool_use', id: call.id || newId('toolu'), name: call.function.name, input: toolInput(call.function.arguments) });
  return blocks;
}

const isRefusal = (refusal: unknown): boolean => typeof refusal === 'string' && refusal !== '';

/** The `message` object of a whole answer. */
export function messageObject(completion: ChatCompletion, metadata: Record<string, unknown>): MessageObject {
  return {
    id: newId('msg'),
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content: contentBlocks(completion),
    stop_reason: stopReasonOf(completion.choices[0]?.finish_reason, isRefusal(completion.choices[0]?.message.refusal)),
    stop_sequence: null,
    usage: messagesUsage(completion.usage),
    x_gateway: metadata,
  };
}
