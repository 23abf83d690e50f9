// functions/core/ingress/openai-responses — the OpenAI Responses API (POST /v1/responses) as an
// ingress adapter over the canonical model: its request is translated into a chat request, and
// the canonical answer into the `response` object or its typed event stream. Every provider serves
// it through that translation (OpenAI through chat completions).
//
// Stored responses are not kept yet: `store` is echoed, `previous_response_id` is refused. The
// finished `response` object (`finishedResponse`) and the canonical messages it answered are what
// a response store keeps, so that a later request can continue the conversation.
import type { ChatCompletion, ChatCompletionRequest } from '../../chat/model';
import type { GatewayError } from '../../errors';
import type { ErrorBody } from '../../openai-types';
import { BEARER_KEY } from '../../tenant-auth';
import type { ChatIngress, GatewayMetadata, StreamHead, WireRequest } from '../ingress';
import { SSE_HEADERS } from '../openai-chat/stream-writer';
import { readResponsesRequest } from './read-request';
import { echoOf, finishedResponse, newId, outputItems } from './response-object';
import { ResponsesStreamWriter } from './stream-writer';

class OpenAiResponsesIngress implements ChatIngress {
  readonly method = 'POST';
  readonly path = '/v1/responses';
  readonly passThrough = false;
  readonly jsonHeaders: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
  readonly streamHeaders = SSE_HEADERS;
  readonly apiKey = BEARER_KEY;
  readonly readRequest = readResponsesRequest;

  renderCompletion(completion: ChatCompletion, _canonicalJson: string | undefined, metadata: GatewayMetadata, wire: WireRequest): string {
    const head = { id: newId('resp'), createdAt: completion.created, model: completion.model, echo: echoOf(wire) };
    const response = finishedResponse(head, outputItems(completion), completion.usage, completion.choices[0]?.finish_reason);
    response.x_gateway = metadata;
    return JSON.stringify(response);
  }

  openStream(_request: ChatCompletionRequest, head: StreamHead, wire: WireRequest): ResponsesStreamWriter {
    return new ResponsesStreamWriter({ id: newId('resp'), createdAt: head.created, model: head.model, echo: echoOf(wire) });
  }

  errorBody(err: GatewayError): ErrorBody {
    return err.toBody();
  }
}

export const openAiResponses: ChatIngress = new OpenAiResponsesIngress();
