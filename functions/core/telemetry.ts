// Spans through the telemetry port (ports/telemetry.ts): the no-op used when nothing exports, and
// the OpenTelemetry GenAI semantic-convention attributes the pipelines put on a provider call.
import type { ChatCompletion, ChatCompletionRequest, ChatMessage, Usage } from './chat/model';
import type { Attributes, Span, Telemetry } from './ports/telemetry';
import type { ProviderType } from './provider-names';
import { redactText } from './redact';

/**
 * The GenAI semantic conventions these attribute names follow: open-telemetry/semantic-conventions
 * v1.41.0, docs/gen-ai (development status), the last release before they moved to the
 * semantic-conventions-genai repository.
 */
export const GEN_AI_SEMCONV_VERSION = '1.41.0';

/** What a span does when nothing records it: one shared object, so no allocation per request. */
export const NO_SPAN: Span = {
  traceId: '00000000000000000000000000000000',
  spanId: '0000000000000000',
  traceparent: () => '',
  tracestate: () => undefined,
  setAttributes: () => {},
  recordError: () => {},
  addEvent: () => {},
  end: () => {},
};

export const NO_TELEMETRY: Telemetry = { enabled: false, startSpan: () => NO_SPAN };

/** The span event marking a stream's first chunk from the upstream. */
export const FIRST_CHUNK_EVENT = 'ai_gateway.first_chunk';
/** The first-chunk event's attribute: milliseconds from the provider call's start. */
export const TIME_TO_FIRST_CHUNK_MS = 'ai_gateway.time_to_first_chunk_ms';

/** `chat` and `embeddings` are the conventions' names; `count_tokens` (Anthropic's input-token count) has none there. */
export type GenAiOperation = 'chat' | 'embeddings' | 'count_tokens';

/** `gen_ai.provider.name`: the conventions' well-known value for each kind of upstream; a name the conventions lack stays as it is. */
export function genAiProviderName(type: ProviderType | undefined, name: string): string {
  switch (type) {
    case 'bedrock':
      return 'aws.bedrock';
    case 'azure-openai':
      return 'azure.ai.openai';
    case undefined:
      return name;
    default:
      return type;
  }
}

/** The CLIENT span's name: `{gen_ai.operation.name} {gen_ai.request.model}`. */
export const clientSpanName = (operation: GenAiOperation, model: string): string => `${operation} ${model}`;

/** The request's own parameters, each only when the client gave it. */
export function chatRequestAttributes(request: ChatCompletionRequest): Attributes {
  const attributes: Record<string, string | number | boolean> = { 'gen_ai.request.stream': request.stream === true };
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') attributes['gen_ai.request.max_tokens'] = maxTokens;
  if (typeof request.temperature === 'number') attributes['gen_ai.request.temperature'] = request.temperature;
  if (typeof request.top_p === 'number') attributes['gen_ai.request.top_p'] = request.top_p;
  return attributes;
}

/** Token counts the upstream reported; the cache and reasoning breakdowns only where known. */
export function usageAttributes(usage: Usage): Attributes {
  const attributes: Record<string, number> = {
    'gen_ai.usage.input_tokens': usage.prompt_tokens,
    'gen_ai.usage.output_tokens': usage.completion_tokens,
  };
  const cacheRead = usage.prompt_tokens_details?.cached_tokens;
  if (typeof cacheRead === 'number') attributes['gen_ai.usage.cache_read.input_tokens'] = cacheRead;
  const cacheCreation = usage.prompt_tokens_details?.cache_creation_tokens;
  if (typeof cacheCreation === 'number') attributes['gen_ai.usage.cache_creation.input_tokens'] = cacheCreation;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') attributes['gen_ai.usage.reasoning.output_tokens'] = reasoning;
  return attributes;
}

/** Why each choice of an answer stopped, in choice order (choices still going are skipped). */
export function finishReasonsOf(completion: ChatCompletion): string[] {
  const finish: string[] = [];
  for (const choice of completion.choices ?? []) if (choice.finish_reason) finish.push(choice.finish_reason);
  return finish;
}

const FINISH_REASON_KEY = '"finish_reason"';

/**
 * Adds the finish reasons a chat chunk's JSON names (`"finish_reason":"stop"`, one per choice
 * that ended) to `into`, by scanning the text: a stream's chunks are not parsed for telemetry.
 */
export function collectFinishReasons(json: string, into: string[]): void {
  for (let at = json.indexOf(FINISH_REASON_KEY); at !== -1; at = json.indexOf(FINISH_REASON_KEY, at + FINISH_REASON_KEY.length)) {
    let i = at + FINISH_REASON_KEY.length;
    while (json[i] === ' ' || json[i] === ':') i++;
    if (json[i] !== '"') continue; // null: that choice goes on
    const end = json.indexOf('"', i + 1);
    if (end !== -1) into.push(json.slice(i + 1, end));
  }
}

/** One message part in the conventions' shape. */
type MessagePart =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  | { type: 'tool_call_response'; id: string; response: string }
  | { type: string };

/** The parts of one message, text redacted of anything key-shaped; a non-text part keeps only its type. */
function partsOf(message: Pick<ChatMessage, 'role' | 'content' | 'tool_calls' | 'tool_call_id'>): MessagePart[] {
  const parts: MessagePart[] = [];
  const { content } = message;
  if (message.role === 'tool' && message.tool_call_id) {
    const text = typeof content === 'string' ? content : (content ?? []).map((p) => (p.type === 'text' ? String(p.text) : '')).join('');
    return [{ type: 'tool_call_response', id: message.tool_call_id, response: redactText(text) }];
  }
  if (typeof content === 'string') parts.push({ type: 'text', content: redactText(content) });
  else for (const part of content ?? []) parts.push(part.type === 'text' ? { type: 'text', content: redactText(String(part.text)) } : { type: part.type });
  for (const call of message.tool_calls ?? []) {
    parts.push({ type: 'tool_call', id: call.id, name: call.function.name, arguments: redactText(call.function.arguments) });
  }
  return parts;
}

/** `gen_ai.input.messages`: the request's messages as the conventions' parts-shaped JSON. */
export function inputMessagesJson(request: ChatCompletionRequest): string {
  return JSON.stringify(request.messages.map((m) => ({ role: m.role, parts: partsOf(m) })));
}

/** `gen_ai.output.messages`: each choice's message, with its finish reason. */
export function outputMessagesJson(completion: ChatCompletion): string {
  return JSON.stringify(
    (completion.choices ?? []).map((c) => ({
      role: 'assistant',
      parts: partsOf({ role: 'assistant', content: c.message.content, tool_calls: c.message.tool_calls }),
      finish_reason: c.finish_reason ?? 'stop',
    })),
  );
}
