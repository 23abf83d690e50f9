// Bedrock Converse output → OpenAI: the sync answer → chat.completion, ConverseStream events →
// chat.completion.chunk objects.
//
// messageStart       → the role chunk
// contentBlockStart  → toolUse: a tool_calls delta (per-stream index, id, type, name, arguments "")
// contentBlockDelta  → text: content; toolUse.input: an arguments fragment for the same index;
//                      reasoningContent.text: `reasoning`
// contentBlockStop   → nothing
// messageStop        → the finish chunk
// metadata           → the usage-only chunk (choices: []), which the gateway may withhold
// exception members  → a GatewayError (the SDK usually throws these itself; see errors.ts)
import type { ContentBlock, ConverseCommandOutput, ConverseStreamOutput, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import { GatewayError } from '../../core/errors';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, StreamChunk, ToolCall, Usage } from '../../core/chat/model';
import { truncatedStream } from '../../core/providers/stream-framing';
import { bedrockError, PROVIDER } from './errors';

/** What every completion or chunk of one answer shares. */
export interface AnswerMeta {
  id: string;
  created: number;
  model: string;
}

/**
 * The field of `usage.prompt_tokens_details` that carries prompt-cache writes, priced as
 * cache_write_tokens. Same name as the Anthropic provider's (LiteLLM's name).
 */
const CACHE_WRITE_FIELD = 'cache_creation_tokens';

/**
 * stopReason → finish_reason. guardrail_intervened and content_filtered are filtering;
 * model_context_window_exceeded cut the answer short, as max_tokens does; the malformed_* values
 * and anything newer end the answer as a plain stop.
 */
const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

export function finishReasonOf(stopReason: string | undefined): FinishReason {
  return (stopReason ? FINISH_REASONS[stopReason] : undefined) ?? 'stop';
}

/**
 * Bedrock's inputTokens counts only the uncached part of the prompt; cache reads and writes are
 * reported beside it (AWS prompt-caching guide: total input = inputTokens + cacheReadInputTokens +
 * cacheWriteInputTokens). OpenAI's prompt_tokens is the whole prompt, with the cached part in
 * prompt_tokens_details.cached_tokens.
 */
export function usageOf(u: TokenUsage | undefined): Usage {
  const read = u?.cacheReadInputTokens ?? 0;
  const write = u?.cacheWriteInputTokens ?? 0;
  const prompt = (u?.inputTokens ?? 0) + read + write;
  const completion = u?.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: read, [CACHE_WRITE_FIELD]: write },
  };
}

/** Translates a Converse answer into an OpenAI chat.completion. */
export function toOpenAICompletion(out: Pick<ConverseCommandOutput, 'output' | 'stopReason' | 'usage'>, meta: AnswerMeta): ChatCompletion {
  const texts: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: ToolCall[] = [];
  const blocks: ContentBlock[] = out.output?.message?.content ?? [];
  for (const block of blocks) {
    if (block.text !== undefined) texts.push(block.text);
    else if (block.toolUse) {
      const t = block.toolUse;
      toolCalls.push({ id: t.toolUseId ?? '', type: 'function', function: { name: t.name ?? '', arguments: JSON.stringify(t.input ?? {}) } });
    } else if (block.reasoningContent?.reasoningText?.text !== undefined) reasoning.push(block.reasoningContent.reasoningText.text);
    // images, citations, documents and newer block types have no OpenAI counterpart in an answer.
  }
  // OpenAI sends content null beside tool calls when there is no text.
  const content = texts.length > 0 ? texts.join('') : toolCalls.length > 0 ? null : '';
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning.length > 0) message.reasoning = reasoning.join('');
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: finishReasonOf(out.stopReason), logprobs: null }],
    usage: usageOf(out.usage),
  };
}

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/** Exception members of the stream union, should the SDK deliver one instead of throwing it. */
const EXCEPTION_MEMBERS = [
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'serviceUnavailableException',
] as const;

/** Translates ConverseStream events into OpenAI chunks; throws a GatewayError on a failing stream. */
export async function* toOpenAIChunks(events: AsyncIterable<ConverseStreamOutput>, meta: AnswerMeta): AsyncGenerator<StreamChunk> {
  let sentRole = false;
  let stopped = false;
  let nextToolIndex = 0;
  /** Converse content-block index → OpenAI tool-call index (a per-stream counter of tool blocks). */
  const toolIndex = new Map<number, number>();
  const chunk = (delta: Delta, finish: FinishReason | null = null): StreamChunk => {
    // The first chunk names the role, which OpenAI's stream helpers require.
    if (!sentRole) {
      sentRole = true;
      delta = { role: 'assistant', ...delta };
    }
    const c: ChatCompletionChunk = {
      id: meta.id,
      object: 'chat.completion.chunk',
      created: meta.created,
      model: meta.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
    return { json: JSON.stringify(c) };
  };

  for await (const event of events) {
    if (event.messageStart) {
      if (!sentRole) yield chunk({ content: '' });
    } else if (event.contentBlockStart) {
      const tool = event.contentBlockStart.start?.toolUse;
      if (!tool) continue;
      const index = nextToolIndex++;
      toolIndex.set(event.contentBlockStart.contentBlockIndex ?? 0, index);
      yield chunk({ tool_calls: [{ index, id: tool.toolUseId ?? '', type: 'function', function: { name: tool.name ?? '', arguments: '' } }] });
    } else if (event.contentBlockDelta) {
      const d = event.contentBlockDelta.delta;
      if (d?.text !== undefined) {
        if (d.text !== '') yield chunk({ content: d.text });
      } else if (d?.toolUse) {
        const index = toolIndex.get(event.contentBlockDelta.contentBlockIndex ?? 0);
        if (index === undefined) throw malformed('a tool input fragment for a block that never started');
        if (d.toolUse.input) yield chunk({ tool_calls: [{ index, function: { arguments: d.toolUse.input } }] });
      } else if (d?.reasoningContent?.text) {
        yield chunk({ reasoning: d.reasoningContent.text });
      }
    } else if (event.messageStop) {
      stopped = true;
      yield chunk({}, finishReasonOf(event.messageStop.stopReason));
    } else if (event.metadata) {
      const usage = usageOf(event.metadata.usage);
      const json = JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [], usage });
      yield { json, usage, usageOnly: true };
    } else {
      const member = EXCEPTION_MEMBERS.find((name) => event[name] !== undefined);
      if (member) throw bedrockError({ name: member, message: event[member]?.message ?? '' });
      // contentBlockStop and members newer than this translator carry nothing for OpenAI.
    }
  }
  if (!stopped) throw truncatedStream(PROVIDER, 'messageStop');
}

const malformed = (what: string): GatewayError =>
  new GatewayError(502, `${PROVIDER} sent ${what}.`, { type: 'api_error', code: 'upstream_bad_response', retryable: true });
