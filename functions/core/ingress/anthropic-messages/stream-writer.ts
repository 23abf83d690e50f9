// The Messages API's stream: typed SSE events (`event: <type>` and its JSON) written as canonical
// chunks arrive. `message_start` (the message with its usage so far) and a `ping` open it; the
// answer's reasoning, text and tool calls become content blocks, each opened
// (`content_block_start`), filled by deltas (`thinking_delta`, `text_delta`, `input_json_delta`)
// and closed (`content_block_stop`) in order; `message_delta` carries the stop reason, the final
// usage and `x_gateway`, and `message_stop` ends it.
//
// Input tokens are known only once the provider's final usage arrives: `message_start` says 0,
// and `message_delta` carries the real counts (Anthropic's SDKs take them from there).
import type { ChatCompletionChunk, ChunkToolCallDelta, FinishReason, StreamChunk, Usage } from '../../chat/model';
import type { GatewayError } from '../../errors';
import type { GatewayMetadata, StreamHead, StreamWriter } from '../ingress';
import { messagesErrorBody } from './errors';
import { messagesUsage, newId, reasoningOf, stopReasonOf } from './message-object';
import type { MessageObject } from './types';

/** The content block being written: its kind, and for a tool call the canonical index its deltas carry. */
type OpenBlock = { kind: 'thinking' | 'text' } | { kind: 'tool_use'; toolIndex: number; id: string };

export class MessagesStreamWriter implements StreamWriter {
  private started = false;
  /** Blocks opened so far: the next block's index. */
  private blocks = 0;
  private open: OpenBlock | undefined;
  private finish: FinishReason | null = null;
  private refused = false;
  private usage: Usage | undefined;

  constructor(private readonly head: StreamHead) {}

  chunk(chunk: StreamChunk): string {
    let out = this.start();
    if (chunk.usage) this.usage = chunk.usage;
    const parsed = JSON.parse(chunk.json) as ChatCompletionChunk;
    const choice = parsed.choices[0];
    if (!choice) return out;
    const { content, refusal, tool_calls: calls } = choice.delta;
    const reasoning = reasoningOf(choice.delta);
    if (reasoning) out += this.text('thinking', reasoning);
    if (typeof content === 'string' && content !== '') out += this.text('text', content);
    if (typeof refusal === 'string' && refusal !== '') {
      this.refused = true;
      out += this.text('text', refusal);
    }
    if (calls) for (const call of calls) out += this.toolDelta(call);
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  end(usage: Usage | undefined, metadata: GatewayMetadata): string {
    const out = this.start() + this.close();
    const delta = { stop_reason: stopReasonOf(this.finish, this.refused), stop_sequence: null };
    return (
      out +
      event('message_delta', { type: 'message_delta', delta, usage: messagesUsage(usage ?? this.usage), x_gateway: metadata }) +
      event('message_stop', { type: 'message_stop' })
    );
  }

  error(err: GatewayError): string {
    // Anthropic ends a failed stream with the error event alone: the open block stays unclosed.
    return this.start() + event('error', messagesErrorBody(err));
  }

  /** The two events that open every stream, before its first block. */
  private start(): string {
    if (this.started) return '';
    this.started = true;
    const message: MessageObject = {
      id: newId('msg'),
      type: 'message',
      role: 'assistant',
      model: this.head.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: messagesUsage(undefined),
    };
    return event('message_start', { type: 'message_start', message }) + event('ping', { type: 'ping' });
  }

  /** A piece of reasoning or text, opening its block (and closing another) as needed. */
  private text(kind: 'thinking' | 'text', piece: string): string {
    let out = '';
    if (this.open?.kind !== kind) {
      out += this.close() + this.openBlock({ kind }, kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' });
    }
    const delta = kind === 'text' ? { type: 'text_delta', text: piece } : { type: 'thinking_delta', thinking: piece };
    return out + event('content_block_delta', { type: 'content_block_delta', index: this.blocks - 1, delta });
  }

  /** A piece of a tool call: a new call (a new tool-call index or id) opens its own block. */
  private toolDelta(call: ChunkToolCallDelta): string {
    let out = '';
    const open = this.open;
    if (open?.kind !== 'tool_use' || open.toolIndex !== call.index || (call.id !== undefined && call.id !== open.id)) {
      const id = call.id || newId('toolu');
      out +=
        this.close() + this.openBlock({ kind: 'tool_use', toolIndex: call.index, id }, { type: 'tool_use', id, name: call.function?.name ?? '', input: {} });
    }
    const args = call.function?.arguments;
    if (!args) return out;
    return out + event('content_block_delta', { type: 'content_block_delta', index: this.blocks - 1, delta: { type: 'input_json_delta', partial_json: args } });
  }

  private openBlock(block: OpenBlock, contentBlock: Record<string, unknown>): string {
    this.open = block;
    return event('content_block_start', { type: 'content_block_start', index: this.blocks++, content_block: contentBlock });
  }

  private close(): string {
    if (!this.open) return '';
    this.open = undefined;
    return event('content_block_stop', { type: 'content_block_stop', index: this.blocks - 1 });
  }
}

const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
