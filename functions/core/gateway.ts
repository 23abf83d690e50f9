// The gateway's public HTTP contract, independent of any server: routes an ApiRequest to the
// chat pipeline (through the ingress adapter of the client API on that route), the embeddings
// pipeline, the models list, the health report or the metrics. Errors take the shape of the
// route's ingress, else OpenAI's.
import { Accountant } from './accounting';
import { logAccess, withApiHeaders } from './access-log';
import { BudgetGuard, type BudgetLedger } from './budget';
import { jsonResponse, type ApiRequest, type ApiResponse } from './api-types';
import type { CircuitBreaker } from './breaker';
import { ChatPipeline } from './chat-pipeline';
import { PROVIDER_NAMES, type GatewayConfig } from './config';
import { EmbeddingsPipeline } from './embeddings-pipeline';
import { GatewayError, notFound, toGatewayError } from './errors';
import type { ChatIngress } from './ingress/ingress';
import { openAiChat } from './ingress/openai-chat';
import type { Logger } from './logger';
import { noMetrics, type Metrics } from './metrics';
import type { ModelObject } from './openai-types';
import type { BreakerPhase, RateLimiter, ResponseCache, TenantStore, UsageReader, UsageSink } from './ports';
import type { PriceBook } from './pricing/pricing';
import type { Provider, ProviderHealth } from './providers/provider';
import { requestIds, type RequestIds } from './request-context';
import { StoreUnavailableError, type StoreStatus } from './store-guard';
import { TenantGate } from './tenant-gate';

const HEALTH_CACHE_MS = 5000;
/** Routes besides the chat ingresses' whose every answer the accountant records and logs (see Accountant.record). */
const ACCOUNTED_ROUTES = new Set(['/v1/embeddings']);
/** /health answers within this, whatever a provider probe or a store is doing. */
const HEALTH_DEADLINE_MS = 1000;

export interface GatewayDeps {
  config: GatewayConfig;
  providers: ReadonlyMap<string, Provider>;
  tenants: TenantStore;
  limiter: RateLimiter;
  cache: ResponseCache;
  breaker: CircuitBreaker;
  usage: UsageSink;
  /** Totals for GET /v1/usage. */
  usageReader: UsageReader;
  budgetLedger: BudgetLedger;
  prices: PriceBook;
  logger: Logger;
  now: () => number;
  metrics?: Metrics;
  /** Prometheus text for GET /metrics; absent where metrics go elsewhere (CloudWatch in Lambda). */
  renderMetrics?: () => string;
  /** Each shared store's status (ok or down), for /health. */
  storeStatus?: () => Record<string, StoreStatus>;
  /** The client chat APIs served, each on its own route; OpenAI chat completions when absent. */
  ingresses?: readonly ChatIngress[];
}

type Handler = (req: ApiRequest, ids: RequestIds) => Promise<ApiResponse>;

export class Gateway {
  private readonly gate: TenantGate;
  private readonly routes: Record<string, Record<string, Handler>>;
  /** Each chat route's ingress adapter, by path. */
  private readonly ingresses = new Map<string, ChatIngress>();
  private healthCache: { atMs: number; providers: Promise<Record<string, ProviderHealth>> } | undefined;
  private readonly budget: BudgetGuard;
  /**
   * Requests in `handle` that the accountant has not logged yet: when `handle` ends, those still
   * here get their access line from it (refusals before any provider, routes that reach none).
   */
  private readonly unaccounted = new Set<string>();

  constructor(private readonly deps: GatewayDeps) {
    const metrics = deps.metrics ?? noMetrics;
    this.gate = new TenantGate(deps.tenants, deps.limiter, metrics, deps.now);
    this.budget = new BudgetGuard(deps.budgetLedger, deps.logger, deps.now, metrics);
    const accountant = new Accountant(deps.prices, deps.usage, metrics, deps.logger, deps.now, (ctx, tokens, cacheHit) => {
      if (!cacheHit) this.gate.spendTokens(ctx.tenant, tokens);
      this.unaccounted.delete(ctx.requestId); // its access line is the accountant's
    });
    const shared = { ...deps, metrics, gate: this.gate, accountant, budget: this.budget };
    const chat = new ChatPipeline(shared);
    const embeddings = new EmbeddingsPipeline(shared);
    this.routes = {
      '/health': { GET: (req) => this.health(req) },
      '/v1/models': { GET: (req) => this.models(req) },
      '/v1/embeddings': { POST: (req, ids) => embeddings.handle(req, ids) },
      '/v1/usage': { GET: (req) => this.usage(req) },
    };
    for (const ingress of deps.ingresses ?? [openAiChat]) {
      this.ingresses.set(ingress.path, ingress);
      this.routes[ingress.path] = { [ingress.method]: (req, ids) => chat.handle(ingress, req, ids) };
    }
    const render = deps.renderMetrics;
    if (render) {
      this.routes['/metrics'] = { GET: async () => ({ status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: render() }) };
    }
  }

  /**
   * Resolves once the work requests left behind (budget settlements, usage events) is handed
   * over: a Lambda calls it before returning, since its environment freezes after that.
   */
  async flush(): Promise<void> {
    await Promise.all([this.budget.settled(), this.deps.usage.flush()]);
  }

  /**
   * For servers that read the body themselves: the answer to a tenant route (/v1/*) whose key,
   * judged from the headers alone, is missing, unknown or disabled, so the body need not be read
   * (an unauthenticated client cannot make the process buffer it). Undefined: read the body and
   * call `handle`, which checks everything again (a store fault is left for it to answer).
   */
  async refuseBeforeBody(req: Omit<ApiRequest, 'body'>): Promise<ApiResponse | undefined> {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    if (!path.startsWith('/v1/') || !this.routes[path]?.[req.method]) return undefined;
    const head: ApiRequest = { ...req, body: Buffer.alloc(0) };
    const ingress = this.ingresses.get(path);
    const startedMs = this.deps.now();
    try {
      await this.gate.authenticate(ingress ? ingress.withBearerKey(head) : head);
      return undefined;
    } catch (err) {
      if (!(err instanceof GatewayError) || (err.status !== 401 && err.status !== 403)) return undefined;
      const ids = requestIds(head);
      logAccess(this.deps.logger, req, { requestId: ids.requestId, correlationId: ids.correlationId, status: err.status, code: err.code, latencyMs: this.deps.now() - startedMs });
      return withApiHeaders(jsonResponse(err.status, ingress ? ingress.errorBody(err) : err.toBody(), { 'x-request-id': ids.requestId, ...err.headers }), ids.requestId);
    }
  }

  /** Never throws: every failure becomes an error response in the route's API's shape. */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    const ids = requestIds(req);
    const startedMs = this.deps.now();
    this.unaccounted.add(ids.requestId);
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    try {
      const route = this.routes[path];
      if (!route) throw notFound(`Unknown path: ${req.method} ${req.path}.`);
      const handler = route[req.method];
      if (!handler) {
        throw new GatewayError(405, `Method ${req.method} is not allowed on ${req.path}; use ${Object.keys(route).join(', ')}.`, {
          code: 'method_not_allowed', headers: { allow: Object.keys(route).join(', ') },
        });
      }
      if (req.body.length > this.deps.config.maxBodyBytes) throw bodyTooLarge(this.deps.config.maxBodyBytes);
      const res = await handler(req, ids);
      // A pipeline's success is the accountant's to log (a stream's, once it ends).
      this.access(req, ids, startedMs, res.status, null, !ACCOUNTED_ROUTES.has(path) && !this.ingresses.has(path));
      return withApiHeaders(res, ids.requestId);
    } catch (err) {
      const error = toGatewayError(err);
      // A store outage is logged once per change of state by its guard, not per request.
      if (error.status >= 500 && !(err instanceof GatewayError) && !(err instanceof StoreUnavailableError)) {
        this.deps.logger.error('unhandled error', { request_id: ids.requestId, error: err instanceof Error ? err.stack : String(err) });
      }
      const idHeaders: Record<string, string> = { 'x-request-id': ids.requestId };
      if (ids.correlationId) idHeaders['x-correlation-id'] = ids.correlationId;
      this.access(req, ids, startedMs, error.status, error.code, true);
      const ingress = this.ingresses.get(path);
      return withApiHeaders(jsonResponse(error.status, ingress ? ingress.errorBody(error) : error.toBody(), { ...idHeaders, ...error.headers }), ids.requestId);
    }
  }

  /** Writes the request's access line if it is to be logged here and the accountant has not. */
  private access(req: ApiRequest, ids: RequestIds, startedMs: number, status: number, code: string | null, log: boolean): void {
    if (!this.unaccounted.delete(ids.requestId) || !log) return;
    logAccess(this.deps.logger, req, { requestId: ids.requestId, correlationId: ids.correlationId, status, code, latencyMs: this.deps.now() - startedMs });
  }

  /**
   * A liveness answer, always 200 within HEALTH_DEADLINE_MS: "degraded" when no provider answers
   * or a shared store is down (named under `stores`). `?ready=1` answers 503 when degraded, for
   * readiness checks that should take the instance out of rotation.
   */
  private async health(req: ApiRequest): Promise<ApiResponse> {
    const now = this.deps.now();
    if (!this.healthCache || now - this.healthCache.atMs > HEALTH_CACHE_MS) {
      this.healthCache = { atMs: now, providers: this.probeProviders() };
    }
    const configured = [...this.deps.providers.values()].filter((p) => p.configured).map((p) => p.name);
    const [providers, phases] = await Promise.all([
      withDeadline(this.healthCache.providers, () => Object.fromEntries(configured.map((n): [string, ProviderHealth] => [n, 'error']))),
      withDeadline(this.deps.breaker.phases(), (): Record<string, BreakerPhase> => ({})),
    ]);
    const breakers = Object.fromEntries(configured.map((name) => [name, phases[name] ?? 'closed']));
    const stores = this.deps.storeStatus?.() ?? {};
    const storeDown = Object.values(stores).includes('down');
    const healthy = Object.values(providers).some((h) => h === 'ok') && !storeDown;
    const status = healthy ? 'healthy' : 'degraded';
    const ready = req.query.get('ready');
    const code = ready !== null && ready !== '0' && storeDown ? 503 : 200;
    return jsonResponse(code, { status, version: this.deps.config.version, providers, circuit_breakers: breakers, stores });
  }

  private async probeProviders(): Promise<Record<string, ProviderHealth>> {
    const entries = await Promise.all(PROVIDER_NAMES.map(async (name): Promise<[string, ProviderHealth]> => {
      const provider = this.deps.providers.get(name);
      if (!provider?.configured) return [name, 'unconfigured'];
      return [name, await provider.health().catch((): ProviderHealth => 'error')];
    }));
    return Object.fromEntries(entries);
  }

  /** Route aliases, then every configured provider's models, each with its provider and price. */
  private async models(req: ApiRequest): Promise<ApiResponse> {
    await this.gate.authenticate(req);
    const { routing } = this.deps.config;
    const data: ModelObject[] = Object.entries(routing.routes).map(([alias, route]) => ({
      id: alias, object: 'model', created: 0, owned_by: 'gateway', x_gateway: { route: route.targets },
    }));
    const lists = await Promise.all([...this.deps.providers.values()].filter((p) => p.configured).map(async (p) => {
      try {
        return (await p.listModels()).map((m) => ({ ...m, x_gateway: this.modelInfo(p.name, m.id) }));
      } catch (err) {
        this.deps.logger.warn('could not list models', { provider: p.name, error: (err as Error).message });
        return [];
      }
    }));
    for (const list of lists) data.push(...list);
    return jsonResponse(200, { object: 'list', data });
  }

  /** The calling tenant's spend this month (UTC), in the seed's shape plus tokens and cache hits. */
  private async usage(req: ApiRequest): Promise<ApiResponse> {
    const tenant = await this.gate.authenticate(req);
    const now = new Date(this.deps.now());
    const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const t = await this.deps.usageReader.totals(tenant.id, periodStart.toISOString(), now.toISOString());
    return jsonResponse(200, {
      tenant_id: tenant.id,
      period_start: periodStart.toISOString().replace('.000Z', 'Z'),
      total_cost_usd: t.cost_usd,
      budget_usd: tenant.budget_usd,
      budget_used_pct: tenant.budget_usd > 0 ? Math.round((t.cost_usd / tenant.budget_usd) * 100 * 1e6) / 1e6 : 0,
      request_count: t.request_count,
      prompt_tokens: t.prompt_tokens,
      completion_tokens: t.completion_tokens,
      cache_hits: t.cache_hits,
      cache_hit_rate: t.request_count > 0 ? Math.round((t.cache_hits / t.request_count) * 1e4) / 1e4 : 0,
    });
  }

  private modelInfo(provider: string, model: string): Record<string, unknown> {
    if (provider === 'ollama') return { provider, input_per_mtok: 0, output_per_mtok: 0 };
    const price = this.deps.prices.lookup(model);
    return price
      ? { provider, input_per_mtok: price.input_per_mtok, output_per_mtok: price.output_per_mtok, cache_read_per_mtok: price.cache_read_per_mtok ?? null }
      : { provider };
  }
}

/** The value, or the fallback's if it takes longer than HEALTH_DEADLINE_MS. */
function withDeadline<T>(value: Promise<T>, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => { timer = setTimeout(() => resolve(fallback()), HEALTH_DEADLINE_MS); });
  return Promise.race([value.catch(fallback), late]).finally(() => clearTimeout(timer));
}

export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError(413, `The request body exceeds the ${limit}-byte limit (MAX_BODY_BYTES).`, { code: 'request_too_large' });
}
