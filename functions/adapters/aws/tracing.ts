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

/** Powertools Tracer and the provider wrapper, or undefined where tracing is off. */
export async function loadTracing(env: Env = process.env): Promise<LambdaTracing | undefined> {
  if (!tracingWanted(env)) return undefined;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  const tracer = new Tracer();
  return { tracer, wrapProvider: traceProviderCalls(tracer) };
}
