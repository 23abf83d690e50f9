// Splitting upstream byte streams into whole messages as soon as each one is complete:
// SSE events (OpenAI, Anthropic) and NDJSON lines (Ollama). Nothing is held back but a
// partial line at the end of a network chunk.
//
// Linear in the bytes: each chunk is searched once for '\n' (natively, on the Buffer) and a
// partial line is kept as a list of slices, joined once when its newline arrives. The former
// splitter re-ran a regex over the whole pending text for every chunk, so one 50 MB event
// without a separator cost 20+ s of CPU. A line or an event over `maxBytes` is a provider fault.
import type { NativeStream, NativeStreamEvent } from './provider';
import { GatewayError } from '../errors';

/** Default cap on a sync answer and on a single stream event (MAX_RESPONSE_BYTES). */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

const NEWLINE = 10;
const CR = 13;

/** Maps whatever a broken body stream throws to a GatewayError the client can be told about. */
export function brokenStreamError(provider: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  return new GatewayError(502, `The connection to ${provider} broke mid-response${code ? ` (${code})` : ''}.`, {
    type: 'api_error',
    code: 'upstream_unreachable',
    retryable: true,
  });
}

/** An upstream answer (or one event of it) larger than MAX_RESPONSE_BYTES: a provider fault, retryable. */
export function responseTooLarge(provider: string, maxBytes: number, what: string): GatewayError {
  return new GatewayError(502, `${provider} sent ${what} over the gateway's ${maxBytes}-byte limit (MAX_RESPONSE_BYTES).`, {
    type: 'api_error',
    code: 'upstream_response_too_large',
    retryable: true,
  });
}

/**
 * The one rule for every provider: a stream whose connection closed before the provider's own
 * terminator (OpenAI `[DONE]`, Anthropic `message_stop`, Ollama `done: true`, Bedrock
 * `messageStop`/metadata) is a provider fault, never a complete answer.
 */
export function truncatedStream(provider: string, terminator: string): GatewayError {
  return new GatewayError(502, `${provider} ended the stream before its terminator (${terminator}): the answer is incomplete.`, {
    type: 'api_error',
    code: 'upstream_truncated',
    retryable: true,
  });
}

/** A body the provider sent that is not what it should be (malformed JSON, wrong media type): retryable. */
export function badResponse(provider: string, what: string): GatewayError {
  return new GatewayError(502, `${provider} sent ${what}.`, { type: 'api_error', code: 'upstream_bad_response', retryable: true });
}

/**
 * Yields the `data` payload of each SSE event (multi-line data joined with "\n"), as the SSE spec
 * parses it: line by line, a blank line dispatching the event. An event still open when the body
 * ends is dispatched too (recorded streams end without the final blank line); whether the stream
 * is complete is decided by the provider's terminator, not by the framing.
 */
export async function* sseData(body: AsyncIterable<Buffer | string>, provider: string, maxBytes = DEFAULT_MAX_RESPONSE_BYTES): AsyncGenerator<string> {
  let data: string | undefined;
  for await (const line of splitLines(body, provider, maxBytes)) {
    if (line === '') {
      if (data !== undefined) yield data;
      data = undefined;
      continue;
    }
    if (!line.startsWith('data:')) continue; // comments, event:, id:, retry: carry nothing we use
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
    // String length counts UTF-16 units, never more than the bytes they came from: a safe bound.
    if (data.length > maxBytes) throw responseTooLarge(provider, maxBytes, 'a stream event');
  }
  if (data !== undefined) yield data;
}

/** Yields each non-empty line of an NDJSON body (a last line without its newline included). */
export async function* ndjsonLines(body: AsyncIterable<Buffer | string>, provider: string, maxBytes = DEFAULT_MAX_RESPONSE_BYTES): AsyncGenerator<string> {
  for await (const line of splitLines(body, provider, maxBytes)) {
    if (line.trim() !== '') yield line;
  }
}

/**
 * Splits on '\n' (a preceding '\r' dropped); a last line without its newline is yielded too.
 * Cutting at a '\n' byte never splits a UTF-8 character, so each line is decoded on its own,
 * with no decoder state between chunks.
 */
async function* splitLines(body: AsyncIterable<Buffer | string>, provider: string, maxBytes: number): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  try {
    for await (const raw of body) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        let line = chunk.subarray(start, nl);
        if (pendingBytes > 0) {
          pending.push(line);
          line = Buffer.concat(pending, pendingBytes + line.length);
          pending = [];
          pendingBytes = 0;
        }
        if (line.length > maxBytes) throw responseTooLarge(provider, maxBytes, 'a stream line');
        start = nl + 1;
        yield decodeLine(line);
      }
      if (start < chunk.length) {
        pending.push(start === 0 ? chunk : chunk.subarray(start));
        pendingBytes += chunk.length - start;
        if (pendingBytes > maxBytes) throw responseTooLarge(provider, maxBytes, 'a stream event');
      }
    }
  } catch (err) {
    throw brokenStreamError(provider, err);
  }
  if (pendingBytes > 0) yield decodeLine(Buffer.concat(pending, pendingBytes));
}

function decodeLine(line: Buffer): string {
  const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  return line.toString('utf8', 0, end);
}

/**
 * A forwarded stream of a client API an upstream speaks itself (provider.forward): its events read
 * one by one with `read`, the first before this resolves (so a stream that fails at once can still
 * fall back), up to the event `isLast` names; the rest of the body is drained, not forwarded (the
 * answer is whole by then, and reading to the end returns the socket to the pool).
 */
export async function forwardedEvents(
  data: AsyncIterator<string>,
  read: (data: AsyncIterator<string>) => Promise<NativeStreamEvent>,
  isLast: (type: string) => boolean,
): Promise<NativeStream> {
  let head: NativeStreamEvent;
  try {
    head = await read(data);
  } catch (err) {
    await data.return?.(undefined);
    throw err;
  }
  async function* events(): AsyncGenerator<NativeStreamEvent> {
    let event = head;
    try {
      for (;;) {
        yield event;
        if (isLast(event.type)) break;
        event = await read(data);
      }
      try {
        while (!(await data.next()).done) {
          // drained
        }
      } catch {
        // the connection broke after the answer was whole
      }
    } finally {
      // A consumer that stops early (the client went away) releases the upstream connection.
      await data.return?.(undefined);
    }
  }
  return { kind: 'stream', events: events() };
}
