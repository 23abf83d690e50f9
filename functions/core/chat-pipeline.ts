// The chat pipeline: auth → rate limit → cache → route → circuit breaker → provider → account.
// Each step talks to a port; nothing here knows which backend is behind it, nor which client API
// asked: it works on the canonical model, and the request's ingress adapter reads and writes the wire.
import { estimateCost, joinHolds, type BudgetHandle } from './budget';
import type { ApiRequest, ApiResponse } from './api-types';
import type { Admission } from './breaker';
import type { ChatIngress, NativeIngress, WireRequest } from './ingress/ingress';
import { GatewayError } from './errors';
import { tryTargets, type Answer, type FallbackDeps } from './fallback';
import { METRIC } from './metrics';
import type { ResponseCache, Tenant } from './ports';
import { callWithinDeadline, deadlineExceeded } from './providers/deadlines';
import { forwardsNatively, type NativeStream, type NativeSync } from './providers/provider';
import type { ChatCompletion, ChatCompletionRequest, StreamChunk, StreamResult, SyncResult, Usage } from './chat/model';
import { gatewayHeaders, gatewayMetadata, type RequestContext, type RequestIds } from './request-context';
import { cacheKey, cacheTtl, completionToChunks, StreamAssembler } from './response-cache';
import { TargetPlanner, type PlannedTarget } from './routing';
import { estimateTokens, StreamTally } from './usage-estimate';
import type { PipelineDeps } from './pipeline-deps';
import { attemptSpans, endAttempt, markFirstChunk } from './attempt-spans';
import type { Attributes, Span } from './ports/telemetry';
import { chatRequestAttributes, collectFinishReasons, finishReasonsOf, inputMessagesJson, NO_SPAN, outputMessagesJson } from './telemetry';

/** An answer from a provider that speaks the request's API itself (ChatIngress.native). */
interface NativeResult {
  kind: 'native';
  answer: NativeSync | NativeStream;
  /** The ingress's native side, which writes the answer back. */
  via: NativeIngress;
}

export interface ChatDeps extends PipelineDeps {
  cache: ResponseCache;
}

export class ChatPipeline {
  private readonly fallback: FallbackDeps;
  private readonly planner: TargetPlanner;
  private activeStreams = 0;

  constructor(private readonly deps: ChatDeps) {
    this.fallback = { ...deps, deadlineMs: deps.config.requestDeadlineMs };
    const configured = [...deps.providers.values()].filter((p) => p.configured).map((p) => p.name);
    this.planner = new TargetPlanner(deps.config.routing, deps.prices, deps.config.defaultProvider, configured, deps.now);
  }

  /** Serves one request that came in through `api`, answering in its format. */
  async handle(api: ChatIngress, req: ApiRequest, ids: RequestIds): Promise<ApiResponse> {
    const { deps } = this;
    // The budget: reserved beside the rate limits, settled at the real cost where it is recorded
    // (a stream's when it ends), released if the request fails first.
    const admitted = await deps.gate.admit(req, ids, api.readRequest, this.reserveBudget, api.apiKey);
    const { request: read, body: wire, ctx } = admitted;
    let budget = admitted.budget;
    try {
      // An API that keeps its answers (stored responses) may continue a kept conversation, and
      // answers through an ingress that keeps this answer. The kept conversation is part of the
      // prompt: the budget holds its estimate too.
      const turn = api.beginTurn ? await api.beginTurn(ctx.tenant, read, wire) : undefined;
      if (turn?.keptPromptChars) budget = joinHolds(budget, await deps.budget.reserve(ctx.tenant, this.promptCost(read.model, turn.keptPromptChars)));
      return await this.serve(turn ? turn.ingress : api, req, read, turn ? turn.request : read, wire, ctx, budget);
    } catch (err) {
      budget.release(); // nothing was billed: give the reservation back
      throw err;
    }
  }

  private readonly reserveBudget = (tenant: Tenant, request: ChatCompletionRequest, req: ApiRequest): Promise<BudgetHandle> =>
    this.deps.budget.reserve(tenant, estimateCost(request, req.body, request.model, this.deps.prices));

  /** The estimated cost of `chars` more prompt for `model` (see estimateCost). */
  private promptCost(model: string, chars: number): number {
    return this.deps.prices.cost(model, { prompt_tokens: estimateTokens(chars), completion_tokens: 0, cached_tokens: 0, cache_write_tokens: 0 }) ?? 0;
  }

  private async serve(
    ingress: ChatIngress,
    req: ApiRequest,
    read: ChatCompletionRequest,
    request: ChatCompletionRequest,
    wire: WireRequest,
    ctx: RequestContext,
    budget: BudgetHandle,
  ): Promise<ApiResponse> {
    const { deps } = this;
    const { tenant } = ctx;
    const { native } = ingress;
    // An API an upstream may serve natively is planned first: see planNative.
    const nativePlan = native ? this.planNative(native, req, tenant, request, wire) : undefined;

    const ttl = cacheTtl(request, req.headers['x-cache-ttl'], deps.config.routing.cache.default_ttl_seconds);
    const key = ttl > 0 && !nativePlan?.native ? cacheKey(tenant.id, request) : undefined;
    if (key) {
      const hit = await deps.cache.get(key, deps.now());
      deps.metrics.count(hit ? METRIC.cacheHits : METRIC.cacheMisses, { tenant: tenant.id });
      if (ctx.span !== NO_SPAN) ctx.span.setAttributes({ 'ai_gateway.cache_hit': hit !== undefined });
      if (hit) return this.fromCache(ingress, ctx, request, wire, hit.body, hit.provider, budget);
    }

    const plan = nativePlan?.plan ?? this.planner.plan({ model: request.model, forcedProvider: req.headers['x-provider'], tenant });
    // The gateway's own history (a stored conversation, resolved items) is in the request, not the client's bytes.
    const expanded = request !== read;
    let answer: Answer<SyncResult | StreamResult | NativeResult>;
    try {
      const { telemetry } = deps;
      const spans = telemetry?.enabled ? attemptSpans(telemetry, ctx, deps.config.routing, 'chat', this.requestAttributes(request)) : undefined;
      answer = await tryTargets(
        ctx,
        plan,
        this.fallback,
        async (provider, target, span) => {
          const traceparent = span === NO_SPAN ? undefined : span.traceparent();
          const tracestate = span === NO_SPAN ? undefined : span.tracestate();
          const sameModel = target.model === request.model;
          // The call is cancelled when the client leaves or when REQUEST_DEADLINE passes before the
          // answer (sync) or the first chunk (stream) is in: the idle timeout alone lets an upstream
          // that trickles bytes hold the client forever. A started stream is never cut by it.
          const deadlineAt = Date.now() + deps.config.requestDeadlineMs - (deps.now() - ctx.startedMs);
          return callWithinDeadline(
            req.signal,
            deadlineAt,
            () => deadlineExceeded(provider.name, deps.config.requestDeadlineMs),
            async (signal): Promise<SyncResult | StreamResult | NativeResult> => {
              if (native && provider.forward && forwardsNatively(provider, native.api)) {
                const body = native.requestBody(request, wire, req.body, target, expanded);
                const call = {
                  signal,
                  requestId: ctx.requestId,
                  timeoutMs: deps.config.upstreamTimeoutMs,
                  maxResponseBytes: deps.config.maxResponseBytes,
                  traceparent,
                  tracestate,
                };
                const answer = await provider.forward(native.api, { body, model: target.model, headers: native.forwardedHeaders(req.headers) }, call);
                return { kind: 'native', answer, via: native };
              }
              const result = await provider.chat(sameModel ? request : { ...request, model: target.model }, {
                signal,
                requestId: ctx.requestId,
                timeoutMs: deps.config.upstreamTimeoutMs,
                rawBody: sameModel && ingress.passThrough ? req.body : undefined,
                maxResponseBytes: deps.config.maxResponseBytes,
                traceparent,
                tracestate,
              });
              // A stream may still fail before its first chunk: wait for it so that failure can fall back too.
              return result.kind === 'stream' ? primeStream(result) : result;
            },
          );
        },
        spans,
      );
    } catch (err) {
      this.planner.observe(ctx.attempts);
      deps.accountant.recordFailure(ctx, err, request.stream === true);
      throw err;
    }
    const { value: result, provider, target, admission, attemptStartedMs, span } = answer;
    const attempt = { provider: provider.name, model: target.model, status: 200, latency_ms: deps.now() - attemptStartedMs };
    ctx.attempts.push(attempt);
    this.planner.observe(ctx.attempts); // to the answer, or a stream's first chunk
    if (result.kind === 'stream' || (result.kind === 'native' && result.answer.kind === 'stream')) markFirstChunk(span, attemptStartedMs, deps.now());
    if (result.kind === 'native') {
      const streamed = new StreamTally(req.body.length);
      return this.respondNative(ingress, result.via, ctx, wire, provider.name, target.model, admission, result.answer, streamed, budget, span);
    }
    if (result.kind === 'json') {
      void deps.breaker.recordSuccess(provider.name, admission);
      return this.respondJson(ingress, ctx, request, wire, provider.name, result, key, ttl, budget, span);
    }
    return this.respondStream(ingress, ctx, request, wire, provider.name, admission, result, key, ttl, new StreamTally(req.body.length), budget, span);
  }

  /** The request's own GenAI attributes on each CLIENT span: its parameters, and its messages when content is captured. */
  private requestAttributes(request: ChatCompletionRequest): Attributes {
    const attributes = chatRequestAttributes(request);
    return this.deps.config.captureMessageContent ? { ...attributes, 'gen_ai.input.messages': inputMessagesJson(request) } : attributes;
  }

  /**
   * The targets of a request to an API that `native` upstreams serve themselves, and whether the
   * first is one. Such a request skips the cache, which holds canonical answers only. One that
   * only a native upstream can serve (a built-in tool) gets the ingress's 400 when the model asked
   * for is served translated, and skips its translated fallbacks.
   */
  private planNative(
    native: NativeIngress,
    req: ApiRequest,
    tenant: Tenant,
    request: ChatCompletionRequest,
    wire: WireRequest,
  ): { plan: readonly PlannedTarget[]; native: boolean } {
    const plan = this.planner.plan({ model: request.model, forcedProvider: req.headers['x-provider'], tenant });
    const servesNatively = (target: PlannedTarget): boolean => forwardsNatively(this.deps.providers.get(target.provider), native.api);
    const first = plan[0] !== undefined && servesNatively(plan[0]);
    const refusal = native.translatedRefusal(wire);
    if (!refusal) return { plan, native: first };
    if (!first) throw refusal;
    return { plan: plan.filter(servesNatively), native: true };
  }

  private respondJson(
    ingress: ChatIngress,
    ctx: RequestContext,
    request: ChatCompletionRequest,
    wire: WireRequest,
    provider: string,
    result: SyncResult,
    key: string | undefined,
    ttl: number,
    budget: BudgetHandle,
    span: Span,
  ): ApiResponse {
    const { completion } = result;
    const model = completion.model || request.model;
    const cost = this.deps.accountant.record(ctx, { provider, model, usage: completion.usage, status: 200, cacheHit: false, stream: false });
    budget.settle(cost);
    if (span !== NO_SPAN) {
      const outputMessages = this.deps.config.captureMessageContent ? outputMessagesJson(completion) : undefined;
      endAttempt(span, { model, id: completion.id, finishReasons: finishReasonsOf(completion), usage: completion.usage, costUsd: cost, outputMessages });
    }
    let raw = result.raw;
    if (key && completion.choices?.length) {
      raw ??= JSON.stringify(completion); // the cache keeps the canonical bytes
      this.store(ctx, key, raw, provider, model, ttl);
    }
    return {
      status: 200,
      headers: { ...ingress.jsonHeaders, ...gatewayHeaders(ctx, provider) },
      body: ingress.renderCompletion(completion, raw, gatewayMetadata(ctx, this.deps.now(), provider, model, cost, false), wire),
    };
  }

  /** An answer forwarded natively: accounted from the upstream's own usage, passed back with `x_gateway` added. */
  private respondNative(
    ingress: ChatIngress,
    native: NativeIngress,
    ctx: RequestContext,
    wire: WireRequest,
    provider: string,
    targetModel: string,
    admission: Admission,
    answer: NativeSync | NativeStream,
    streamed: StreamTally,
    budget: BudgetHandle,
    span: Span,
  ): ApiResponse {
    const { deps } = this;
    if (answer.kind === 'json') {
      void deps.breaker.recordSuccess(provider, admission);
      const final = native.answer(answer.raw, wire);
      const model = final.model ?? targetModel;
      const cost = deps.accountant.record(ctx, { provider, model, usage: answer.usage, status: 200, cacheHit: false, stream: false });
      budget.settle(cost);
      if (span !== NO_SPAN) endAttempt(span, { model, usage: answer.usage, costUsd: cost, finishReasons: final.finishReasons?.() });
      const body = final.render(gatewayMetadata(ctx, deps.now(), provider, model, cost, false));
      return { status: 200, headers: { ...ingress.jsonHeaders, ...gatewayHeaders(ctx, provider) }, body };
    }
    const self = this;
    const { events } = answer;
    const writer = native.openStream(wire);
    async function* body(): AsyncGenerator<string> {
      let usage: Usage | undefined;
      let model = targetModel;
      let status = 499; // stays so if the client leaves before the final event
      let providerFailed = false;
      let settled = false; // the final event's cost is recorded: nothing after it is billed again
      let cost = 0;
      let failure: GatewayError | undefined;
      let finishReasons: readonly string[] | undefined;
      deps.metrics.gauge(METRIC.activeStreams, {}, ++self.activeStreams);
      try {
        for await (const event of events) {
          if (settled || !writer.isFinal(event)) {
            // What the provider bills even if the stream never finishes: the generated text it sent.
            if (!settled && writer.carriesText(event)) streamed.add(event.data);
            yield writer.pass(event);
            continue;
          }
          usage = event.usage;
          const final = writer.final(event);
          model = final.model ?? model;
          if (span !== NO_SPAN) finishReasons = final.finishReasons?.();
          status = 200;
          settled = true;
          cost = deps.accountant.record(ctx, { provider, model, usage, status, cacheHit: false, stream: true });
          budget.settle(cost);
          yield final.render(gatewayMetadata(ctx, deps.now(), provider, model, cost, false));
        }
      } catch (err) {
        // After the first byte there is no falling back: the stream ends with the API's error event.
        const error = self.streamFault(err, provider);
        failure = error;
        status = error.status;
        providerFailed = error.retryable || error.status >= 500;
        if (status !== 499) {
          if (!settled) budget.settle(deps.accountant.record(ctx, { provider, model, usage, status, cacheHit: false, stream: true, streamed }));
          self.logStreamFault(ctx, provider, error);
          yield writer.error(error);
        }
      } finally {
        deps.metrics.gauge(METRIC.activeStreams, {}, --self.activeStreams);
        if (status === 499 && !settled) budget.settle(deps.accountant.record(ctx, { provider, model, usage, status, cacheHit: false, stream: true, streamed }));
        self.closeAttempt(provider, admission, status, providerFailed);
        if (span !== NO_SPAN) endAttempt(span, { model, usage, costUsd: cost, finishReasons, error: streamError(status, failure) });
      }
    }
    return { status: 200, headers: { ...ingress.streamHeaders, ...gatewayHeaders(ctx, provider) }, body: body() };
  }

  /** A fault after a stream's first byte, as the error its stream ends with (anything not a GatewayError: a malformed stream). */
  private streamFault(err: unknown, provider: string): GatewayError {
    if (err instanceof GatewayError) return err;
    return new GatewayError(502, `${provider} sent a malformed stream.`, { type: 'api_error', code: 'upstream_bad_response', retryable: true });
  }

  private logStreamFault(ctx: RequestContext, provider: string, error: GatewayError): void {
    this.deps.logger.warn('stream failed after it started', {
      request_id: ctx.requestId,
      provider,
      status: error.status,
      error: error.message,
      ...(error.detail ? { detail: error.detail } : {}),
    });
  }

  /** Tells the breaker how a stream's attempt ended: a provider fault, a success, or neither (the client left). */
  private closeAttempt(provider: string, admission: Admission, status: number, providerFailed: boolean): void {
    if (providerFailed) void this.deps.breaker.recordFailure(provider, admission, this.deps.now());
    else if (status === 200) void this.deps.breaker.recordSuccess(provider, admission);
    else this.deps.breaker.release(provider, admission);
  }

  private store(ctx: RequestContext, key: string, body: string, provider: string, model: string, ttl: number): void {
    const now = this.deps.now();
    this.deps.cache
      .set(key, { body, provider, model, storedAtMs: now }, ttl, now)
      .catch((err: unknown) => this.deps.logger.warn('cache write failed', { request_id: ctx.requestId, error: String(err) }));
  }

  /** A stored canonical completion, answered whole or replayed as a stream in the ingress's format. */
  private fromCache(
    ingress: ChatIngress,
    ctx: RequestContext,
    request: ChatCompletionRequest,
    wire: WireRequest,
    body: string,
    provider: string,
    budget: BudgetHandle,
  ): ApiResponse {
    const completion = JSON.parse(body) as ChatCompletion;
    this.deps.accountant.record(ctx, {
      provider,
      model: completion.model,
      usage: completion.usage,
      status: 200,
      cacheHit: true,
      stream: request.stream === true,
    });
    budget.release(); // a cache hit costs nothing
    const meta = gatewayMetadata(ctx, this.deps.now(), provider, completion.model, 0, true);
    const headers = gatewayHeaders(ctx, provider);
    if (!request.stream) {
      return { status: 200, headers: { ...ingress.jsonHeaders, ...headers }, body: ingress.renderCompletion(completion, body, meta, wire) };
    }
    const writer = ingress.openStream(request, { id: completion.id, created: completion.created, model: completion.model }, wire);
    const chunks: StreamChunk[] = completionToChunks(completion).map((c) => ({ json: JSON.stringify(c) }));
    if (completion.usage) {
      const usageChunk = {
        id: completion.id,
        object: 'chat.completion.chunk',
        created: completion.created,
        model: completion.model,
        choices: [],
        usage: completion.usage,
      };
      chunks.push({ json: JSON.stringify(usageChunk), usage: completion.usage, usageOnly: true });
    }
    const events: string[] = [];
    for (const chunk of chunks) {
      const text = writer.chunk(chunk);
      if (text !== '') events.push(text);
    }
    events.push(writer.end(completion.usage, meta));
    return {
      status: 200,
      headers: { ...ingress.streamHeaders, ...headers },
      body: (async function* () {
        yield* events;
      })(),
    };
  }

  private respondStream(
    ingress: ChatIngress,
    ctx: RequestContext,
    request: ChatCompletionRequest,
    wire: WireRequest,
    provider: string,
    admission: Admission,
    result: StreamResult,
    key: string | undefined,
    ttl: number,
    streamed: StreamTally,
    budget: BudgetHandle,
    span: Span,
  ): ApiResponse {
    const self = this;
    const { deps } = this;
    const model = result.model || request.model;
    const writer = ingress.openStream(request, { id: result.id, created: result.created, model }, wire);

    async function* body(): AsyncGenerator<string> {
      let usage: Usage | undefined;
      let status = 499; // stays so if the client leaves before the end
      let providerFailed = false;
      let cost = 0;
      let failure: GatewayError | undefined;
      const capture = span !== NO_SPAN && deps.config.captureMessageContent === true;
      const assembler = key || capture ? new StreamAssembler() : undefined;
      // Read off each chunk's text as it passes, so no stream is assembled for its finish reasons alone.
      const finishReasons: string[] | undefined = span === NO_SPAN ? undefined : [];
      deps.metrics.gauge(METRIC.activeStreams, {}, ++self.activeStreams);
      try {
        for await (const chunk of result.chunks) {
          if (chunk.usage) usage = chunk.usage;
          if (finishReasons) collectFinishReasons(chunk.json, finishReasons);
          assembler?.add(chunk.json);
          streamed.add(chunk.json); // what the provider bills even if the stream never finishes
          const text = writer.chunk(chunk);
          if (text !== '') yield text;
        }
        status = 200;
        cost = deps.accountant.record(ctx, { provider, model, usage, status, cacheHit: false, stream: true });
        budget.settle(cost);
        const assembled = assembler?.result();
        if (key && assembled) self.store(ctx, key, JSON.stringify(assembled), provider, model, ttl);
        // The span's model, id, finish reasons and usage come with endAttempt; only the captured output is the assembled answer's.
        if (assembled && capture) span.setAttributes({ 'gen_ai.output.messages': outputMessagesJson(assembled) });
        yield writer.end(usage, gatewayMetadata(ctx, deps.now(), provider, model, cost, false));
      } catch (err) {
        // After the first byte there is no falling back: the stream ends with the API's error event.
        const error = self.streamFault(err, provider);
        failure = error;
        status = error.status;
        providerFailed = error.retryable || error.status >= 500;
        if (status !== 499) {
          budget.settle(deps.accountant.record(ctx, { provider, model, usage, status, cacheHit: false, stream: true, streamed }));
          self.logStreamFault(ctx, provider, error);
          yield writer.error(error);
        }
      } finally {
        deps.metrics.gauge(METRIC.activeStreams, {}, --self.activeStreams);
        if (status === 499) budget.settle(deps.accountant.record(ctx, { provider, model, usage, status, cacheHit: false, stream: true, streamed }));
        self.closeAttempt(provider, admission, status, providerFailed);
        if (span !== NO_SPAN) endAttempt(span, { model, id: result.id, finishReasons, usage, costUsd: cost, error: streamError(status, failure) });
      }
    }
    return { status: 200, headers: { ...ingress.streamHeaders, ...gatewayHeaders(ctx, provider) }, body: body() };
  }
}

/** Waits for a stream's first chunk (or its failure) and returns a stream that starts with it. */
async function primeStream(result: StreamResult): Promise<StreamResult> {
  const iterator = result.chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* chunks(): AsyncGenerator<StreamChunk> {
    try {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.(); // the reader left early: let the provider's stream clean up
    }
  }
  return { ...result, chunks: chunks() };
}

/** How a stream's attempt failed after it began, for its CLIENT span: undefined when it ended well. */
function streamError(status: number, failure: GatewayError | undefined): { type: string; message: string } | undefined {
  if (status === 200) return undefined;
  if (status === 499) return { type: 'client_closed_request', message: 'The client closed the request.' };
  return { type: failure?.code ?? String(status), message: failure?.message ?? `HTTP ${status}` };
}
