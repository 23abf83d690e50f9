// Route → cooldown → circuit breaker → provider, with fallback: tries a request's planned targets in order
// until one answers, recording every attempt and why it failed.
import type { Admission, CircuitBreaker } from './breaker';
import type { Cooldowns } from './cooldowns';
import { GatewayError, toGatewayError } from './errors';
import type { Logger } from './logger';
import { METRIC, type Metrics } from './metrics';
import type { Provider } from './providers/provider';
import { gatewayHeaders, type Attempt, type RequestContext } from './request-context';
import type { Cooldown } from './ports';
import { clientGone } from './providers/upstream-http';
import { redactText } from './redact';
import type { PlannedTarget } from './routing';
import type { Span } from './ports/telemetry';
import { NO_SPAN } from './telemetry';

/** The error of an attempt an open breaker refused: it made no provider call. */
export const CIRCUIT_OPEN = 'circuit open';
/** How the error of an attempt skipped because its deployment is cooling down begins: it made no provider call. */
export const COOLING_DOWN = 'cooling down';

/** Whether an attempt was refused before any provider call (an open breaker, a cooldown). */
export const madeNoCall = (attempt: Attempt): boolean =>
  attempt.error === CIRCUIT_OPEN || (attempt.latency_ms === 0 && attempt.error?.startsWith(COOLING_DOWN) === true);

export interface FallbackDeps {
  providers: ReadonlyMap<string, Provider>;
  breaker: CircuitBreaker;
  cooldowns: Cooldowns;
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
  /** The attempt's CLIENT span, still open: the caller adds the answer and ends it (a stream's when it ends). */
  span: Span;
}

/** Opens the CLIENT span of one provider attempt (see attempt-spans.ts). */
export type AttemptSpans = (provider: Provider, target: PlannedTarget) => Span;

/** A target of the plan that is cooling down (skipped, or cooled by its answer to this request). */
interface Cooling {
  target: PlannedTarget;
  cooldown: Cooldown;
}

/**
 * Calls `call` for each target until one succeeds. Provider-side faults (GatewayError.retryable:
 * connection errors, timeouts, 408/409/429/5xx, upstream auth failures) count against the
 * provider's breaker and move on; the client's own faults (400/404/413/422) return at once.
 * A target whose breaker is open, or whose deployment is cooling down, is skipped without a
 * network call. A fault with a retry hint cools its deployment down instead of counting against
 * the breaker. When no target could serve and one is cooling down, one retry of it after its
 * cooldown is allowed (COOLDOWN_RETRY) if that fits the deadline; the client leaving ends that wait.
 */
export async function tryTargets<T>(
  ctx: RequestContext,
  plan: readonly PlannedTarget[],
  deps: FallbackDeps,
  call: (provider: Provider, target: PlannedTarget, span: Span) => Promise<T>,
  spans?: AttemptSpans,
): Promise<Answer<T>> {
  const { signal } = ctx;
  let lastError: GatewayError | undefined;
  let failedProvider: string | undefined;
  let tried = 0;
  /** Every attempt failed because its upstream was overloaded (so far). */
  let overloaded = true;
  const cooling: Cooling[] = [];
  /** A target failed for a reason other than a cooldown (or an open breaker). */
  let failedOtherwise = false;

  /** One attempt at `target`: its answer, or undefined when it was skipped or failed (recorded in ctx.attempts). */
  const attempt = async (target: PlannedTarget, provider: Provider, checkCooldown: boolean): Promise<Answer<T> | undefined> => {
    const running = checkCooldown ? await deps.cooldowns.of(target.provider, target.model) : undefined;
    if (running) {
      cooling.push({ target, cooldown: running });
      ctx.attempts.push({ provider: provider.name, model: target.model, status: running.status, latency_ms: 0, error: coolingText(running, deps.now()) });
      return undefined;
    }
    const admission = await deps.breaker.admit(provider.name, deps.now());
    if (admission === 'rejected') {
      ctx.attempts.push({ provider: provider.name, model: target.model, status: 503, latency_ms: 0, error: CIRCUIT_OPEN });
      return undefined;
    }
    if (failedProvider) deps.metrics.count(METRIC.fallbacks, { from: failedProvider, to: provider.name });
    tried += 1;
    const span = spans ? spans(provider, target) : NO_SPAN;
    if (span !== NO_SPAN) {
      span.setAttributes({ 'ai_gateway.fallback.attempt': tried - 1, 'ai_gateway.circuit_breaker.state': admission === 'probe' ? 'half_open' : 'closed' });
    }
    const attemptStartedMs = deps.now();
    try {
      const value = await call(provider, target, span);
      return { value, provider, target, admission, attemptStartedMs, span };
    } catch (err) {
      const error = toGatewayError(err);
      if (span !== NO_SPAN) {
        span.setAttributes({ 'http.response.status_code': error.status });
        span.recordError(error.code ?? String(error.status), redactText(error.message));
        span.end();
      }
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
      // The upstream said how long to wait: the deployment cools down for that long, and its
      // provider's breaker (which would take every model of it out) is not told.
      const cooldown = error.retryAfter ? await deps.cooldowns.start(target.provider, target.model, error.retryAfter, error.overloaded) : undefined;
      if (cooldown) {
        deps.breaker.release(provider.name, admission);
        cooling.push({ target, cooldown });
      } else {
        await deps.breaker.recordFailure(provider.name, admission, deps.now());
        failedOtherwise = true;
      }
      deps.logger.warn('provider attempt failed', {
        request_id: ctx.requestId,
        provider: provider.name,
        model: target.model,
        status: error.status,
        error: error.message,
        ...(cooldown ? { cooldown_ms: cooldown.untilMs - deps.now() } : {}),
        ...(error.detail ? { detail: error.detail } : {}),
      });
      lastError = error;
      overloaded &&= error.overloaded;
      failedProvider = provider.name;
      return undefined;
    }
  };

  for (const target of plan) {
    const provider = deps.providers.get(target.provider);
    if (!provider?.configured) {
      lastError ??= notConfigured(target);
      continue;
    }
    if (tried > 0 && pastDeadline(ctx, deps)) {
      lastError = deadlinePassed(deps, tried, lastError);
      failedOtherwise = true;
      break;
    }
    const answer = await attempt(target, provider, true);
    if (answer) return answer;
  }

  // Nothing served. Wait out the cooldown that ends first, once, if that fits the deadline.
  const soonest = earliest(cooling);
  if (soonest && deps.cooldowns.retryAllowed && !signal.cancelled) {
    const waitMs = Math.max(0, soonest.cooldown.untilMs - deps.now());
    const provider = deps.providers.get(soonest.target.provider);
    if (provider && deps.now() - ctx.startedMs + waitMs < deps.deadlineMs) {
      await deps.cooldowns.sleep(waitMs, signal);
      if (signal.cancelled) throw clientGone();
      const answer = await attempt(soonest.target, provider, false);
      if (answer) return answer;
    }
  }
  // The cooldowns still running (a retry's own failure may have started a new one).
  const stillCooling = cooling.filter((c) => c.cooldown.untilMs > deps.now());
  if (stillCooling.length > 0 && !failedOtherwise) throw allCooling(ctx, stillCooling, deps.now());
  throw exhausted(ctx, plan, tried, lastError, overloaded);
}

function pastDeadline(ctx: RequestContext, deps: FallbackDeps): boolean {
  return deps.now() - ctx.startedMs >= deps.deadlineMs;
}

function deadlinePassed(deps: FallbackDeps, tried: number, lastError: GatewayError | undefined): GatewayError {
  return new GatewayError(
    504,
    `Gave up after ${tried} attempt(s): the request's ${deps.deadlineMs} ms deadline passed. Last error: ${lastError?.message ?? 'none'}`,
    {
      type: 'api_error',
      code: 'deadline_exceeded',
    },
  );
}

const secondsLeft = (cooldown: Cooldown, nowMs: number): number => Math.max(1, Math.ceil((cooldown.untilMs - nowMs) / 1000));

/** The error text of an attempt skipped for a cooldown, e.g. "cooling down for 12 s (retry-after)". */
function coolingText(cooldown: Cooldown, nowMs: number): string {
  return `${COOLING_DOWN} for ${secondsLeft(cooldown, nowMs)} s (${cooldown.header})`;
}

function earliest(cooling: readonly Cooling[]): Cooling | undefined {
  let first: Cooling | undefined;
  for (const c of cooling) if (!first || c.cooldown.untilMs < first.cooldown.untilMs) first = c;
  return first;
}

/**
 * Every target that could serve is cooling down: 429 when each was rate limited, else 503 (an
 * overloaded upstream), with `retry-after` of the cooldown that ends first.
 */
function allCooling(ctx: RequestContext, cooling: readonly Cooling[], nowMs: number): GatewayError {
  const first = earliest(cooling) as Cooling;
  const wait = secondsLeft(first.cooldown, nowMs);
  const rateLimited = cooling.every((c) => c.cooldown.status === 429);
  const each = cooling.map((c) => `${c.target.provider}/${c.target.model} (${secondsLeft(c.cooldown, nowMs)} s, ${c.cooldown.header})`).join(', ');
  const last = ctx.attempts[ctx.attempts.length - 1];
  return new GatewayError(
    rateLimited ? 429 : 503,
    `Every provider for this request is cooling down after its upstream asked the gateway to wait: ${each}. Retry after ${wait} s.`,
    {
      type: rateLimited ? 'rate_limit_error' : 'api_error',
      code: 'upstream_cooling_down',
      headers: { ...gatewayHeaders(ctx, last?.provider), 'retry-after': String(wait) },
      overloaded: !rateLimited,
    },
  );
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
    retryAfter: error.retryAfter,
  });
}
