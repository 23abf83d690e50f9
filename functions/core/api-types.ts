import type { CancelSignal } from './cancel';

// The framework-free request and response the core handles. Each runtime (node:http locally,
// Lambda function URLs in AWS) converts to and from these in a thin adapter.

export interface ApiRequest {
  method: string;
  /** Path without the query string, e.g. "/v1/chat/completions". */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** Cancelled when the client disconnects. */
  signal: CancelSignal;
  /**
   * The peer's IP address as the server adapter saw it (the socket's, never a header's), so
   * rules such as "the admin API only from loopback" need no HTTP framework in the core.
   */
  remoteAddress?: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** A whole body, or SSE text chunks to be written (and flushed) as they come. */
  body: string | AsyncIterable<string>;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
