// Splitting upstream byte streams into whole messages as soon as each one is complete:
// SSE events (OpenAI, Anthropic) and NDJSON lines (Ollama). Nothing is held back but a
// partial message at the end of a network chunk.
import { StringDecoder } from 'node:string_decoder';
import { GatewayError } from '../errors';

/** Maps whatever a broken body stream throws to a GatewayError the client can be told about. */
export function brokenStreamError(provider: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  return new GatewayError(502, `The connection to ${provider} broke mid-response${code ? ` (${code})` : ''}.`, {
    type: 'api_error', code: 'upstream_unreachable', retryable: true,
  });
}

/** Yields the `data` payload of each SSE event (multi-line data joined with "\n"). */
export async function* sseData(body: AsyncIterable<Buffer | string>, provider: string): AsyncGenerator<string> {
  for await (const block of splitOn(body, provider, /\r?\n\r?\n/)) {
    let data: string | undefined;
    for (const line of block.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue; // comments, event:, id:, retry: carry nothing we use
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? value : `${data}\n${value}`;
    }
    if (data !== undefined) yield data;
  }
}

/** Yields each non-empty line of an NDJSON body. */
export async function* ndjsonLines(body: AsyncIterable<Buffer | string>, provider: string): AsyncGenerator<string> {
  for await (const line of splitOn(body, provider, /\r?\n/)) {
    if (line.trim() !== '') yield line;
  }
}

async function* splitOn(body: AsyncIterable<Buffer | string>, provider: string, separator: RegExp): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  try {
    for await (const chunk of body) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      const parts = pending.split(separator);
      pending = parts.pop() ?? '';
      for (const part of parts) yield part;
    }
  } catch (err) {
    throw brokenStreamError(provider, err);
  }
  pending += decoder.end();
  if (pending.trim() !== '') yield pending;
}
