// Tracing for the Lambda entries. Powertools Tracer (and the X-Ray SDK under it, ~30 ms to load)
// is imported only where it can trace: inside Lambda (AWS_EXECUTION_ENV) unless
// POWERTOOLS_TRACE_ENABLED=false, the same rule Powertools applies itself.
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Provider } from '../../core/providers/provider';
import type { Env } from '../../config';
import { traceProviderCalls } from './provider-tracing';

function tracingWanted(env: Env): boolean {
  return (env.AWS_EXECUTION_ENV ?? '') !== '' && (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false';
}

export interface LambdaTracing {
  /** For Powertools' middy middleware (captureLambdaHandler) in the API Gateway functions. */
  tracer: Tracer;
  /** Wraps a provider so each of its calls gets a subsegment. */
  wrapProvider: (provider: Provider) => Provider;
}

/** Where the runtime keeps the invocation's X-Ray trace header (newer runtimes: its InvokeStore). */
interface RuntimeGlobals {
  awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } };
}

/** The trace header of the invocation in progress; undefined during init, where there is none. */
function invocationTraceId(env: Env): string | undefined {
  return (globalThis as RuntimeGlobals).awslambda?.InvokeStore?.getXRayTraceId() ?? env._X_AMZN_TRACE_ID;
}

/** Powertools Tracer and the provider wrapper, or undefined where tracing is off. */
export async function loadTracing(env: Env = process.env): Promise<LambdaTracing | undefined> {
  if (!tracingWanted(env)) return undefined;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  const tracer = new Tracer();
  // The Tracer traces every HTTP(S) call, but the calls made during init (provider keys, the first
  // admin, the stores) belong to no invocation, and X-Ray has no trace to put them in (Lambda
  // records the init phase itself): they go out untraced, rather than each logging "Missing AWS
  // Lambda trace data". Inside an invocation a missing context is still an error worth logging.
  tracer.provider.setContextMissingStrategy((message) => {
    if (invocationTraceId(env) !== undefined) console.error(new Error(message).stack);
  });
  return { tracer, wrapProvider: traceProviderCalls(tracer) };
}
