// The streaming wire formats the bench reads: what counts as the first event (for TTFB) and how
// many content chunks a whole response body carried (to catch a path that buffers or drops them).
// The gateway always answers in OpenAI SSE; the direct paths speak each provider's own format.
import { EventStreamCodec } from '@smithy/eventstream-codec';

export interface StreamFormat {
  name: string;
  /** True once the bytes received so far hold the first event. */
  hasFirstEvent(received: Buffer): boolean;
  /** Content-carrying events in a complete response body. */
  contentChunks(body: Buffer): number;
}

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const field = (o: Json | undefined, k: string): Json | undefined => asObject(o?.[k]);
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

function parseObject(text: string): Json | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined; // not JSON: not a content chunk
  }
}

/** JSON payloads of the SSE `data:` lines ([DONE] and non-JSON lines are skipped). */
function sseData(body: Buffer): Json[] {
  const out: Json[] = [];
  for (const line of body.toString('utf8').split('\n')) {
    if (!line.startsWith('data:')) continue;
    const o = parseObject(line.slice(5).trim());
    if (o) out.push(o);
  }
  return out;
}

/** OpenAI chat-completion chunks (the gateway's output; the OpenAI direct path). */
export const openAiSse: StreamFormat = {
  name: 'openai-sse',
  // "data:" may be split across two reads, so the accumulated bytes are searched.
  hasFirstEvent: (received) => received.includes('data:'),
  // Events carrying a non-empty choices[0].delta.content.
  contentChunks: (body) =>
    sseData(body).filter((ev) => nonEmptyString(field(asObject(Array.isArray(ev.choices) ? ev.choices[0] : undefined), 'delta')?.content)).length,
};

/** Anthropic Messages SSE: text arrives in content_block_delta events. */
export const anthropicSse: StreamFormat = {
  name: 'anthropic-sse',
  hasFirstEvent: (received) => received.includes('data:'),
  contentChunks: (body) => sseData(body).filter((ev) => ev.type === 'content_block_delta' && nonEmptyString(field(ev, 'delta')?.text)).length,
};

/** Ollama /api/chat NDJSON: one JSON object per line, content in message.content until done. */
export const ollamaNdjson: StreamFormat = {
  name: 'ollama-ndjson',
  hasFirstEvent: (received) => received.includes(0x0a),
  contentChunks: (body) =>
    body
      .toString('utf8')
      .split('\n')
      .map(parseObject)
      .filter((o) => o !== undefined && o.done === false && nonEmptyString(field(o, 'message')?.content)).length,
};

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);
/** An event-stream frame starts with its own total length (4 bytes, big-endian). */
const PRELUDE_BYTES = 12;

/** Bedrock ConverseStream binary event stream: text arrives in contentBlockDelta frames. */
export const bedrockEventStream: StreamFormat = {
  name: 'bedrock-eventstream',
  hasFirstEvent: (received) => received.length >= PRELUDE_BYTES && received.length >= received.readUInt32BE(0),
  contentChunks: (body) => {
    let n = 0;
    let offset = 0;
    // Bounded: every frame is at least PRELUDE_BYTES long, so offset strictly grows.
    while (body.length - offset >= PRELUDE_BYTES) {
      const len = body.readUInt32BE(offset);
      if (len < PRELUDE_BYTES || offset + len > body.length) break;
      const msg = codec.decode(body.subarray(offset, offset + len));
      offset += len;
      const type = msg.headers[':event-type'];
      if (type?.type !== 'string' || type.value !== 'contentBlockDelta') continue;
      if (nonEmptyString(field(parseObject(Buffer.from(msg.body).toString('utf8')), 'delta')?.text)) n++;
    }
    return n;
  },
};
