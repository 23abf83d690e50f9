// MAX_RESPONSE_BYTES for Bedrock. The SDK reads the HTTP body itself (a whole Converse answer, or
// whole event-stream frames), so the cap sits between its HTTP handler and its deserializer: a
// middleware at the deserialize step, below the SDK's own, wraps the raw body in a counter.
// Sync: the answer (announced or found) over the cap fails. Stream: a frame announcing a length
// over the cap fails at its 4-byte prelude, before the SDK buffers it.
import type { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { Readable } from 'node:stream';
import type { GatewayError } from '../../core/errors';
import { responseTooLarge } from '../../core/providers/stream-framing';
import { PROVIDER } from './errors';

/**
 * The error the cap raises, marked as carrying `$metadata` so the SDK's deserializer rethrows it
 * as it is (it appends a hint to the message of any other error).
 */
function tooLarge(maxBytes: number, what: string): GatewayError {
  const err = responseTooLarge(PROVIDER, maxBytes, what);
  Object.defineProperty(err, '$metadata', { value: {}, enumerable: false });
  return err;
}

/** What the cap found: set once a frame over the limit was dropped (the stream then ends there). */
export interface ResponseCap {
  error?: GatewayError;
}

/** A sync answer's bytes; fails once they pass `maxBytes`. */
async function* capAnswer(source: Readable, maxBytes: number): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > maxBytes) throw tooLarge(maxBytes, 'an answer');
      yield chunk;
    }
  } finally {
    source.destroy();
  }
}

/**
 * Follows the event-stream framing (a 4-byte big-endian total length opens each frame). The
 * frames before one over `maxBytes` are passed on; then the stream ends there and `cap.error`
 * says why, for the reader of the events to raise once it has had every event before it (an
 * error raised in the byte stream would drop those frames from the SDK's buffer).
 */
async function* capFrames(source: Readable, maxBytes: number, cap: ResponseCap): AsyncGenerator<Buffer> {
  let remaining = 0;
  let prelude = Buffer.alloc(0);
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let i = 0;
      while (i < chunk.length) {
        if (remaining > 0) {
          const take = Math.min(remaining, chunk.length - i);
          remaining -= take;
          i += take;
          continue;
        }
        const frameStart = i;
        const take = Math.min(4 - prelude.length, chunk.length - i);
        prelude = Buffer.concat([prelude, chunk.subarray(i, i + take)]);
        i += take;
        if (prelude.length < 4) break;
        const total = prelude.readUInt32BE(0);
        prelude = Buffer.alloc(0);
        if (total > maxBytes) {
          cap.error = tooLarge(maxBytes, 'an event');
          if (frameStart > 0) yield chunk.subarray(0, frameStart);
          return;
        }
        // A length below the prelude's own is malformed: the SDK's codec says so.
        remaining = Math.max(0, total - 4);
      }
      yield chunk;
    }
  } finally {
    source.destroy();
  }
}

/** The events of a capped stream: after the last whole one, the cap's error if it cut the stream. */
export async function* cappedEvents<T>(events: AsyncIterable<T>, cap: ResponseCap): AsyncGenerator<T> {
  try {
    for await (const e of events) yield e;
  } catch (err) {
    throw cap.error ?? err;
  }
  if (cap.error) throw cap.error;
}

/** The one slice of the SDK's middleware stack used here (its overloads do not narrow by step). */
type Handler = (args: unknown) => Promise<{ response: unknown; output?: unknown }>;
interface DeserializeStack {
  add(middleware: (next: Handler) => Handler, options: { step: 'deserialize'; priority: 'low'; name: string }): void;
}

interface RawResponse {
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

const isReadable = (b: unknown): b is Readable =>
  typeof b === 'object' && b !== null && typeof (b as Readable).pipe === 'function' && typeof (b as Readable).on === 'function';

/**
 * Caps what `command` may receive: `stream` counts per event-stream frame (read the events
 * through `cappedEvents` with the returned cap), otherwise the whole answer.
 */
export function capResponse(command: ConverseCommand | ConverseStreamCommand, maxBytes: number, stream: boolean): ResponseCap {
  const cap: ResponseCap = {};
  (command.middlewareStack as unknown as DeserializeStack).add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as RawResponse;
      const body = response?.body;
      if (!isReadable(body)) return result;
      const announced = Number(response.headers?.['content-length'] ?? response.headers?.['Content-Length']);
      if (!stream && Number.isFinite(announced) && announced > maxBytes) {
        body.destroy();
        throw tooLarge(maxBytes, 'an answer');
      }
      // A broken source fails the wrapper (the SDK sees that error); leaving early destroys the
      // source (its connection closes).
      response.body = Readable.from(stream ? capFrames(body, maxBytes, cap) : capAnswer(body, maxBytes), { objectMode: false });
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'gatewayResponseCap' },
  );
  return cap;
}
