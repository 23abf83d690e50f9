// The streaming wire formats the bench reads: what counts as the first event (for TTFB) and the
// text pieces a whole response body carried (to catch a path that buffers, drops or garbles them).
// The gateway answers chat completions in OpenAI SSE and the Responses API in its typed events;
// the direct paths speak each provider's own format.
import { EventStreamCodec } from '@smithy/eventstream-codec';

export interface StreamFormat {
  name: string;
  /** True once the bytes received so far hold the first event. */
  hasFirstEvent(received: Buffer): boolean;
  /** The text of each content-carrying event of a complete response body, in order. */
  textDeltas(body: Buffer): string[];
  /** What is wrong with how a complete body ends (undefined: nothing); only formats that say how the text ends. */
  endProblem?(body: Buffer, text: string): string | undefined;
}

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const field = (o: Json | undefined, k: string): Json | undefined => asObject(o?.[k]);
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** The non-empty strings `pick` finds in each event, in order. */
function texts(events: Json[], pick: (ev: Json) => unknown): string[] {
  const out: string[] = [];
  for (const ev of events) {
    const t = pick(ev);
    if (nonEmptyString(t)) out.push(t);
  }
  return out;
}

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
  textDeltas: (body) => texts(sseData(body), (ev) => field(asObject(Array.isArray(ev.choices) ? ev.choices[0] : undefined), 'delta')?.content),
};

/** The `output_text` of a Responses API `response` object's message items, joined. */
function responseText(response: Json | undefined): string {
  const output = Array.isArray(response?.output) ? response.output : [];
  let text = '';
  for (const item of output.map(asObject)) {
    if (item?.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content.map(asObject)) if (part?.type === 'output_text' && typeof part.text === 'string') text += part.text;
  }
  return text;
}

const FIRST_TEXT_DELTA = 'event: response.output_text.delta\n';

/** The Responses API's typed SSE events: text arrives in response.output_text.delta events. */
export const responsesSse: StreamFormat = {
  name: 'responses-sse',
  // The first text delta, complete (its blank-line terminator received), not the opening events.
  hasFirstEvent: (received) => {
    const at = received.indexOf(FIRST_TEXT_DELTA);
    return at >= 0 && received.includes('\n\n', at);
  },
  textDeltas: (body) => texts(sseData(body), (ev) => (ev.type === 'response.output_text.delta' ? ev.delta : undefined)),
  // Complete = numbered 0, 1, 2, ... and ended by response.completed whose output holds the same text.
  endProblem: (body, text) => {
    const events = sseData(body);
    const gap = events.findIndex((ev, i) => ev.sequence_number !== i);
    if (gap >= 0) return `event ${gap} has sequence_number ${String(events[gap]?.sequence_number)}`;
    const last = events.at(-1);
    if (last?.type !== 'response.completed') return `last event is ${String(last?.type)}, not response.completed`;
    const final = responseText(field(last, 'response'));
    return final === text ? undefined : `response.completed holds text ${JSON.stringify(final.slice(0, 80))}, the deltas ${JSON.stringify(text.slice(0, 80))}`;
  },
};

/** Anthropic Messages SSE: text arrives in content_block_delta events. */
export const anthropicSse: StreamFormat = {
  name: 'anthropic-sse',
  hasFirstEvent: (received) => received.includes('data:'),
  textDeltas: (body) => texts(sseData(body), (ev) => (ev.type === 'content_block_delta' ? field(ev, 'delta')?.text : undefined)),
};

/** Ollama /api/chat NDJSON: one JSON object per line, content in message.content until done. */
export const ollamaNdjson: StreamFormat = {
  name: 'ollama-ndjson',
  hasFirstEvent: (received) => received.includes(0x0a),
  textDeltas: (body) =>
    texts(
      body
        .toString('utf8')
        .split('\n')
        .map(parseObject)
        .filter((o): o is Json => o !== undefined),
      (o) => (o.done === false ? field(o, 'message')?.content : undefined),
    ),
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
  textDeltas: (body) => {
    const out: string[] = [];
    let offset = 0;
    // Bounded: every frame is at least PRELUDE_BYTES long, so offset strictly grows.
    while (body.length - offset >= PRELUDE_BYTES) {
      const len = body.readUInt32BE(offset);
      if (len < PRELUDE_BYTES || offset + len > body.length) break;
      const msg = codec.decode(body.subarray(offset, offset + len));
      offset += len;
      const type = msg.headers[':event-type'];
      if (type?.type !== 'string' || type.value !== 'contentBlockDelta') continue;
      const text = field(parseObject(Buffer.from(msg.body).toString('utf8')), 'delta')?.text;
      if (nonEmptyString(text)) out.push(text);
    }
    return out;
  },
};
