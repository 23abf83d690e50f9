// What every API response carries, and the access line of a request the accountant does not log
// (a refusal before any provider was asked, or a route that reaches none): with the accountant's
// "request completed" line, one line per request. Ids, status and code only: never the key, the
// prompt or the query string.
import type { ApiRequest, ApiResponse } from './api-types';
import type { Logger } from './logger';

/**
 * Answers are per caller and exactly typed: no shared cache may keep one (a completion, a usage
 * report, an error naming a tenant), and no browser may sniff a JSON error into HTML.
 */
export const API_HEADERS: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

/** The response with API_HEADERS, and the request id (which its access line names) if it has none. */
export function withApiHeaders(res: ApiResponse, requestId: string): ApiResponse {
  return { ...res, headers: { 'x-request-id': requestId, ...res.headers, ...API_HEADERS } };
}

/** Paths are client text: a long one is cut (an unknown path is logged as sent, up to this). */
const MAX_PATH_CHARS = 200;
/** Routes probed or scraped every few seconds: their successes are logged at debug, not info. */
const QUIET_PATHS = new Set(['/health', '/metrics']);

export interface AccessEntry {
  requestId: string;
  correlationId?: string;
  status: number;
  /** The refusal's code (`invalid_type`, `insufficient_quota`…); null for a success. */
  code: string | null;
  latencyMs: number;
}

export function logAccess(logger: Logger, req: Pick<ApiRequest, 'method' | 'path'>, e: AccessEntry): void {
  const quiet = e.status < 400 && QUIET_PATHS.has(req.path);
  const level = quiet ? 'debug' : 'info';
  if (logger.enabled && !logger.enabled(level)) return;
  const message = e.status >= 500 ? 'request failed' : e.status >= 400 ? 'request refused' : 'request served';
  const method = req.method.slice(0, 16);
  const path = req.path.slice(0, MAX_PATH_CHARS);
  // Literal objects, one per shape: cheaper than spreading an optional field in.
  logger[level](
    message,
    e.correlationId
      ? { request_id: e.requestId, correlation_id: e.correlationId, method, path, status: e.status, code: e.code, latency_ms: e.latencyMs }
      : { request_id: e.requestId, method, path, status: e.status, code: e.code, latency_ms: e.latencyMs },
  );
}
