// functions/core/ingress/anthropic-messages — the Anthropic Messages API (POST /v1/messages, also
// as `/v1/messages?beta=true`, which Claude Code sends) as an ingress adapter over the canonical
// model: its request is translated into a chat request, and the canonical answer into the
// `message` object or its event stream, whatever provider answered. Anthropic itself is forwarded
// the client's request and its answer passed back (native.ts). Errors take Anthropic's shape
// and status codes. The key is read from `x-api-key` (Anthropic's SDKs) or `Authorization: Bearer`;
// `anthropic-version` and `anthropic-beta` are passed on to Anthropic and change nothing a translated provider does.
import type { ChatCompletion, ChatCompletionRequest } from '../../chat/model';
import type { GatewayError } from '../../errors';
import type { AnthropicErrorBody } from '../../providers/anthropic/types';
import { ANTHROPIC_KEY } from '../../tenant-auth';
import type { ChatIngress, GatewayMetadata, StreamHead } from '../ingress';
import { SSE_HEADERS } from '../openai-chat/stream-writer';
import { messagesErrorBody, messagesErrorStatus } from './errors';
import { messageObject } from './message-object';
import { readMessagesRequest, refusedWhenTranslated } from './read-request';
import { MessagesStreamWriter } from './stream-writer';
import { NativeMessages } from './native';

class AnthropicMessagesIngress implements ChatIngress {
  readonly method = 'POST';
  readonly path = '/v1/messages';
  readonly passThrough = false;
  readonly jsonHeaders: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
  readonly streamHeaders = SSE_HEADERS;
  readonly apiKey = ANTHROPIC_KEY;
  readonly readRequest = readMessagesRequest;
  /** Anthropic is forwarded the request itself; what only it can run (server tools) is refused elsewhere. */
  readonly native = new NativeMessages(refusedWhenTranslated);

  renderCompletion(completion: ChatCompletion, _canonicalJson: string | undefined, metadata: GatewayMetadata): string {
    return JSON.stringify(messageObject(completion, metadata));
  }

  openStream(_request: ChatCompletionRequest, head: StreamHead): MessagesStreamWriter {
    return new MessagesStreamWriter(head);
  }

  errorBody(err: GatewayError): AnthropicErrorBody {
    return messagesErrorBody(err);
  }

  errorStatus(err: GatewayError): number {
    return messagesErrorStatus(err);
  }
}

/** The Anthropic Messages API, served by every provider through the canonical model. */
export const anthropicMessages: ChatIngress = new AnthropicMessagesIngress();
