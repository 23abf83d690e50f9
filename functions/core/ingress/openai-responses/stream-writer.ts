// The Responses API's stream: typed SSE events (`event: <type>` and its JSON, `sequence_number`
// counting from 0) written as canonical chunks arrive. The answer's text and function calls become
// output items, each opened (`output_item.added`), filled by deltas and closed (`output_item.done`)
// in order; the last event carries the whole response with its usage and `x_gateway`.
import type { ChatCompletionChunk, ChunkToolCallDelta, FinishReason, StreamChunk, Usage } from '../../chat/model';
import type { GatewayError } from '../../errors';
import type { GatewayMetadata, StreamWriter } from '../ingress';
import { failedResponse, finishedResponse, incompleteReason, newId, outputItemId, responseObject, type ResponseHead } from './response-object';
import type { FunctionCallItem, OutputItem, OutputMessage, OutputRefusal, OutputText, ResponseObject } from './types';

/** The message being written: its item, and the content part that is open in it. */
interface OpenMessage {
  item: OutputMessage;
  index: number;
  part: OutputText | OutputRefusal | undefined;
}

/** The function call being written, and the canonical tool-call index its deltas carry. */
interface OpenCall {
  item: FunctionCallItem;
  index: number;
  toolIndex: number;
}

export class ResponsesStreamWriter implements StreamWriter {
  private sequence = 0;
  private started = false;
  private readonly output: OutputItem[] = [];
  private message: OpenMessage | undefined;
  private call: OpenCall | undefined;
  private finish: FinishReason | null = null;
  private usage: Usage | undefined;

  /** `finished`: told the final response (completed or incomplete) as the stream's last event carries it. */
  constructor(
    private readonly head: ResponseHead,
    private readonly finished?: (response: ResponseObject) => void,
  ) {}

  chunk(chunk: StreamChunk): string {
    let out = this.start();
    if (chunk.usage) this.usage = chunk.usage;
    const parsed = JSON.parse(chunk.json) as ChatCompletionChunk;
    const choice = parsed.choices[0];
    if (!choice) return out;
    const { content, refusal, tool_calls: calls } = choice.delta;
    if (typeof content === 'string' && content !== '') out += this.text('output_text', content);
    if (typeof refusal === 'string' && refusal !== '') out += this.text('refusal', refusal);
    if (calls) for (const call of calls) out += this.callDelta(call);
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  end(usage: Usage | undefined, metadata: GatewayMetadata): string {
    const out = this.start() + this.closeMessage() + this.closeCall();
    const response = finishedResponse(this.head, this.output, usage ?? this.usage, this.finish);
    response.x_gateway = metadata;
    this.finished?.(response);
    return out + this.event(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  }

  error(err: GatewayError): string {
    // Items cut off by the fault stay as they are, marked incomplete.
    for (const item of this.output) if (item.status === 'in_progress') item.status = 'incomplete';
    return this.start() + this.event('response.failed', { response: failedResponse(this.head, this.output, err) });
  }

  /** The two events that open every stream, before its first output. */
  private start(): string {
    if (this.started) return '';
    this.started = true;
    return (
      this.event('response.created', { response: responseObject(this.head, 'in_progress', [], null) }) +
      this.event('response.in_progress', { response: responseObject(this.head, 'in_progress', [], null) })
    );
  }

  /** A piece of the message's text or refusal, opening the message and the part as needed. */
  private text(kind: 'output_text' | 'refusal', delta: string): string {
    let out = this.closeCall();
    if (!this.message) {
      const item: OutputMessage = {
        id: outputItemId('msg', this.head.id, this.output.length),
        type: 'message',
        status: 'in_progress',
        role: 'assistant',
        content: [],
      };
      this.message = { item, index: this.output.push(item) - 1, part: undefined };
      out += this.event('response.output_item.added', { output_index: this.message.index, item });
    }
    const message = this.message;
    if (message.part?.type !== kind) {
      out += this.closePart(message);
      const part: OutputText | OutputRefusal =
        kind === 'output_text' ? { type: 'output_text', text: '', annotations: [], logprobs: [] } : { type: 'refusal', refusal: '' };
      message.part = part;
      message.item.content.push(part);
      out += this.event('response.content_part.added', { ...this.at(message), part });
    }
    const part = message.part;
    if (part.type === 'output_text') {
      part.text += delta;
      return out + this.event('response.output_text.delta', { ...this.at(message), delta, logprobs: [] });
    }
    part.refusal += delta;
    return out + this.event('response.refusal.delta', { ...this.at(message), delta });
  }

  /** A piece of a function call: a new call (a new tool-call index) opens its own item. */
  private callDelta(delta: ChunkToolCallDelta): string {
    let out = '';
    if (!this.call || this.call.toolIndex !== delta.index || (delta.id !== undefined && delta.id !== this.call.item.call_id)) {
      out += this.closeMessage() + this.closeCall();
      const item: FunctionCallItem = {
        id: outputItemId('fc', this.head.id, this.output.length),
        type: 'function_call',
        status: 'in_progress',
        call_id: delta.id ?? newId('call'),
        name: delta.function?.name ?? '',
        arguments: '',
      };
      this.call = { item, index: this.output.push(item) - 1, toolIndex: delta.index };
      out += this.event('response.output_item.added', { output_index: this.call.index, item });
    } else if (delta.function?.name) {
      this.call.item.name += delta.function.name;
    }
    const args = delta.function?.arguments;
    if (!args) return out;
    this.call.item.arguments += args;
    return out + this.event('response.function_call_arguments.delta', { item_id: this.call.item.id, output_index: this.call.index, delta: args });
  }

  private closePart(message: OpenMessage): string {
    const part = message.part;
    if (!part) return '';
    message.part = undefined;
    const done =
      part.type === 'output_text'
        ? this.event('response.output_text.done', { ...this.at(message), text: part.text, logprobs: [] })
        : this.event('response.refusal.done', { ...this.at(message), refusal: part.refusal });
    return done + this.event('response.content_part.done', { ...this.at(message), part });
  }

  private closeMessage(): string {
    const message = this.message;
    if (!message) return '';
    const out = this.closePart(message);
    this.message = undefined;
    message.item.status = incompleteReason(this.finish) ? 'incomplete' : 'completed';
    return out + this.event('response.output_item.done', { output_index: message.index, item: message.item });
  }

  private closeCall(): string {
    const call = this.call;
    if (!call) return '';
    this.call = undefined;
    call.item.status = 'completed';
    return (
      this.event('response.function_call_arguments.done', {
        item_id: call.item.id,
        output_index: call.index,
        name: call.item.name,
        arguments: call.item.arguments,
      }) + this.event('response.output_item.done', { output_index: call.index, item: call.item })
    );
  }

  /** Where a content event belongs: the message item and its open part. */
  private at(message: OpenMessage): { item_id: string; output_index: number; content_index: number } {
    return { item_id: message.item.id, output_index: message.index, content_index: message.item.content.length - 1 };
  }

  private event(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...fields })}\n\n`;
  }
}
