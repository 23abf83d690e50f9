// functions/core/ingress/openai-chat — the OpenAI chat completions API as an ingress adapter: its
// request validation, answer and SSE stream rendering, and error shape. The canonical model follows
// this API, so nothing is translated and bytes pass through where they can.
//
// OpenAI chat completions (POST /v1/chat/completions): the canonical format itself, so requests
// pass to OpenAI-speaking upstreams as they came and answers keep the provider's bytes, with only
// `x_gateway` spliced in.
import { BEARER_KEY } from '../../tenant-auth';
import type { ChatCompletion, ChatCompletionRequest } from '../../chat/model';
import type { GatewayError } from '../../errors';
import type { ErrorBody } from '../../openai-types';
import { spliceMetadata } from '../../sse';
import type { ChatIngress, GatewayMetadata, StreamHead } from '../ingress';
import { OpenAiStreamWriter, SSE_HEADERS } from './stream-writer';
import { validateChatRequest } from './validate-request';

class OpenAiChatIngress implements ChatIngress {
  readonly method = 'POST';
  readonly path = '/v1/chat/completions';
  readonly passThrough = true;
  readonly jsonHeaders: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
  readonly streamHeaders = SSE_HEADERS;
  readonly readRequest = validateChatRequest;

  readonly apiKey = BEARER_KEY;

  renderCompletion(completion: ChatCompletion, canonicalJson: string | undefined, metadata: GatewayMetadata): string {
    return spliceMetadata(canonicalJson ?? JSON.stringify(completion), metadata);
  }

  openStream(request: ChatCompletionRequest, head: StreamHead): OpenAiStreamWriter {
    return new OpenAiStreamWriter(head, request.stream_options?.include_usage === true);
  }

  errorBody(err: GatewayError): ErrorBody {
    return err.toBody();
  }
}

export const openAiChat: ChatIngress = new OpenAiChatIngress();
