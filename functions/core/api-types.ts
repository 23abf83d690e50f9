import type { CancelSignal } from './cancel';
import type { GatewayError } from './errors';

// The framework-free request and response the core handles. Each runtime (node:http locally;
// function URLs, API Gateway in AWS: functions/adapters/lambda) converts to and from these in a
// thin adapter.

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
  /**
   * The body as JSON, when the runtime edge has parsed it already (the Lambda edge runs middy's
   * JSON body parser): the value, or the parse's refusal (415/400). A handler that reads JSON
   * takes this instead of parsing `body` a second time (see `readJsonBody`), so both paths give
   * the same answer. Absent where nothing parsed the body (the local server).
   */
  parsedJson?: ParsedJson;
}

/** The outcome of parsing a request body as JSON. */
export type ParsedJson = { ok: true; value: unknown } | { ok: false; error: GatewayError };

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** A whole body, or SSE text chunks to be written (and flushed) as they come. */
  body: string | AsyncIterable<string>;
  /** 'base64': the whole `body` is binary content in base64 (a static file), sent as its bytes. */
  bodyEncoding?: 'base64';
}

/** One HTTP contract for every route and runtime: the local server and each Lambda edge call these. */
export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse>;

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
