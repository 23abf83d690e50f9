// What every API route is served inside, whatever the route: request ids, path matching with one
// trailing slash forgiven and prefix routes (404 unknown path, 405 with Allow), the MAX_BODY_BYTES
// limit (413), every failure as OpenAI's error JSON carrying x-request-id / x-correlation-id, the
// API headers on every answer, and one access line per request.
import { logAccess, withApiHeaders } from './access-log';
import { jsonResponse, type ApiHandler, type ApiRequest, type ApiResponse } from './api-types';
import { bodyTooLarge, GatewayError, notFound, toGatewayError } from './errors';
import type { Logger } from './logger';
import type { Span, Telemetry } from './ports/telemetry';
import { requestIds, type RequestIds } from './request-context';
import { StoreUnavailableError } from './store-guard';
import { NO_SPAN, NO_TELEMETRY } from './telemetry';

/** One route's answer; `ids` are the request's, minted by the shell. */
export type RouteHandler = (req: ApiRequest, ids: RequestIds) => Promise<ApiResponse>;

/** Method → handler. */
export type Route = Readonly<Record<string, RouteHandler>>;

/**
 * Path → route. A path ending in `/*` is a prefix: it serves every path that continues past its
 * final slash (`/v1/models/*` serves `/v1/models/ollama/llama3.2`); an exact path wins over it.
 */
export type RouteTable = Readonly<Record<string, Route>>;

/** The route serving a routed path: its exact entry, else the longest prefix entry it continues. */
export function routeFor(routes: RouteTable, path: string): Route | undefined {
  const key = routeKeyFor(routes, path);
  return key === undefined ? undefined : routes[key];
}

/** The table key serving a routed path (a request span's `http.route`): its own, else the longest prefix entry it continues. */
export function routeKeyFor(routes: RouteTable, path: string): string | undefined {
  if (routes[path]) return path;
  let best: string | undefined;
  for (const key of Object.keys(routes)) {
    if (!key.endsWith('/*')) continue;
    const prefix = key.slice(0, -1);
    if (path.length > prefix.length && path.startsWith(prefix) && (!best || key.length > best.length)) best = key;
  }
  return best;
}

/**
 * Who writes a request's access line. By default the shell writes every one; a server whose
 * pipelines log their own requests (the accountant's "request completed" line) says which it
 * leaves to them: `begin` is called as a request arrives, `shellLogs` once its answer is known.
 */
export interface AccessPolicy {
  begin(ids: RequestIds): void;
  shellLogs(path: string, ids: RequestIds, failed: boolean): boolean;
}

export interface ApiShellDeps {
  logger: Logger;
  now: () => number;
  maxBodyBytes: number;
  access?: AccessPolicy;
  /** Appended to the 404's message, e.g. "This API serves GET /v1/usage." */
  notFoundHint?: string;
  /** The error JSON for a path whose client API has its own error shape; OpenAI's otherwise. */
  errorBody?: (path: string, error: GatewayError) => unknown;
  /** The error's status for a path whose client API has its own status codes; the error's otherwise. */
  errorStatus?: (path: string, error: GatewayError) => number;
  /** Where each request's SERVER span goes; none are made when absent. */
  telemetry?: Telemetry;
}

/** The path as routed: one trailing slash (or several) does not make a different path. */
export const routedPath = (path: string): string => (path.length > 1 ? path.replace(/\/+$/, '') : path);

/** Serves `routes` inside the shell. The handler never throws. */
export function serveRoutes(routes: RouteTable, deps: ApiShellDeps): ApiHandler {
  const hint = deps.notFoundHint ? ` ${deps.notFoundHint}` : '';
  const access = (req: ApiRequest, ids: RequestIds, path: string, startedMs: number, status: number, code: string | null): void => {
    if (deps.access && !deps.access.shellLogs(path, ids, status >= 400)) return;
    logAccess(deps.logger, req, { requestId: ids.requestId, correlationId: ids.correlationId, status, code, latencyMs: deps.now() - startedMs });
  };
  const telemetry = deps.telemetry ?? NO_TELEMETRY;
  return async (req) => {
    const path = routedPath(req.path);
    const route = routeFor(routes, path);
    const span = telemetry.enabled ? serverSpan(telemetry, req, routeKeyFor(routes, path)) : NO_SPAN;
    const ids = requestIds(req, span);
    const startedMs = deps.now();
    deps.access?.begin(ids);
    try {
      if (!route) throw notFound(`Unknown path: ${req.method} ${req.path}.${hint}`);
      const handler = route[req.method];
      if (!handler) {
        const allowed = Object.keys(route).join(', ');
        throw new GatewayError(405, `Method ${req.method} is not allowed on ${req.path}; use ${allowed}.`, {
          code: 'method_not_allowed',
          headers: { allow: allowed },
        });
      }
      if (req.body.length > deps.maxBodyBytes) throw bodyTooLarge(deps.maxBodyBytes);
      const res = await handler(req, ids);
      access(req, ids, path, startedMs, res.status, null);
      return withApiHeaders(span === NO_SPAN ? res : endingSpan(res, span), ids.requestId);
    } catch (err) {
      const error = toGatewayError(err);
      // A store outage is logged once per change of state by its guard, not per request.
      if (error.status >= 500 && !(err instanceof GatewayError) && !(err instanceof StoreUnavailableError)) {
        deps.logger.error('unhandled error', { request_id: ids.requestId, error: err instanceof Error ? err.stack : String(err) });
      }
      const idHeaders: Record<string, string> = { 'x-request-id': ids.requestId };
      if (ids.correlationId) idHeaders['x-correlation-id'] = ids.correlationId;
      const status = deps.errorStatus ? deps.errorStatus(path, error) : error.status;
      access(req, ids, path, startedMs, status, error.code);
      if (span !== NO_SPAN) endSpan(span, status, error.code);
      const body = deps.errorBody ? deps.errorBody(path, error) : error.toBody();
      return withApiHeaders(jsonResponse(status, body, { ...idHeaders, ...error.headers }), ids.requestId);
    }
  };
}

/** A request's SERVER span, continuing the trace the client's `traceparent` names. */
export function serverSpan(telemetry: Telemetry, req: Omit<ApiRequest, 'body'>, route: string | undefined, startMs?: number): Span {
  const { traceparent, tracestate } = req.headers;
  const attributes: Record<string, string> = { 'http.request.method': req.method, 'url.path': req.path };
  if (route) attributes['http.route'] = route;
  return telemetry.startSpan(route ? `${req.method} ${route}` : req.method, {
    kind: 'server',
    parent: traceparent ? { traceparent, tracestate } : undefined,
    attributes,
    startMs,
  });
}

/** Ends a SERVER span with the answer's status; a 5xx is an error (`error.type`: its code, else the status). */
export function endSpan(span: Span, status: number, code: string | null): void {
  span.setAttributes({ 'http.response.status_code': status });
  if (status >= 500) span.recordError(code ?? String(status), `HTTP ${status}`);
  span.end();
}

/** Ends the SERVER span of a request refused before any route saw it: the status, and the refusal's code as `error.type`. */
export function endRefusalSpan(span: Span, status: number, code: string | null): void {
  if (span === NO_SPAN) return;
  span.setAttributes({ 'error.type': code ?? String(status) });
  endSpan(span, status, code);
}

/** The answer with its SERVER span ended once the answer is written: a stream's when it ends. */
function endingSpan(res: ApiResponse, span: Span): ApiResponse {
  if (typeof res.body === 'string') {
    endSpan(span, res.status, null);
    return res;
  }
  const chunks = res.body;
  async function* body(): AsyncGenerator<string> {
    try {
      yield* chunks;
    } finally {
      endSpan(span, res.status, null);
    }
  }
  return { ...res, body: body() };
}
