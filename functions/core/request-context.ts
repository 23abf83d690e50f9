// What the gateway knows about one request while serving it: its ids, its tenant, the attempts
// made, and the headers every answer carries.
import { randomBytes } from 'node:crypto';
import type { ApiRequest } from './api-types';
import type { CancelSignal } from './cancel';
import type { Tenant } from './ports';
import type { Span } from './ports/telemetry';
import { NO_SPAN } from './telemetry';

export interface RequestIds {
  requestId: string;
  /** The client's X-Request-ID, when it sent a usable one. */
  correlationId?: string;
  /** The SERVER span's trace id when telemetry is on; else the client's traceparent's, or minted. */
  traceId: string;
  /** The request's SERVER span (NO_SPAN when telemetry is off): provider calls are its children. */
  span: Span;
}

export interface Attempt {
  provider: string;
  model: string;
  status: number;
  latency_ms: number;
  error?: string;
}

export interface RequestContext extends RequestIds {
  startedMs: number;
  tenant: Tenant;
  /** Headers every answer to this request carries (rate-limit state). */
  headers: Record<string, string>;
  attempts: Attempt[];
  /** The client's cancellation (it went away): also ends a wait for a cooldown. */
  signal: CancelSignal;
}

/**
 * 32 hex digits unique to this request: a random 64-bit prefix per process plus a counter, so
 * ids never repeat across instances and cost no entropy per request.
 */
const ID_PREFIX = randomBytes(8).toString('hex');
let idCounter = 0;
const nextId = (): string => ID_PREFIX + (idCounter++).toString(16).padStart(16, '0');

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/**
 * Identifies a request. The request id is always minted here, so it is unique and usage
 * accounting can be idempotent by it; a client's X-Request-ID is kept as its correlation id.
 */
export function requestIds(req: ApiRequest, span: Span = NO_SPAN): RequestIds {
  const given = req.headers['x-request-id'];
  const traceparent = req.headers.traceparent;
  const trace = traceparent ? TRACEPARENT.exec(traceparent) : null;
  const id = nextId();
  return {
    requestId: `req-${id}`,
    correlationId: given && REQUEST_ID.test(given) ? given : undefined,
    traceId: span !== NO_SPAN ? span.traceId : (trace?.[1] ?? id),
    span,
  };
}

/** Headers on every answer: request ids, rate-limit state, and the provider that answered. */
export function gatewayHeaders(ctx: RequestContext, provider?: string): Record<string, string> {
  const headers: Record<string, string> = { ...ctx.headers, 'x-request-id': ctx.requestId };
  if (ctx.correlationId) headers['x-correlation-id'] = ctx.correlationId;
  if (provider) headers['x-gateway-provider'] = provider;
  return headers;
}

/** The `x_gateway` object of a completion. */
export function gatewayMetadata(
  ctx: RequestContext,
  nowMs: number,
  provider: string,
  model: string,
  costUsd: number,
  cacheHit: boolean,
): Record<string, unknown> {
  return {
    provider,
    model,
    latency_ms: nowMs - ctx.startedMs,
    cost_usd: costUsd,
    cache_hit: cacheHit,
    request_id: ctx.requestId,
    ...(ctx.correlationId ? { correlation_id: ctx.correlationId } : {}),
    trace_id: ctx.traceId,
    attempts: ctx.attempts,
  };
}
