// The Responses API's `response` object from a canonical completion: the output items, the status,
// the usage, and the request fields every response echoes.
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, FinishReason, Usage } from '../../chat/model';
import type { GatewayError } from '../../errors';
import { redactText } from '../../redact';
import type { WireRequest } from '../ingress';
import type { IncompleteReason, OutputItem, OutputMessage, ResponseObject, ResponseStatus, ResponseUsage, ResponsesRequest } from './types';

/** An id in OpenAI's style: the object's prefix (`resp`, `call`) and 48 hex digits. */
export const newId = (prefix: string): string => `${prefix}_${randomBytes(24).toString('hex')}`;

/** The kinds of output item the gateway answers with, by their id's prefix. */
export type OutputItemPrefix = 'msg' | 'fc';

/**
 * The id of the output item at `index` of the response `responseId`: the item's prefix, the
 * response's own random part and the index. Ids are opaque to clients; carrying the response's
 * lets an `item_reference` find the stored response that holds the item with one read.
 */
export const outputItemId = (prefix: OutputItemPrefix, responseId: string, index: number): string =>
  `${prefix}_${responseId.slice(responseId.indexOf('_') + 1)}_${index}`;

const OUTPUT_ITEM_ID = /^(?:msg|fc)_([0-9a-f]{48})_\d+$/;

/** The id of the response whose output holds the item `itemId`; undefined for an id the gateway did not mint. */
export function responseIdOfItem(itemId: string): string | undefined {
  const match = OUTPUT_ITEM_ID.exec(itemId);
  return match ? `resp_${match[1]}` : undefined;
}

/** The request fields a response echoes, as OpenAI fills them in when the request left them out. */
export type RequestEcho = Pick<
  ResponseObject,
  | 'instructions'
  | 'max_output_tokens'
  | 'parallel_tool_calls'
  | 'previous_response_id'
  | 'reasoning'
  | 'store'
  | 'temperature'
  | 'text'
  | 'tool_choice'
  | 'tools'
  | 'top_p'
  | 'user'
  | 'metadata'
>;

/** What a response echoes of the request `wire` (one `readResponsesRequest` accepted). */
export function echoOf(wire: WireRequest): RequestEcho {
  const request = wire as unknown as ResponsesRequest;
  return {
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    store: request.store !== false,
    temperature: request.temperature ?? null,
    text: { format: request.text?.format ?? { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: (request.tools ?? []).map((t) => ({
      type: 'function',
      name: t.name,
      description: t.description ?? null,
      parameters: t.parameters ?? null,
      strict: t.strict ?? null,
    })),
    top_p: request.top_p ?? null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** Who a response is and what it answers: fixed from the first event of a stream to its end. */
export interface ResponseHead {
  id: string;
  createdAt: number;
  model: string;
  echo: RequestEcho;
}

/** A response object in the state `status`, with `output` and `usage` as they stand. */
export function responseObject(head: ResponseHead, status: ResponseStatus, output: OutputItem[], usage: ResponseUsage | null): ResponseObject {
  return {
    id: head.id,
    object: 'response',
    created_at: head.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: head.echo.instructions,
    max_output_tokens: head.echo.max_output_tokens,
    model: head.model,
    output,
    parallel_tool_calls: head.echo.parallel_tool_calls,
    previous_response_id: head.echo.previous_response_id,
    reasoning: head.echo.reasoning,
    store: head.echo.store,
    temperature: head.echo.temperature,
    text: head.echo.text,
    tool_choice: head.echo.tool_choice,
    tools: head.echo.tools,
    top_p: head.echo.top_p,
    truncation: 'disabled',
    usage,
    user: head.echo.user,
    metadata: head.echo.metadata,
  };
}

/** Why an answer stopped short, if it did: the cap on output tokens, or a content filter. */
export function incompleteReason(finish: FinishReason | null | undefined): IncompleteReason | undefined {
  if (finish === 'length') return 'max_output_tokens';
  if (finish === 'content_filter') return 'content_filter';
  return undefined;
}

/** The finished response: `completed`, or `incomplete` with its reason. */
export function finishedResponse(head: ResponseHead, output: OutputItem[], usage: Usage | undefined, finish: FinishReason | null | undefined): ResponseObject {
  const reason = incompleteReason(finish);
  const response = responseObject(head, reason ? 'incomplete' : 'completed', output, toResponseUsage(usage));
  if (reason) response.incomplete_details = { reason };
  return response;
}

/** The response of a stream that failed after it started, with what it had produced. */
export function failedResponse(head: ResponseHead, output: OutputItem[], err: GatewayError): ResponseObject {
  const response = responseObject(head, 'failed', output, null);
  response.error = { code: err.code ?? (err.status >= 500 ? 'server_error' : 'invalid_request'), message: redactText(err.message) };
  return response;
}

function toResponseUsage(usage: Usage | undefined): ResponseUsage | null {
  if (!usage) return null;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** A whole canonical completion as the output items of the response `responseId`: the message (text, refusal), then each function call. */
export function outputItems(completion: ChatCompletion, responseId: string): OutputItem[] {
  const choice = completion.choices[0];
  if (!choice) return [];
  const status = incompleteReason(choice.finish_reason) ? 'incomplete' : 'completed';
  const { content, refusal, tool_calls: calls } = choice.message;
  const items: OutputItem[] = [];
  const parts: OutputMessage['content'] = [];
  if (content) parts.push({ type: 'output_text', text: content, annotations: [], logprobs: [] });
  if (refusal) parts.push({ type: 'refusal', refusal });
  // An answer with neither text nor calls is still one (empty) message.
  if (parts.length > 0 || !calls?.length) {
    if (parts.length === 0) parts.push({ type: 'output_text', text: '', annotations: [], logprobs: [] });
    items.push({ id: outputItemId('msg', responseId, items.length), type: 'message', status, role: 'assistant', content: parts });
  }
  for (const call of calls ?? []) {
    items.push({
      id: outputItemId('fc', responseId, items.length),
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    });
  }
  return items;
}
