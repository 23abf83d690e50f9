// OpenAI's chat-completions stream, as OpenAI's own streams end: every chunk carries at least one
// choice, and `x_gateway` rides on the last chunk, which is the one with a `finish_reason` or, for
// clients that asked (`stream_options.include_usage`), the usage chunk (`choices: []`) after it;
// then `data: [DONE]`. Canonical chunks are OpenAI chunks already, so their bytes pass through;
// only the final one is held back until the stream ends, to have the metadata spliced in.
import type { StreamChunk, Usage } from '../../chat/model';
import type { GatewayError } from '../../errors';
import { spliceMetadata } from '../../sse';
import type { GatewayMetadata, StreamHead, StreamWriter } from '../ingress';

export const SSE_DONE = 'data: [DONE]\n\n';

export const sseEvent = (json: string): string => `data: ${json}\n\n`;

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/**
 * A chunk that ends a choice. Inside a JSON string every quote is escaped, so this pattern only
 * matches the property itself with a string value (not `null`), without parsing the chunk.
 */
const FINISHING = /"finish_reason"\s*:\s*"/;

export class OpenAiStreamWriter implements StreamWriter {
  /** The latest chunk with a finish_reason, written once a later chunk shows it is not the last. */
  private heldFinish: string | undefined;
  /** The usage-only chunk, which (for a client that asked) goes out last. */
  private heldUsage: string | undefined;
  private sawFinish = false;

  constructor(
    private readonly head: StreamHead,
    private readonly clientWantsUsage: boolean,
  ) {}

  chunk(chunk: StreamChunk): string {
    if (chunk.usageOnly) {
      if (this.clientWantsUsage) this.heldUsage = chunk.json;
      return '';
    }
    const earlier = this.releaseFinish();
    if (FINISHING.test(chunk.json)) {
      this.sawFinish = true;
      this.heldFinish = chunk.json;
      return earlier;
    }
    return earlier + sseEvent(chunk.json);
  }

  end(usage: Usage | undefined, metadata: GatewayMetadata): string {
    // A stream that ended without saying why still ends with a chunk that does.
    const finish = this.heldFinish ?? (this.sawFinish ? undefined : this.closingChunk('stop'));
    const usageJson = this.clientWantsUsage ? (this.heldUsage ?? (usage ? this.usageChunk(usage) : undefined)) : undefined;
    if (usageJson !== undefined) return (finish ? sseEvent(finish) : '') + sseEvent(spliceMetadata(usageJson, metadata)) + SSE_DONE;
    // Chunks that followed the finish (an upstream's odd order): the metadata gets a choice of its own.
    return sseEvent(spliceMetadata(finish ?? this.closingChunk(null), metadata)) + SSE_DONE;
  }

  error(err: GatewayError): string {
    // The client would have had the held chunk already, were it not held.
    return this.releaseFinish() + sseEvent(JSON.stringify(err.toBody()));
  }

  private releaseFinish(): string {
    const held = this.heldFinish;
    this.heldFinish = undefined;
    return held === undefined ? '' : sseEvent(held);
  }

  private closingChunk(finishReason: 'stop' | null): string {
    const { id, created, model } = this.head;
    const choice = { index: 0, delta: {}, finish_reason: finishReason, logprobs: null };
    return JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [choice] });
  }

  private usageChunk(usage: Usage): string {
    const { id, created, model } = this.head;
    return JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
  }
}
