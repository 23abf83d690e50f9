// A Messages API request forwarded to Anthropic as the client wrote it: the answer's bytes come
// back unchanged, and only what accounting needs is read from them (usage, the terminator, a
// mid-stream `error` event).
//
// A stream's usage is assembled as Anthropic reports it: `message_start` carries the input and
// cache counts, `message_delta` the cumulative output (and, on newer models, the input again).
// `message_delta` is the event that settles the answer, so it carries the assembled usage;
// `message_stop` follows it and ends the stream.
import type { NativeStream, NativeStreamEvent, NativeSync } from '../provider';
import { badResponse, forwardedEvents, sseData, truncatedStream } from '../stream-framing';
import { parseUpstreamJson, readText, type UpstreamResponse } from '../upstream-http';
import { mergeUsage, PROVIDER, streamError, usageOf } from './from-anthropic';
import type { AnthropicUsage } from './types';

const TERMINATOR = 'message_stop';
/** Anthropic writes `type` first; the fast path reads it without parsing the event. */
const LEADING_TYPE = /^\{\s*"type"\s*:\s*"([^"\\]+)"/;
/** The events read whole: those that carry usage, and the error. */
const PARSED_EVENTS = new Set(['message_start', 'message_delta', 'error']);

/** A whole Messages answer: its bytes, and its usage in the canonical shape. */
export async function nativeAnswer(res: UpstreamResponse, maxBytes: number | undefined): Promise<NativeSync> {
  const raw = await readText(res, PROVIDER, maxBytes);
  const parsed = parseUpstreamJson<unknown>(PROVIDER, raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badResponse(PROVIDER, 'a Messages answer that is not a JSON object');
  const usage = (parsed as { usage?: unknown }).usage;
  return typeof usage === 'object' && usage !== null ? { kind: 'json', raw, usage: usageOf(usage as AnthropicUsage) } : { kind: 'json', raw };
}

/**
 * A Messages stream forwarded event by event. The first event is read before resolving, so a
 * stream that fails at once (an `error` event, an empty body) can still fall back. The stream is
 * complete only at `message_stop`: a body that ends before it is a truncation.
 */
export async function nativeStream(res: UpstreamResponse, maxBytes: number | undefined): Promise<NativeStream> {
  const usage: AnthropicUsage = {};
  return forwardedEvents(
    sseData(res, PROVIDER, maxBytes)[Symbol.asyncIterator](),
    (data) => nextEvent(data, usage),
    (type) => type === TERMINATOR,
  );
}

async function nextEvent(data: AsyncIterator<string>, usage: AnthropicUsage): Promise<NativeStreamEvent> {
  const next = await data.next();
  if (next.done) throw truncatedStream(PROVIDER, TERMINATOR);
  return readEvent(next.value, usage);
}

/** One event's type (and, for `message_delta`, the usage assembled so far); an `error` event throws. */
function readEvent(data: string, usage: AnthropicUsage): NativeStreamEvent {
  const fast = LEADING_TYPE.exec(data)?.[1];
  if (fast !== undefined && !PARSED_EVENTS.has(fast)) return { type: fast, data };
  const parsed = parseEvent(data);
  const type = parsed.type;
  if (typeof type !== 'string') throw badResponse(PROVIDER, 'a stream event without a type');
  if (type === 'error') throw streamError(parsed.error);
  if (type === 'message_start') mergeUsage(usage, parsed.message?.usage);
  if (type !== 'message_delta') return { type, data };
  mergeUsage(usage, parsed.usage);
  return { type, data, usage: usageOf(usage) };
}

interface EventShape {
  type?: unknown;
  message?: { usage?: AnthropicUsage };
  usage?: AnthropicUsage;
  error?: { type?: unknown; message?: unknown };
}

function parseEvent(data: string): EventShape {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw badResponse(PROVIDER, 'a stream event that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw badResponse(PROVIDER, 'a stream event that is not a JSON object');
  return parsed as EventShape;
}

/** A count_tokens answer, `{"input_tokens": N}`: N. */
export async function countAnswer(res: UpstreamResponse): Promise<number> {
  const parsed = parseUpstreamJson<{ input_tokens?: unknown }>(PROVIDER, await readText(res, PROVIDER, COUNT_BYTES));
  const count = parsed?.input_tokens;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw badResponse(PROVIDER, 'a token count without input_tokens');
  return count;
}

/** A count answer is a few bytes: read no more than this of one. */
const COUNT_BYTES = 64 * 1024;
