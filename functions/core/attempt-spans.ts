// The CLIENT span of each provider attempt, named and described per the GenAI semantic
// conventions (telemetry.ts): opened by tryTargets as a child of the request's SERVER span.
import type { Usage } from './chat/model';
import type { AttemptSpans } from './fallback';
import type { AttributeValue, Attributes, Span, Telemetry } from './ports/telemetry';
import { providerType, type ProviderDirectory } from './provider-names';
import { redactText } from './redact';
import type { RequestContext } from './request-context';
import { clientSpanName, FIRST_CHUNK_EVENT, genAiProviderName, NO_SPAN, TIME_TO_FIRST_CHUNK_MS, usageAttributes, type GenAiOperation } from './telemetry';

/**
 * The span opener for one request's attempts; callers make one only when telemetry is enabled,
 * so nothing is built per request otherwise. `shared` are the request's own attributes (its
 * parameters, captured messages).
 */
export function attemptSpans(
  telemetry: Telemetry,
  ctx: Pick<RequestContext, 'span'>,
  directory: ProviderDirectory,
  operation: GenAiOperation,
  shared: Attributes,
): AttemptSpans {
  return (provider, target) => {
    const span = telemetry.startSpan(clientSpanName(operation, target.model), {
      kind: 'client',
      parent: ctx.span,
      attributes: {
        'gen_ai.operation.name': operation,
        'gen_ai.provider.name': genAiProviderName(providerType(provider.name, directory), provider.name),
        'gen_ai.request.model': target.model,
      },
    });
    span.setAttributes(shared);
    return span;
  };
}

/** What the gateway knows once an attempt's answer is complete. */
export interface AttemptOutcome {
  /** The model that answered, as the upstream named it. */
  model: string;
  id?: string;
  finishReasons?: readonly string[];
  usage?: Usage;
  costUsd: number;
  /** Set when the answer failed after it began (a stream cut off, the client gone). */
  error?: { type: string; message: string };
  /** `gen_ai.output.messages`, when message content is captured. */
  outputMessages?: string;
}

/** Ends an attempt's CLIENT span with its outcome; callers skip it for NO_SPAN, sparing the outcome object. */
export function endAttempt(span: Span, outcome: AttemptOutcome): void {
  const attributes: Record<string, AttributeValue> = {
    'gen_ai.response.model': outcome.model,
    'ai_gateway.cache_hit': false,
    'ai_gateway.cost_usd': outcome.costUsd,
  };
  if (outcome.id) attributes['gen_ai.response.id'] = outcome.id;
  if (outcome.finishReasons) attributes['gen_ai.response.finish_reasons'] = outcome.finishReasons;
  if (outcome.outputMessages !== undefined) attributes['gen_ai.output.messages'] = outcome.outputMessages;
  span.setAttributes(attributes);
  if (outcome.usage) span.setAttributes(usageAttributes(outcome.usage));
  if (outcome.error) span.recordError(outcome.error.type, redactText(outcome.error.message));
  span.end();
}

/** Marks a stream's first chunk on its CLIENT span (the attempt's answer is in once it arrived). */
export function markFirstChunk(span: Span, attemptStartedMs: number, nowMs: number): void {
  if (span === NO_SPAN) return;
  span.addEvent(FIRST_CHUNK_EVENT, { [TIME_TO_FIRST_CHUNK_MS]: nowMs - attemptStartedMs });
}
