// Route → circuit breaker → provider, with fallback: tries a request's planned targets in order
// until one answers, recording every attempt and why it failed.
import type { Admission, CircuitBreaker } from './breaker';
import { GatewayError, toGatewayError } from './errors';
import type { Logger } from './logger';
import { METRIC, type Metrics } from './metrics';
import type { Provider } from './providers/provider';
import { gatewayHeaders, type RequestContext } from './request-context';
import { redactText } from './redact';
import type { PlannedTarget } from './routing';

/** The error of an attempt an open breaker refused: it made no provider call. */
export const CIRCUIT_OPEN = 'circuit open';

export interface FallbackDeps {
  providers: ReadonlyMap<string, Provider>;
  breaker: CircuitBreaker;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** No new attempt starts once this many ms have passed since the request began. */
  deadlineMs: number;
}

export interface Answer<T> {
  value: T;
  provider: Provider;
  target: PlannedTarget;
  /** How the breaker let the call through; the caller reports the call's outcome with it. */
  admission: Admission;
  attemptStartedMs: number;
}

/**
 * Calls `call` for each target until one succeeds. Provider-side faults (GatewayError.retryable:
 * connection errors, timeouts, 408/409/429/5xx, upstream auth failures) count against the
 * provider's breaker and move on; the client's own faults (400/404/413/422) return at once.
 * A target whose breaker is open is skipped without a network call.
 */
export async function tryTargets<T>(
  ctx: RequestContext,
  plan: readonly PlannedTarget[],
  deps: FallbackDeps,
  call: (provider: Provider, target: PlannedTarget) => Promise<T>,
): Promise<Answer<T>> {
  let lastError: GatewayError | undefined;
  let failedProvider: string | undefined;
  let tried = 0;
  /** Every attempt failed because its upstream was overloaded (so far). */
  let overloaded = true;
  for (const target of plan) {
    const provider = deps.providers.get(target.provider);
    if (!provider?.configured) {
      lastError ??= notConfigured(target);
      continue;
    }
    if (tried > 0 && deps.now() - ctx.startedMs >= deps.deadlineMs) {
      lastError = new GatewayError(
        504,
        `Gave up after ${tried} attempt(s): the request's ${deps.deadlineMs} ms deadline passed. Last error: ${lastError?.message ?? 'none'}`,
        {
          type: 'api_error',
          code: 'deadline_exceeded',
        },
      );
      break;
    }
    const admission = await deps.breaker.admit(provider.name, deps.now());
    if (admission === 'rejected') {
      ctx.attempts.push({ provider: provider.name, model: target.model, status: 503, latency_ms: 0, error: CIRCUIT_OPEN });
      continue;
    }
    if (failedProvider) deps.metrics.count(METRIC.fallbacks, { from: failedProvider, to: provider.name });
    tried += 1;
    const attemptStartedMs = deps.now();
    try {
      const value = await call(provider, target);
      return { value, provider, target, admission, attemptStartedMs };
    } catch (err) {
      const error = toGatewayError(err);
      // x_gateway.attempts reaches the client even on a successful fallback: masked like a body.
      ctx.attempts.push({
        provider: provider.name,
        model: target.model,
        status: error.status,
        latency_ms: deps.now() - attemptStartedMs,
        error: redactText(error.message),
      });
      if (!error.retryable) {
        deps.breaker.release(provider.name, admission);
        throw withHeaders(error, gatewayHeaders(ctx, provider.name));
      }
      await deps.breaker.recordFailure(provider.name, admission, deps.now());
      deps.logger.warn('provider attempt failed', {
        request_id: ctx.requestId,
        provider: provider.name,
        model: target.model,
        status: error.status,
        error: error.message,
        ...(error.detail ? { detail: error.detail } : {}),
      });
      lastError = error;
      overloaded &&= error.overloaded;
      failedProvider = provider.name;
    }
  }
  throw exhausted(ctx, plan, tried, lastError, overloaded);
}

function exhausted(ctx: RequestContext, plan: readonly PlannedTarget[], tried: number, lastError: GatewayError | undefined, overloaded: boolean): GatewayError {
  const last = ctx.attempts[ctx.attempts.length - 1];
  const headers = gatewayHeaders(ctx, last?.provider);
  if (tried === 0 && ctx.attempts.length > 0) {
    return new GatewayError(503, `Every provider for this request is unavailable (circuit open): ${ctx.attempts.map((a) => a.provider).join(', ')}.`, {
      type: 'api_error',
      code: 'circuit_open',
      headers,
    });
  }
  const error = lastError ?? notConfigured(plan[0] ?? { provider: 'unknown', model: 'unknown' });
  // One attempt: its own error says it best (a timeout stays a 504). Several: 502 summing up.
  if (tried <= 1) return withHeaders(error, headers);
  const summary = ctx.attempts.map((a) => `${a.provider}/${a.model}: ${a.error ?? a.status}`).join('; ');
  return new GatewayError(502, `All ${tried} providers tried failed. ${summary}`, {
    type: 'api_error',
    code: error.code ?? 'upstream_error',
    headers,
    overloaded: overloaded && lastError !== undefined,
  });
}

function notConfigured(target: { provider: string; model: string }): GatewayError {
  return new GatewayError(404, `The model "${target.model}" is served by provider "${target.provider}", which is not configured on this gateway.`, {
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  });
}

function withHeaders(error: GatewayError, headers: Record<string, string>): GatewayError {
  return new GatewayError(error.status, error.message, {
    type: error.type,
    param: error.param,
    code: error.code,
    retryable: error.retryable,
    headers: { ...headers, ...error.headers },
    detail: error.detail,
    overloaded: error.overloaded,
  });
}
