// Errors Node raises on a connection before the gateway can answer: a request that missed
// REQUEST_TIMEOUT (408) or that is not valid HTTP (400). Node's own default writes a bare status
// line and logs nothing; here the answer is an OpenAI-shaped error with the API headers, and the
// refusal gets its access line like every other request.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { logAccess, withApiHeaders } from '../core/access-log';
import { endRefusalSpan } from '../core/api-shell';
import { jsonResponse, type ApiRequest } from '../core/api-types';
import { CancelSignal } from '../core/cancel';
import { GatewayError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Span } from '../core/ports/telemetry';
import { requestIds } from '../core/request-context';
import { NO_SPAN } from '../core/telemetry';

const EMPTY = Buffer.alloc(0);

/** The response Node had created for the request, if its handler was already called. */
function pendingResponse(socket: Duplex): http.ServerResponse | undefined {
  return (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage ?? undefined;
}

export function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Duplex,
  logger: Logger,
  refusalSpan?: (req: Omit<ApiRequest, 'body'>, startMs: number) => Span,
): void {
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const error = timedOut
    ? new GatewayError(408, 'The request was not received within REQUEST_TIMEOUT; the connection is closed.', { code: 'request_timeout' })
    : new GatewayError(400, 'The request is not valid HTTP.', { code: 'bad_http_request' });
  const res = pendingResponse(socket);
  const req = res?.req;
  const head = {
    method: req?.method ?? '-',
    path: (req?.url ?? '-').split('?')[0] ?? '-',
    query: new URLSearchParams(),
    headers: (req?.headers as Record<string, string | undefined>) ?? {},
  };
  // A reset or a client that already left needs no answer, nor an access line of its own.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // HTTP's conventions name a method the server could not read `_OTHER`.
  const request = { ...head, method: req?.method ?? '_OTHER', signal: new CancelSignal() };
  const span = refusalSpan?.(request, Date.now()) ?? NO_SPAN;
  const ids = requestIds({ ...request, body: EMPTY }, span);
  endRefusalSpan(span, error.status, error.code);
  logAccess(logger, head, { requestId: ids.requestId, correlationId: ids.correlationId, status: error.status, code: error.code, latencyMs: 0 });
  if (!res?.headersSent) {
    // The same shape and headers as every other answer, written straight to the socket: Node has
    // no response object to write through here.
    const answer = withApiHeaders(jsonResponse(error.status, error.toBody()), ids.requestId);
    const body = answer.body as string;
    const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
    const reason = timedOut ? 'Request Timeout' : 'Bad Request';
    // Closed once written: the client may still be sending, and nothing more will be read.
    socket.end(
      `HTTP/1.1 ${error.status} ${reason}\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n')}\r\n\r\n${body}`,
      () => socket.destroy(),
    );
    return;
  }
  socket.destroy();
}
