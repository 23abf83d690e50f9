// functions/core/ingress/openai-responses — the OpenAI Responses API (POST /v1/responses) as an
// ingress adapter over the canonical model: its request is translated into a chat request, and
// the canonical answer into the `response` object or its typed event stream. A provider that speaks
// the Responses API itself (OpenAI) is forwarded the request instead, and its answer passed back
// (native.ts): its built-in tools and reasoning items keep working. Built-in tools are refused (400)
// only where the request's targets are all translated.
//
// Stored responses: unless a request says `store: false`, its finished response (completed or
// incomplete, whole or streamed, a cache hit too) is kept for its tenant with the conversation
// that continues it, written off the client's path (response-keeper.ts); `previous_response_id`
// continues a kept conversation on any provider (stored-turn.ts), and `item_reference` input items
// bring in single items of kept responses (item-references.ts). GET and DELETE
// /v1/responses/{id} read them back (core/responses-routes.ts).
import type { ChatCompletion, ChatCompletionRequest } from '../../chat/model';
import type { GatewayError } from '../../errors';
import type { ErrorBody } from '../../openai-types';
import type { Tenant } from '../../ports';
import { BEARER_KEY } from '../../tenant-auth';
import type { Json } from '../../validate';
import type { ChatIngress, GatewayMetadata, IngressTurn, StreamHead, WireRequest } from '../ingress';
import { SSE_HEADERS } from '../openai-chat/stream-writer';
import { readResponsesRequest, readResponsesRequestWithReferences } from './read-request';
import { echoOf, finishedResponse, newId, outputItems } from './response-object';
import type { ResponseKeeper } from './response-keeper';
import { NativeResponses } from './native';
import { beginStoredTurn, type KeepResponse } from './stored-turn';
import { ResponsesStreamWriter } from './stream-writer';

export { ResponseKeeper } from './response-keeper';

class OpenAiResponsesIngress implements ChatIngress {
  readonly method = 'POST';
  readonly path = '/v1/responses';
  readonly passThrough = false;
  readonly jsonHeaders: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
  readonly streamHeaders = SSE_HEADERS;
  readonly apiKey = BEARER_KEY;
  /** Item references are read only where there are stored responses to resolve them. */
  readonly readRequest: (body: Json) => ChatCompletionRequest;
  readonly native: NativeResponses;

  /**
   * `kept`: the stored responses (none: `previous_response_id` is refused and nothing is kept).
   * `keep`: set on the ingress that answers one request whose answer is to be kept.
   */
  constructor(
    private readonly kept: ResponseKeeper | undefined,
    private readonly keep?: KeepResponse,
    continuedAt?: string,
  ) {
    this.readRequest = kept ? readResponsesRequestWithReferences : readResponsesRequest;
    this.native = new NativeResponses(keep, continuedAt);
  }

  readonly beginTurn = async (tenant: Tenant, read: ChatCompletionRequest, wire: WireRequest): Promise<IngressTurn> => {
    const { request, keep, continuedAt, keptPromptChars } = await beginStoredTurn(this.kept, tenant, read, wire);
    return { request, ingress: keep || continuedAt ? new OpenAiResponsesIngress(this.kept, keep, continuedAt) : this, keptPromptChars };
  };

  renderCompletion(completion: ChatCompletion, _canonicalJson: string | undefined, metadata: GatewayMetadata, wire: WireRequest): string {
    const head = { id: newId('resp'), createdAt: completion.created, model: completion.model, echo: echoOf(wire) };
    const response = finishedResponse(head, outputItems(completion, head.id), completion.usage, completion.choices[0]?.finish_reason);
    response.x_gateway = metadata;
    const json = JSON.stringify(response);
    this.keep?.(response, json);
    return json;
  }

  openStream(_request: ChatCompletionRequest, head: StreamHead, wire: WireRequest): ResponsesStreamWriter {
    return new ResponsesStreamWriter({ id: newId('resp'), createdAt: head.created, model: head.model, echo: echoOf(wire) }, this.keep);
  }

  errorBody(err: GatewayError): ErrorBody {
    return err.toBody();
  }
}

/** The Responses API over the stored responses `kept` (none: it keeps nothing and refuses `previous_response_id`). */
export function openAiResponsesIngress(kept?: ResponseKeeper): ChatIngress {
  return new OpenAiResponsesIngress(kept);
}

/** The Responses API without stored responses. */
export const openAiResponses: ChatIngress = openAiResponsesIngress();
