// The Messages API forwarded to an upstream that speaks it (Anthropic): the client's bytes go out
// unchanged unless the model changes, and Anthropic's answer comes back as it is (its ids,
// thinking signatures, server tool blocks, cache usage) with the gateway's metadata added.
//
// Decisions:
// - A whole answer has `x_gateway` spliced into Anthropic's JSON text. A stream passes every event
//   through as it arrives; `message_delta` (stop reason and final usage) is the event that settles
//   the answer, so it carries `x_gateway`, spliced into its JSON the same way; `message_stop`
//   still follows it. This is where a translated Messages stream carries `x_gateway` too.
// - `anthropic-beta` and `anthropic-version` are passed on: the betas change what the upstream
//   accepts and answers, and the version is the one the client's body and its parser are written
//   for. A client that sent no version gets the gateway's own (the provider's default).
// - A stream cut after its first byte ends with an `error` event, Anthropic's own way of failing
//   a stream, in the gateway's words (never the provider's text).
import type { ApiRequest } from '../../api-types';
import type { ChatCompletionRequest } from '../../chat/model';
import type { GatewayError } from '../../errors';
import type { NativeApi, NativeStreamEvent } from '../../providers/provider';
import { spliceMetadata } from '../../sse';
import type { NativeFinal, NativeIngress, NativeStreamWriter, NativeTarget, WireRequest } from '../ingress';
import { messagesErrorBody } from './errors';

/** The Messages API, as providers that speak it name it. */
export const MESSAGES_API: NativeApi = 'anthropic-messages';
/** The client headers forwarded with the body. */
const FORWARDED_HEADERS = ['anthropic-beta', 'anthropic-version'] as const;
/** The event that settles a Messages stream: its stop reason and final usage. */
const FINAL_EVENT = 'message_delta';
/** The event whose `message` names the model that answers. */
const OPENING_EVENT = 'message_start';
/** The events carrying generated text: text, tool input, thinking. */
const TEXT_EVENT = 'content_block_delta';

/** Why a request cannot be served translated (a tool only Anthropic runs), or undefined. */
export type TranslatedRefusal = (wire: WireRequest) => GatewayError | undefined;

export class NativeMessages implements NativeIngress {
  readonly api = MESSAGES_API;
  /** `refusal`: the Messages ingress's rule for requests only Anthropic can serve (none when absent). */
  constructor(private readonly refusal: TranslatedRefusal = () => undefined) {}

  translatedRefusal(wire: WireRequest): GatewayError | undefined {
    return this.refusal(wire);
  }

  /** The Messages API keeps no conversations, so the gateway never expands a request (`_expanded`). */
  requestBody(_request: ChatCompletionRequest, wire: WireRequest, rawBody: Buffer, target: NativeTarget, _expanded: boolean): Buffer {
    return messagesBody(wire, rawBody, target.model);
  }

  forwardedHeaders(headers: ApiRequest['headers']): Record<string, string> {
    return forwardedHeaders(headers);
  }

  answer(raw: string): NativeFinal {
    const message = JSON.parse(raw) as { stop_reason?: unknown };
    return { model: modelOf(message), finishReasons: () => stopReasons(message.stop_reason), render: (metadata) => spliceMetadata(raw, metadata) };
  }

  openStream(): NativeStreamWriter {
    return new ForwardedMessagesStream();
  }
}

class ForwardedMessagesStream implements NativeStreamWriter {
  /** The model `message_start` named, which the final event does not repeat. */
  private model: string | undefined;

  isFinal(event: NativeStreamEvent): boolean {
    return event.type === FINAL_EVENT;
  }

  carriesText(event: NativeStreamEvent): boolean {
    return event.type === TEXT_EVENT;
  }

  pass(event: NativeStreamEvent): string {
    if (event.type === OPENING_EVENT) this.model = modelOf((JSON.parse(event.data) as { message?: unknown }).message);
    return sseEvent(event.type, event.data);
  }

  final(event: NativeStreamEvent): NativeFinal {
    return {
      model: this.model,
      // The final event carries the stop reason (`delta.stop_reason`): parsed only when asked.
      finishReasons: () => stopReasons((JSON.parse(event.data) as { delta?: { stop_reason?: unknown } }).delta?.stop_reason),
      render: (metadata) => sseEvent(event.type, spliceMetadata(event.data, metadata)),
    };
  }

  error(err: GatewayError): string {
    return sseEvent('error', JSON.stringify(messagesErrorBody(err)));
  }
}

/**
 * The client's bytes, or its body re-encoded: for another model (a route, a `provider/` prefix),
 * and without the unsigned thinking blocks the gateway wrote for another provider's reasoning.
 */
export function messagesBody(wire: WireRequest, rawBody: Buffer, model: string): Buffer {
  const unsigned = UNSIGNED.some((form) => rawBody.includes(form));
  if (model === wire.model && !unsigned) return rawBody;
  return Buffer.from(JSON.stringify({ ...wire, model, ...(unsigned ? { messages: withoutUnsignedThinking(wire.messages) } : {}) }));
}

/** A thinking block's empty signature (as the gateway answers another provider's reasoning), in compact and spaced JSON. */
const UNSIGNED = ['"signature":""', '"signature": ""'];

/**
 * The messages without unsigned thinking blocks: only Anthropic can sign its reasoning, and it
 * refuses a block it did not sign (a conversation that another provider answered before, e.g. on
 * fallback, comes back with such blocks).
 */
function withoutUnsignedThinking(messages: unknown): unknown {
  if (!Array.isArray(messages)) return messages;
  return messages.map((message: unknown) => {
    const content = (message as { content?: unknown }).content;
    if (!Array.isArray(content)) return message;
    const kept = content.filter(
      (block: unknown) => !((block as { type?: unknown }).type === 'thinking' && (block as { signature?: unknown }).signature === ''),
    );
    return kept.length === content.length ? message : { ...(message as object), content: kept };
  });
}

/** The client's headers that go upstream with a forwarded Messages request (count_tokens included). */
export function forwardedHeaders(headers: ApiRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

const modelOf = (message: unknown): string | undefined => {
  const model = typeof message === 'object' && message !== null ? (message as { model?: unknown }).model : undefined;
  return typeof model === 'string' && model !== '' ? model : undefined;
};

/** An answer's `stop_reason` (`end_turn`, `max_tokens`, ...) as the span's finish reasons. */
const stopReasons = (reason: unknown): string[] | undefined => (typeof reason === 'string' ? [reason] : undefined);

/** `event: <type>\ndata: <json>\n\n`, as Anthropic frames every event. */
const sseEvent = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;
