// The chat-completions pipeline: auth → rate limit → cache → route → circuit breaker →
// provider → account. Each step talks to a port; nothing here knows which backend is behind it.
import { randomBytes } from 'node:crypto';
import type { ApiRequest, ApiResponse } from './api-types';
import type { CircuitBreaker, Admission } from './breaker';
import type { GatewayConfig, RouteTarget } from './config';
import { GatewayError, toGatewayError, unauthorized } from './errors';
import type { Logger } from './logger';
import type { ChatCompletion, ChatCompletionRequest, Usage } from './openai-types';
import type { RateLimiter, ResponseCache, Tenant, TenantStore, UsageSink } from './ports';
import { tokenCountsOf, type PriceBook } from './pricing/pricing';
import type { Provider, StreamResult, SyncResult } from './providers/provider';
import { cacheKey, cacheTtl, completionToChunks, StreamAssembler } from './response-cache';
import { resolveTargets } from './routing';
import { SSE_DONE, sseError, sseEvent, spliceMetadata } from './sse';
import { hashApiKey } from './tenants';
import { parseJsonBody, validateChatRequest } from './validate';

export interface ChatDeps {
  config: GatewayConfig;
  providers: ReadonlyMap<string, Provider>;
  tenants: TenantStore;
  limiter: RateLimiter;
  cache: ResponseCache;
  breaker: CircuitBreaker;
  usage: UsageSink;
  prices: PriceBook;
  logger: Logger;
  now: () => number;
}

export interface Attempt {
  provider: string;
  model: string;
  status: number;
  latency_ms: number;
  error?: string;
}

/** Per-request facts that end up in x_gateway, headers, logs and the usage event. */
interface RequestContext {
  requestId: string;
  correlationId?: string;
  traceId: string;
  startedMs: number;
  tenant: Tenant;
  headers: Record<string, string>;
  attempts: Attempt[];
}

export interface RequestIds {
  requestId: string;
  correlationId?: string;
  traceId: string;
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

export class ChatPipeline {
  constructor(private readonly deps: ChatDeps) {}

  /**
   * Identifies the request. The request id is always minted here, so it is unique and usage
   * accounting can be idempotent by it; a client's X-Request-ID is kept as its correlation id.
   */
  static requestIds(req: ApiRequest): RequestIds {
    const given = req.headers['x-request-id'];
    const traceparent = req.headers.traceparent;
    const trace = traceparent ? TRACEPARENT.exec(traceparent) : null;
    const id = nextId();
    return {
      requestId: `req-${id}`,
      correlationId: given && REQUEST_ID.test(given) ? given : undefined,
      traceId: trace?.[1] ?? id,
    };
  }

  /** Auth step: `Authorization: Bearer <key>` → tenant, by the key's hash. */
  async authenticate(req: ApiRequest): Promise<Tenant> {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer gw-...'.");
    }
    const tenant = await this.deps.tenants.findByKeyHash(hashApiKey(match[1]));
    if (!tenant) throw unauthorized('Incorrect API key provided.');
    if (!tenant.enabled) throw new GatewayError(403, `Tenant "${tenant.id}" is disabled.`, { type: 'permission_error', code: 'tenant_disabled' });
    return tenant;
  }

  async handle(req: ApiRequest, ids: RequestIds): Promise<ApiResponse> {
    const { deps } = this;
    const tenant = await this.authenticate(req);
    const request = validateChatRequest(parseJsonBody(req.body));
    const ctx: RequestContext = { ...ids, startedMs: deps.now(), tenant, headers: {}, attempts: [] };

    if (tenant.rate_limit_rpm > 0) await this.rateLimit(ctx);

    const ttl = cacheTtl(request, req.headers['x-cache-ttl'], deps.config.routing.cache.default_ttl_seconds);
    const key = ttl > 0 ? cacheKey(tenant.id, request) : undefined;
    if (key) {
      const hit = await deps.cache.get(key, deps.now());
      if (hit) return this.fromCache(ctx, request, hit.body, hit.provider);
    }

    const targets = resolveTargets({ model: request.model, forcedProvider: req.headers['x-provider'], tenant }, deps.config.routing, deps.prices, deps.config.defaultProvider);
    let lastError: GatewayError | undefined;
    let rejectedByBreaker = 0;
    for (const target of targets) {
      const provider = deps.providers.get(target.provider);
      if (!provider?.configured) {
        lastError = notConfigured(target);
        continue;
      }
      const admission = await deps.breaker.admit(provider.name, deps.now());
      if (admission === 'rejected') {
        rejectedByBreaker += 1;
        ctx.attempts.push({ provider: provider.name, model: target.model, status: 503, latency_ms: 0, error: 'circuit open' });
        continue;
      }
      const attemptStart = deps.now();
      try {
        const upstreamRequest = target.model === request.model ? request : { ...request, model: target.model };
        const result = await provider.chat(upstreamRequest, {
          signal: req.signal,
          requestId: ctx.requestId,
          timeoutMs: deps.config.upstreamTimeoutMs,
          rawBody: target.model === request.model ? req.body : undefined,
        });
        if (result.kind === 'json') {
          ctx.attempts.push({ provider: provider.name, model: target.model, status: 200, latency_ms: deps.now() - attemptStart });
          void deps.breaker.recordSuccess(provider.name, admission);
          return this.respondJson(ctx, request, provider.name, result, key, ttl);
        }
        return this.respondStream(ctx, request, provider.name, admission, result, attemptStart, key, ttl);
      } catch (err) {
        const error = toGatewayError(err);
        ctx.attempts.push({ provider: provider.name, model: target.model, status: error.status, latency_ms: deps.now() - attemptStart, error: error.message });
        if (error.retryable) {
          await deps.breaker.recordFailure(provider.name, admission, deps.now());
          lastError = error;
          continue;
        }
        deps.breaker.release(provider.name, admission);
        if (error.status !== 499) this.account(ctx, request, provider.name, target.model, undefined, error.status, false, request.stream === true);
        throw withHeaders(error, this.gatewayHeaders(ctx, provider.name));
      }
    }
    // One usage event per request, even when several targets were tried.
    const last = ctx.attempts[ctx.attempts.length - 1];
    if (last && lastError) this.account(ctx, request, last.provider, last.model, undefined, lastError.status, false, request.stream === true);
    if (rejectedByBreaker === targets.length) {
      throw new GatewayError(503, `Every provider for "${request.model}" is unavailable: circuit open.`, { type: 'api_error', code: 'circuit_open' });
    }
    throw withHeaders(lastError ?? notConfigured(targets[0] ?? { provider: 'unknown', model: request.model }), this.gatewayHeaders(ctx, last?.provider));
  }

  private async rateLimit(ctx: RequestContext): Promise<void> {
    const limit = ctx.tenant.rate_limit_rpm;
    const d = await this.deps.limiter.consumeRequest(ctx.tenant.id, limit, this.deps.now());
    ctx.headers['x-ratelimit-limit-requests'] = String(d.limit);
    ctx.headers['x-ratelimit-remaining-requests'] = String(d.remaining);
    ctx.headers['x-ratelimit-reset-requests'] = `${Math.ceil(d.resetMs / 1000)}s`;
    if (!d.allowed) {
      throw new GatewayError(429, `Rate limit reached for tenant "${ctx.tenant.id}": ${limit} requests per minute. Retry after the reset.`, {
        type: 'requests', code: 'rate_limit_exceeded',
        headers: { ...ctx.headers, 'retry-after': String(Math.max(1, Math.ceil(d.resetMs / 1000))) },
      });
    }
  }

  private gatewayHeaders(ctx: RequestContext, provider?: string): Record<string, string> {
    const headers: Record<string, string> = { ...ctx.headers, 'x-request-id': ctx.requestId };
    if (ctx.correlationId) headers['x-correlation-id'] = ctx.correlationId;
    if (provider) headers['x-gateway-provider'] = provider;
    return headers;
  }

  private metadata(ctx: RequestContext, provider: string, model: string, costUsd: number, cacheHit: boolean): Record<string, unknown> {
    return {
      provider, model, latency_ms: this.deps.now() - ctx.startedMs, cost_usd: costUsd, cache_hit: cacheHit,
      request_id: ctx.requestId, ...(ctx.correlationId ? { correlation_id: ctx.correlationId } : {}), trace_id: ctx.traceId, attempts: ctx.attempts,
    };
  }

  private respondJson(ctx: RequestContext, request: ChatCompletionRequest, provider: string, result: SyncResult, key: string | undefined, ttl: number): ApiResponse {
    const { completion } = result;
    const model = completion.model || request.model;
    const cost = this.account(ctx, request, provider, model, completion.usage, 200, false, false);
    const raw = result.raw ?? JSON.stringify(completion);
    if (key && completion.choices?.length) this.store(ctx, key, raw, provider, model, ttl);
    return {
      status: 200,
      headers: { 'content-type': 'application/json', ...this.gatewayHeaders(ctx, provider) },
      body: spliceMetadata(raw, this.metadata(ctx, provider, model, cost, false)),
    };
  }

  private store(ctx: RequestContext, key: string, body: string, provider: string, model: string, ttl: number): void {
    const now = this.deps.now();
    this.deps.cache.set(key, { body, provider, model, storedAtMs: now }, ttl, now)
      .catch((err: unknown) => this.deps.logger.warn('cache write failed', { request_id: ctx.requestId, error: String(err) }));
  }

  private fromCache(ctx: RequestContext, request: ChatCompletionRequest, body: string, provider: string): ApiResponse {
    const completion = JSON.parse(body) as ChatCompletion;
    this.account(ctx, request, provider, completion.model, completion.usage, 200, true, request.stream === true);
    const meta = this.metadata(ctx, provider, completion.model, 0, true);
    const headers = this.gatewayHeaders(ctx, provider);
    if (!request.stream) {
      return { status: 200, headers: { 'content-type': 'application/json', ...headers }, body: spliceMetadata(body, meta) };
    }
    const events = completionToChunks(completion).map((c) => sseEvent(JSON.stringify(c)));
    const base = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model, choices: [] };
    if (request.stream_options?.include_usage && completion.usage) events.push(sseEvent(JSON.stringify({ ...base, usage: completion.usage })));
    events.push(sseEvent(JSON.stringify({ ...base, x_gateway: meta })), SSE_DONE);
    return { status: 200, headers: { ...sseHeaders, ...headers }, body: (async function* () { yield* events; })() };
  }

  private respondStream(
    ctx: RequestContext, request: ChatCompletionRequest, provider: string, admission: Admission, result: StreamResult, attemptStart: number,
    key: string | undefined, ttl: number,
  ): ApiResponse {
    const self = this;
    const { deps } = this;
    const clientWantsUsage = request.stream_options?.include_usage === true;
    const attempt: Attempt = { provider, model: result.model || request.model, status: 200, latency_ms: deps.now() - attemptStart };
    ctx.attempts.push(attempt);

    async function* body(): AsyncGenerator<string> {
      let usage: Usage | undefined;
      let status = 499; // stays so if the client leaves before the end
      let providerFailed = false;
      const assembler = key ? new StreamAssembler() : undefined;
      try {
        for await (const chunk of result.chunks) {
          if (chunk.usage) usage = chunk.usage;
          assembler?.add(chunk.json);
          if (chunk.usageOnly && !clientWantsUsage) continue;
          yield sseEvent(chunk.json);
        }
        status = 200;
        const cost = self.account(ctx, request, provider, attempt.model, usage, status, false, true);
        const assembled = assembler?.result();
        if (key && assembled) self.store(ctx, key, JSON.stringify(assembled), provider, attempt.model, ttl);
        const final = { id: result.id, object: 'chat.completion.chunk', created: result.created, model: attempt.model, choices: [], x_gateway: self.metadata(ctx, provider, attempt.model, cost, false) };
        yield sseEvent(JSON.stringify(final));
        yield SSE_DONE;
      } catch (err) {
        const error = err instanceof GatewayError ? err : new GatewayError(502, `${provider} sent a malformed stream.`, { type: 'api_error', code: 'upstream_bad_response', retryable: true });
        status = error.status;
        providerFailed = error.retryable || error.status >= 500;
        if (status !== 499) {
          self.account(ctx, request, provider, attempt.model, usage, status, false, true);
          deps.logger.warn('stream failed after it started', { request_id: ctx.requestId, provider, status, error: error.message });
          yield sseError(error);
        }
      } finally {
        if (status === 499) self.account(ctx, request, provider, attempt.model, usage, status, false, true);
        if (providerFailed) void deps.breaker.recordFailure(provider, admission, deps.now());
        else if (status === 200) void deps.breaker.recordSuccess(provider, admission);
        else deps.breaker.release(provider, admission);
      }
    }
    return { status: 200, headers: { ...sseHeaders, ...this.gatewayHeaders(ctx, provider) }, body: body() };
  }

  /** Account step: prices the request and hands one usage event to the queue. Returns the cost. */
  private account(ctx: RequestContext, request: ChatCompletionRequest, provider: string, model: string, usage: Usage | undefined, status: number, cacheHit: boolean, stream: boolean): number {
    const { deps } = this;
    const tokens = tokenCountsOf(usage);
    let cost = 0;
    if (!cacheHit && usage) {
      const priced = deps.prices.cost(model, tokens, provider === 'ollama');
      if (priced === undefined) {
        deps.logger.warn('no price known for model; cost recorded as 0', { request_id: ctx.requestId, provider, model });
      } else cost = priced;
    }
    deps.usage.publish({
      request_id: ctx.requestId,
      ...(ctx.correlationId ? { correlation_id: ctx.correlationId } : {}),
      tenant_id: ctx.tenant.id,
      provider,
      model: model || request.model,
      prompt_tokens: tokens.prompt_tokens,
      completion_tokens: tokens.completion_tokens,
      cached_tokens: tokens.cached_tokens,
      reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
      cost_usd: cost,
      latency_ms: deps.now() - ctx.startedMs,
      cache_hit: cacheHit,
      status,
      stream,
      timestamp: new Date(deps.now()).toISOString(),
    }).catch((err: unknown) => deps.logger.error('usage event could not be queued', { request_id: ctx.requestId, error: String(err) }));
    return cost;
  }
}

const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

function notConfigured(target: RouteTarget): GatewayError {
  return new GatewayError(404, `The model "${target.model}" is served by provider "${target.provider}", which is not configured on this gateway.`, {
    type: 'invalid_request_error', param: 'model', code: 'model_not_found',
  });
}

function withHeaders(error: GatewayError, headers: Record<string, string>): GatewayError {
  return new GatewayError(error.status, error.message, {
    type: error.type, param: error.param, code: error.code, retryable: error.retryable, headers: { ...headers, ...error.headers },
  });
}
