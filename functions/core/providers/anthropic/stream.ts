// Anthropic SSE events → OpenAI chat.completion.chunk objects, one event at a time.
//
// message_start        → nothing yet (id, model and input usage remembered)
// content_block_start  → text: the role chunk {role, content: ""} if first, else nothing;
//                        tool_use: a tool_calls delta (index, id, type, name, arguments "")
// content_block_delta  → text_delta: content; input_json_delta: an arguments fragment for the
//                        same tool index; thinking_delta: `reasoning`; signature/citations: nothing
// content_block_stop   → nothing (but "{}" for a tool call that got no arguments at all)
// message_delta        → the finish chunk (stop_reason), cumulative usage remembered
// message_stop         → the usage-only chunk (choices: []), which the gateway may withhold
// ping, unknown events → nothing;  error → a GatewayError (the gateway ends the SSE with it)
import type { GatewayError } from '../../errors';
import { badResponse, truncatedStream } from '../stream-framing';
import type { ChatCompletionChunk, FinishReason, StreamChunk, StreamResult, Usage } from '../../chat/model';
import { finishReasonOf, mergeUsage, PROVIDER, streamError, usageOf } from './from-anthropic';
import type { AnthropicDelta, AnthropicResponseBlock, AnthropicUsage } from './types';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

interface EventShape {
  type?: unknown;
  index?: unknown;
  message?: { id?: unknown; model?: unknown; usage?: AnthropicUsage };
  content_block?: AnthropicResponseBlock;
  delta?: AnthropicDelta & { stop_reason?: string | null };
  usage?: AnthropicUsage;
  error?: { type?: unknown; message?: unknown };
}

const malformed = (what: string): GatewayError => badResponse(PROVIDER, what);

/** Translates one Anthropic stream; feed it every event in order. */
class StreamTranslator {
  id: string;
  model: string;
  /** True once message_stop arrived: the stream is complete. */
  done = false;
  private sentRole = false;
  private finished = false;
  private nextToolIndex = 0;
  /** Anthropic content-block index → OpenAI tool-call index (a per-stream counter of tool blocks). */
  private readonly toolIndex = new Map<number, number>();
  private readonly toolHasArgs = new Set<number>();
  private usage: AnthropicUsage = {};

  constructor(
    requestedModel: string,
    readonly created: number,
  ) {
    this.id = `msg_gateway_${created}`;
    this.model = requestedModel;
  }

  /** The OpenAI chunks for one event's parsed `data` (none for most bookkeeping events). */
  translate(e: EventShape): StreamChunk[] {
    if (this.done) return []; // nothing follows message_stop
    switch (e.type) {
      case 'message_start': {
        const m = e.message;
        if (typeof m?.id === 'string') this.id = m.id;
        if (typeof m?.model === 'string' && m.model !== '') this.model = m.model;
        this.mergeUsage(m?.usage);
        return []; // the role goes out with the first block, shaped as OpenAI shapes it
      }
      case 'content_block_start':
        return this.blockStart(e);
      case 'content_block_delta':
        return this.blockDelta(e);
      case 'content_block_stop': {
        // A tool call whose input never streamed would otherwise end with arguments "", which no client can parse.
        const index = typeof e.index === 'number' ? this.toolIndex.get(e.index) : undefined;
        if (index === undefined || this.toolHasArgs.has(index)) return [];
        this.toolHasArgs.add(index);
        return [this.chunk({ tool_calls: [{ index, function: { arguments: '{}' } }] })];
      }
      case 'message_delta':
        this.mergeUsage(e.usage);
        return [this.finish(finishReasonOf(e.delta?.stop_reason))];
      case 'message_stop': {
        const out = this.finished ? [] : [this.finish('stop')];
        this.done = true;
        const usage: Usage = usageOf(this.usage);
        const json = JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage });
        out.push({ json, usage, usageOnly: true });
        return out;
      }
      case 'error':
        throw streamError(e.error);
      default:
        return []; // ping, and event types newer than this translator
    }
  }

  private blockStart(e: EventShape): StreamChunk[] {
    const block = e.content_block;
    if (!block || typeof e.index !== 'number') return [];
    if (block.type === 'tool_use') {
      const b = block as { id?: unknown; name?: unknown };
      const index = this.nextToolIndex++;
      this.toolIndex.set(e.index, index);
      return [
        this.chunk({
          tool_calls: [
            { index, id: typeof b.id === 'string' ? b.id : '', type: 'function', function: { name: typeof b.name === 'string' ? b.name : '', arguments: '' } },
          ],
        }),
      ];
    }
    if (block.type === 'text') {
      // Text blocks start empty in practice; should one carry text, it is not lost. OpenAI's own
      // first chunk of a text answer is {role, content: ""}.
      const text = typeof block.text === 'string' ? block.text : '';
      return text !== '' || !this.sentRole ? [this.chunk({ content: text })] : [];
    }
    return [];
  }

  private blockDelta(e: EventShape): StreamChunk[] {
    const d = e.delta;
    if (!d) return [];
    if (d.type === 'text_delta' && typeof d.text === 'string') return d.text === '' ? [] : [this.chunk({ content: d.text })];
    if (d.type === 'input_json_delta' && typeof d.partial_json === 'string') {
      const index = typeof e.index === 'number' ? this.toolIndex.get(e.index) : undefined;
      if (index === undefined || d.partial_json === '') return [];
      this.toolHasArgs.add(index);
      return [this.chunk({ tool_calls: [{ index, function: { arguments: d.partial_json } }] })];
    }
    if (d.type === 'thinking_delta' && typeof d.thinking === 'string') return d.thinking === '' ? [] : [this.chunk({ reasoning: d.thinking })];
    return []; // signature_delta, citations_delta: no OpenAI counterpart
  }

  private finish(reason: FinishReason): StreamChunk {
    this.finished = true;
    return this.chunk({}, reason);
  }

  private mergeUsage(u: AnthropicUsage | undefined): void {
    mergeUsage(this.usage, u);
  }

  private chunk(delta: Delta, finish: FinishReason | null = null): StreamChunk {
    // The first chunk names the role, which OpenAI's stream helpers require.
    if (!this.sentRole) {
      this.sentRole = true;
      // Like OpenAI: a first chunk that opens with tool calls says content null.
      delta = delta.tool_calls && delta.content === undefined ? { role: 'assistant', content: null, ...delta } : { role: 'assistant', ...delta };
    }
    const c: ChatCompletionChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
    return { json: JSON.stringify(c) };
  }
}

function parseEvent(data: string): EventShape {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw malformed('a stream event that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw malformed('a stream event that is not a JSON object');
  return parsed as EventShape;
}

/**
 * Turns the `data` payloads of an Anthropic SSE body into a StreamResult. The first event is read
 * before returning, so the result carries Anthropic's message id and model, and a stream that
 * fails at once (an `error` event first, an empty body) still fails before the client got a
 * byte, where the gateway may fall back to another provider.
 */
export async function streamResultFrom(data: AsyncIterable<string>, requestedModel: string, created = Math.floor(Date.now() / 1000)): Promise<StreamResult> {
  const events = data[Symbol.asyncIterator]();
  const t = new StreamTranslator(requestedModel, created);
  const first = await events.next();
  if (first.done) throw truncatedStream(PROVIDER, 'message_stop');
  let head: StreamChunk[];
  try {
    head = t.translate(parseEvent(first.value));
  } catch (err) {
    await events.return?.(undefined);
    throw err;
  }

  async function* chunks(): AsyncGenerator<StreamChunk> {
    let ended = false;
    try {
      yield* head;
      while (!t.done) {
        const next = await events.next();
        if (next.done) {
          ended = true;
          throw truncatedStream(PROVIDER, 'message_stop');
        }
        yield* t.translate(parseEvent(next.value));
      }
      // Anthropic sends nothing after message_stop; reading to the end returns the socket to the pool.
      for (let next = await events.next(); !next.done; next = await events.next()) {
        /* drain */
      }
      ended = true;
    } finally {
      // A consumer that stops early (or an error event) must not leave the upstream body unread.
      if (!ended) await events.return?.(undefined);
    }
  }
  return { kind: 'stream', id: t.id, model: t.model, created, chunks: chunks() };
}
