// OpenAI's chat-completions stream: each chunk as a `data:` event, the usage-only chunk only for
// clients that asked (`stream_options.include_usage`), then a final chunk carrying `x_gateway`
// and `data: [DONE]`. Canonical chunks are OpenAI chunks already, so their bytes pass through.
import type { StreamChunk, Usage } from '../../chat/model';
import type { GatewayError } from '../../errors';
import type { GatewayMetadata, StreamHead, StreamWriter } from '../ingress';

export const SSE_DONE = 'data: [DONE]\n\n';

export const sseEvent = (json: string): string => `data: ${json}\n\n`;

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

export class OpenAiStreamWriter implements StreamWriter {
  constructor(
    private readonly head: StreamHead,
    private readonly clientWantsUsage: boolean,
  ) {}

  chunk(chunk: StreamChunk): string {
    return chunk.usageOnly && !this.clientWantsUsage ? '' : sseEvent(chunk.json);
  }

  end(_usage: Usage | undefined, metadata: GatewayMetadata): string {
    const { id, created, model } = this.head;
    return sseEvent(JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], x_gateway: metadata })) + SSE_DONE;
  }

  error(err: GatewayError): string {
    return sseEvent(JSON.stringify(err.toBody()));
  }
}
