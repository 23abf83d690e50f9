// The Responses API forwarded to an upstream that speaks it (OpenAI): the client's bytes go out
// unchanged when nothing about them changed, and OpenAI's answer comes back as it is (its ids,
// built-in tool calls and reasoning items included) with the gateway's metadata added.
//
// Decisions:
// - A whole answer has `x_gateway` spliced into OpenAI's JSON text; a stream passes every event
//   through as it arrives, and only its final event (`response.completed`, `.incomplete`,
//   `.failed`) is re-encoded with `x_gateway` in its response.
// - The answer is kept like a translated one: `response_json` is OpenAI's response, and the
//   conversation kept with it reads its message text and function calls (reasoning and built-in
//   tool items are in `response_json` only). Continued on OpenAI again, the request keeps its
//   `previous_response_id` (OpenAI kept that response under the same id, whole); continued
//   elsewhere, the other provider gets the expanded canonical history.
// - A stream cut after its first byte ends with an `error` event, OpenAI's own for a failed stream.
import type { ChatCompletionRequest } from '../../chat/model';
import type { GatewayError } from '../../errors';
import { redactText } from '../../redact';
import { spliceMetadata } from '../../sse';
import type { NativeStreamEvent } from '../../providers/provider';
import type { Json } from '../../validate';
import type { GatewayMetadata, NativeFinal, NativeIngress, NativeStreamWriter, NativeTarget, WireRequest } from '../ingress';
import { inputItems } from './input-items';
import { conversationOf, refusedWhenTranslated } from './read-request';
import type { KeepResponse } from './stored-turn';
import type { ResponseObject } from './types';

const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const OPENING_EVENTS = new Set(['response.created', 'response.in_progress']);

export class NativeResponses implements NativeIngress {
  readonly api = 'openai-responses';

  /**
   * `keep`: keeps the answer (absent when it is not to be kept). `continuedAt`: the provider that
   * keeps the continued conversation itself (StoredTurn.continuedAt).
   */
  constructor(
    private readonly keep?: KeepResponse,
    private readonly continuedAt?: string,
  ) {}

  translatedRefusal(wire: WireRequest): GatewayError | undefined {
    return refusedWhenTranslated(wire);
  }

  requestBody(request: ChatCompletionRequest, wire: WireRequest, rawBody: Buffer, target: NativeTarget, expanded: boolean): Buffer {
    const { model } = target;
    // The upstream that answered the continued response keeps its whole conversation (reasoning
    // and built-in tool items the canonical history has no place for): it is named by id there.
    const expand = expanded && target.provider !== this.continuedAt;
    if (!expand && model === wire.model) return rawBody;
    const body: Json = { ...wire, model };
    if (expand) {
      // The upstream knows neither the gateway's response ids nor its items: it is sent the conversation.
      body.input = inputItems(conversationOf(request, wire));
      delete body.previous_response_id;
    }
    return Buffer.from(JSON.stringify(body));
  }

  /** OpenAI's Responses API takes no client header the gateway would pass on. */
  forwardedHeaders(): Record<string, string> {
    return {};
  }

  answer(raw: string, wire: WireRequest): NativeFinal {
    const response = JSON.parse(raw) as ResponseObject;
    const previous = previousOf(wire);
    return {
      model: typeof response.model === 'string' ? response.model : undefined,
      finishReasons: () => stopReasonOf(response),
      render: (metadata) => {
        // The upstream was sent the conversation instead of the gateway's id: the answer names it as the client did.
        if (previous !== undefined) response.previous_response_id = previous;
        const json = spliceMetadata(previous === undefined ? raw : withPrevious(raw, previous), metadata);
        this.keepResponse(response, metadata, json);
        return json;
      },
    };
  }

  openStream(wire: WireRequest): NativeStreamWriter {
    return new ForwardedStream(previousOf(wire), (response, metadata, json) => this.keepResponse(response, metadata, json));
  }

  private keepResponse(response: ResponseObject, metadata: GatewayMetadata, json: string | undefined): void {
    if (!this.keep || response.status === 'failed') return;
    response.x_gateway = metadata;
    this.keep(response, json);
  }
}

class ForwardedStream implements NativeStreamWriter {
  /** Events sent so far: the next event's sequence number. */
  private sent = 0;

  constructor(
    private readonly previous: string | undefined,
    private readonly finished: (response: ResponseObject, metadata: GatewayMetadata, json: string | undefined) => void,
  ) {}

  isFinal(event: NativeStreamEvent): boolean {
    return FINAL_EVENTS.has(event.type);
  }

  /** The `*.delta` events carry the generated text (their `delta`). */
  carriesText(event: NativeStreamEvent): boolean {
    return event.type.endsWith('.delta');
  }

  pass(event: NativeStreamEvent): string {
    this.sent += 1;
    // The events that carry the response in progress name the conversation as the client did, as the final one does.
    if (this.previous !== undefined && OPENING_EVENTS.has(event.type)) return sseEvent(event.type, withPrevious(event.data, this.previous));
    return sseEvent(event.type, event.data);
  }

  final(event: NativeStreamEvent): NativeFinal {
    const parsed = JSON.parse(event.data) as { response?: ResponseObject };
    const response = parsed.response;
    return {
      model: typeof response?.model === 'string' ? response.model : undefined,
      finishReasons: () => (response ? stopReasonOf(response) : undefined),
      render: (metadata) => {
        this.sent += 1;
        if (!response) return sseEvent(event.type, event.data);
        if (this.previous !== undefined) response.previous_response_id = this.previous;
        response.x_gateway = metadata;
        this.finished(response, metadata, undefined);
        return sseEvent(event.type, JSON.stringify(parsed));
      },
    };
  }

  error(err: GatewayError): string {
    const data = { type: 'error', sequence_number: this.sent++, code: err.code ?? 'server_error', message: redactText(err.message), param: null };
    return sseEvent('error', JSON.stringify(data));
  }
}

/**
 * Why a response stopped, as the Responses API says it: why it is incomplete
 * (`max_output_tokens`, `content_filter`), else its status (`completed`, `failed`, ...).
 */
function stopReasonOf(response: ResponseObject): string[] | undefined {
  const reason = response.incomplete_details?.reason ?? response.status;
  return typeof reason === 'string' ? [reason] : undefined;
}

/** A response's JSON text (or an event's carrying one) with its `previous_response_id` set, without re-encoding it. */
const withPrevious = (json: string, previous: string): string =>
  json.replace(/"previous_response_id"\s*:\s*null/, `"previous_response_id":${JSON.stringify(previous)}`);

const previousOf = (wire: WireRequest): string | undefined => (typeof wire.previous_response_id === 'string' ? wire.previous_response_id : undefined);

const sseEvent = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;
