// The pipeline's first steps: auth (API key → tenant), the tenant's rate limits and, beside them,
// its budget reservation.
import type { ApiRequest } from './api-types';
import { GatewayError } from './errors';
import type { BudgetHandle } from './budget';
import { METRIC, type Metrics } from './metrics';
import type { RateLimitDecision, RateLimiter, Tenant, TenantStore } from './ports';
import type { RequestContext, RequestIds } from './request-context';
import { NO_SPAN } from './telemetry';
import { parseJsonBody } from './validate';
import { authenticateTenant, BEARER_KEY, type ApiKeySource } from './tenant-auth';

/**
 * The budget reservation a pipeline makes for a request, run beside the rate limits (a function
 * made once per pipeline: it gets what it needs as arguments).
 */
export type ReserveBudget<T> = (tenant: Tenant, request: T, req: ApiRequest) => Promise<BudgetHandle>;

export class TenantGate {
  constructor(
    private readonly tenants: TenantStore,
    private readonly limiter: RateLimiter,
    private readonly metrics: Metrics,
    private readonly now: () => number,
  ) {}

  /**
   * The steps every API request starts with: auth, then the body parsed and checked by
   * `validate`, the tenant's model policy, then its rate limits, with the budget reservation at
   * the same time: with a shared store each is a round trip of its own, so they cost one round
   * trip's wait, not the sum. Returns the request, the parsed body it was read from, its context
   * and its budget handle; a request a limit refuses gives its reservation back.
   */
  async admit<T extends { model: string }>(
    req: ApiRequest,
    ids: RequestIds,
    validate: (body: Record<string, unknown>) => T,
    reserve: ReserveBudget<T>,
    keys: ApiKeySource = BEARER_KEY,
  ): Promise<{ request: T; body: Readonly<Record<string, unknown>>; ctx: RequestContext; budget: BudgetHandle }> {
    const tenant = await this.authenticate(req, keys);
    const body = parseJsonBody(req.body);
    const request = validate(body);
    this.checkModel(tenant, request.model);
    // Every field present from the start, so the object keeps one shape for V8.
    const ctx: RequestContext = {
      requestId: ids.requestId,
      correlationId: ids.correlationId,
      traceId: ids.traceId,
      span: ids.span,
      startedMs: this.now(),
      tenant,
      headers: {},
      attempts: [],
      signal: req.signal,
    };
    if (ids.span !== NO_SPAN) ids.span.setAttributes({ 'ai_gateway.tenant.id': tenant.id });
    if (tenant.rate_limit_rpm <= 0 && tenant.rate_limit_tpm <= 0) return { request, body, ctx, budget: await reserve(tenant, request, req) };
    const limits: Array<Promise<void>> = [];
    if (tenant.rate_limit_rpm > 0) limits.push(this.rateLimit(ctx));
    if (tenant.rate_limit_tpm > 0) limits.push(this.tokenLimit(ctx));
    const [budget, ...checks] = await Promise.allSettled([reserve(tenant, request, req), ...limits]);
    // The first refusal in step order (requests, tokens, then the budget) is the answer.
    const refused = checks.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (budget.status === 'rejected') throw refused ? refused.reason : budget.reason;
    if (refused) {
      budget.value.release();
      throw refused.reason;
    }
    return { request, body, ctx, budget: budget.value };
  }

  /**
   * The tenant's model policy: with `allowed_models` set, the requested name (a model, a
   * `provider/model` name or a route alias) must be on the list.
   */
  checkModel(tenant: Tenant, model: string): void {
    if (tenant.allowed_models.length === 0 || tenant.allowed_models.includes(model)) return;
    throw new GatewayError(403, `The model "${model}" is not allowed for tenant "${tenant.id}".`, {
      type: 'permission_error',
      param: 'model',
      code: 'model_not_allowed',
    });
  }

  /** Auth step: see `authenticateTenant`. */
  authenticate(req: Pick<ApiRequest, 'headers'>, keys: ApiKeySource = BEARER_KEY): Promise<Tenant> {
    return authenticateTenant(this.tenants, req, keys);
  }

  /** Tokens per minute: admits while the window's spent tokens are under the limit. */
  async tokenLimit(ctx: RequestContext): Promise<void> {
    this.apply(ctx, 'tokens', await this.limiter.checkTokens(ctx.tenant.id, ctx.tenant.rate_limit_tpm, this.now()));
  }

  /** Counts a finished request's tokens against its tenant's per-minute token limit. */
  spendTokens(tenant: Tenant, tokens: number): void {
    if (tenant.rate_limit_tpm <= 0 || tokens <= 0) return;
    this.limiter.addTokens(tenant.id, tokens, this.now()).catch(() => {
      // A lost token count only loosens the limit for this window; the request already succeeded.
    });
  }

  /** Rate-limit step: admits the request or throws 429 with Retry-After and x-ratelimit headers. */
  async rateLimit(ctx: RequestContext): Promise<void> {
    if (ctx.tenant.rate_limit_rpm <= 0) return;
    this.apply(ctx, 'requests', await this.limiter.consumeRequest(ctx.tenant.id, ctx.tenant.rate_limit_rpm, this.now()));
  }

  /** Sets OpenAI's x-ratelimit-*-<kind> headers and refuses with 429 + Retry-After when over. */
  private apply(ctx: RequestContext, kind: 'requests' | 'tokens', d: RateLimitDecision): void {
    ctx.headers[`x-ratelimit-limit-${kind}`] = String(d.limit);
    ctx.headers[`x-ratelimit-remaining-${kind}`] = String(d.remaining);
    ctx.headers[`x-ratelimit-reset-${kind}`] = `${Math.ceil(d.resetMs / 1000)}s`;
    if (d.allowed) return;
    this.metrics.count(METRIC.rateLimited, { tenant: ctx.tenant.id, limit: kind });
    throw new GatewayError(429, `Rate limit reached for tenant "${ctx.tenant.id}": ${d.limit} ${kind} per minute. Retry after the reset.`, {
      type: kind,
      code: 'rate_limit_exceeded',
      headers: { ...ctx.headers, 'retry-after': String(Math.max(1, Math.ceil(d.resetMs / 1000))) },
    });
  }
}
