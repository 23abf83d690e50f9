// POST /v1/embeddings: auth → rate limit + budget → route → circuit breaker → provider → account,
// over the providers that embed.
import type { ApiRequest, ApiResponse } from './api-types';
import type { BudgetHandle } from './budget';
import { badRequest } from './errors';
import { tryTargets, type FallbackDeps } from './fallback';
import { gatewayHeaders, gatewayMetadata, type RequestContext, type RequestIds } from './request-context';
import type { EmbeddingsRequest } from './openai-types';
import type { Tenant } from './ports';
import { TargetPlanner } from './routing';
import { spliceMetadata } from './sse';
import { validateEmbeddingsRequest } from './validate';
import type { PipelineDeps } from './pipeline-deps';
import { callWithinDeadline, deadlineExceeded } from './providers/deadlines';
import { attemptSpans, endAttempt } from './attempt-spans';
import { NO_SPAN } from './telemetry';

export type EmbeddingsDeps = PipelineDeps;

export class EmbeddingsPipeline {
  private readonly fallback: FallbackDeps;
  private readonly planner: TargetPlanner;

  constructor(private readonly deps: EmbeddingsDeps) {
    this.fallback = { ...deps, deadlineMs: deps.config.requestDeadlineMs };
    const configured = [...deps.providers.values()].filter((p) => p.configured && p.embed).map((p) => p.name);
    this.planner = new TargetPlanner(deps.config.routing, deps.prices, deps.config.defaultProvider, configured, deps.now);
  }

  async handle(req: ApiRequest, ids: RequestIds): Promise<ApiResponse> {
    const { request, ctx, budget } = await this.deps.gate.admit(req, ids, validateEmbeddingsRequest, this.reserveBudget);
    return this.serve(req, request, ctx, budget).catch((err: unknown) => {
      budget.release(); // nothing was billed: give the reservation back
      throw err;
    });
  }

  /** Embeddings cost little: nothing is reserved, but a tenant at its budget is refused all the same. */
  private readonly reserveBudget = (tenant: Tenant): Promise<BudgetHandle> => this.deps.budget.reserve(tenant, 0);

  private async serve(req: ApiRequest, request: EmbeddingsRequest, ctx: RequestContext, budget: BudgetHandle): Promise<ApiResponse> {
    const { deps } = this;
    const { tenant } = ctx;

    // Chat models' default models are no use for embeddings: fall back only to explicit routes.
    const plan = this.planner.plan({ model: request.model, forcedProvider: req.headers['x-provider'], tenant }).filter((t) => t.via !== 'fallback');
    const first = plan[0];
    if (first && !deps.providers.get(first.provider)?.embed) {
      throw badRequest(
        `Provider "${first.provider}" does not offer embeddings; use an OpenAI, Ollama or Bedrock embedding model.`,
        'model',
        'model_not_supported',
      );
    }
    const { telemetry } = deps;
    const spans = telemetry?.enabled ? attemptSpans(telemetry, ctx, deps.config.routing, 'embeddings', {}) : undefined;
    const answer = await tryTargets(
      ctx,
      plan,
      this.fallback,
      (provider, target, span) => {
        if (!provider.embed) throw badRequest(`Provider "${provider.name}" does not offer embeddings.`, 'model', 'model_not_supported');
        const sameModel = target.model === request.model;
        const embed = provider.embed.bind(provider);
        // The same bounds as chat: REQUEST_DEADLINE for the whole answer, MAX_RESPONSE_BYTES for its size.
        const deadlineAt = Date.now() + deps.config.requestDeadlineMs - (deps.now() - ctx.startedMs);
        return callWithinDeadline(
          req.signal,
          deadlineAt,
          () => deadlineExceeded(provider.name, deps.config.requestDeadlineMs),
          (signal) =>
            embed(sameModel ? request : { ...request, model: target.model }, {
              signal,
              requestId: ctx.requestId,
              timeoutMs: deps.config.upstreamTimeoutMs,
              rawBody: sameModel ? req.body : undefined,
              maxResponseBytes: deps.config.maxResponseBytes,
              traceparent: span === NO_SPAN ? undefined : span.traceparent(),
              tracestate: span === NO_SPAN ? undefined : span.tracestate(),
            }),
        );
      },
      spans,
    ).catch((err: unknown) => {
      this.planner.observe(ctx.attempts);
      deps.accountant.recordFailure(ctx, err, false);
      throw err;
    });
    const { value, provider, target, admission, attemptStartedMs, span } = answer;
    void deps.breaker.recordSuccess(provider.name, admission);
    ctx.attempts.push({ provider: provider.name, model: target.model, status: 200, latency_ms: deps.now() - attemptStartedMs });
    this.planner.observe(ctx.attempts);
    const model = value.response.model || target.model;
    const tokens = value.response.usage?.prompt_tokens ?? 0;
    const cost = deps.accountant.record(ctx, {
      provider: provider.name,
      model,
      usage: { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens },
      status: 200,
      cacheHit: false,
      stream: false,
    });
    budget.settle(cost);
    if (span !== NO_SPAN) {
      // Embeddings produce no output tokens: only the input count is theirs to report.
      span.setAttributes({ 'gen_ai.usage.input_tokens': tokens });
      endAttempt(span, { model, costUsd: cost });
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json', ...gatewayHeaders(ctx, provider.name) },
      body: spliceMetadata(value.raw ?? JSON.stringify(value.response), gatewayMetadata(ctx, deps.now(), provider.name, model, cost, false)),
    };
  }
}
