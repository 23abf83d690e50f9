// functions/core — the gateway on any runtime: the API shell (every route an ApiHandler,
// api-types.ts), the chat and embeddings pipelines, routing, fallback, breaker, budgets, cache,
// pricing, accounting and errors. It imports nothing at run time but node: and itself (a test holds
// this), takes settings types from functions/config and reaches stores only through ports/. Servers,
// Lambda events, the AWS SDK and store clients belong in functions/adapters or functions/local.
//
// The gateway's public HTTP contract, independent of any server: routes an ApiRequest to the
// chat pipeline (through the ingress adapter of the client API on that route), the embeddings
// pipeline, the models list and lookup, the health report or the metrics. Errors take the shape of
// the route's ingress, else OpenAI's.
import { Accountant, freeProviders } from './accounting';
import type { BackendModels } from './backend-models';
import { logAccess, withApiHeaders } from './access-log';
import { endSpan, routedPath, routeFor, routeKeyFor, serveRoutes, serverSpan, type RouteHandler } from './api-shell';
import { BudgetGuard } from './budget';
import type { BudgetLedger } from './ports';
import { jsonResponse, type ApiHandler, type ApiRequest, type ApiResponse } from './api-types';
import type { CircuitBreaker } from './breaker';
import type { Cooldowns } from './cooldowns';
import { ChatPipeline } from './chat-pipeline';
import type { ProviderSettings, RoutingSettings, ServerSettings, StoreSettings, TelemetrySettings } from '../config';
import { EmbeddingsPipeline } from './embeddings-pipeline';
import { GatewayError, notFound } from './errors';
import type { ChatIngress } from './ingress/ingress';
import { COUNT_TOKENS_PATH, CountTokensRoute } from './ingress/anthropic-messages/count-tokens';
import { openAiChat } from './ingress/openai-chat';
import { openAiResponsesIngress, ResponseKeeper } from './ingress/openai-responses';
import { anthropicMessages } from './ingress/anthropic-messages';
import type { Logger } from './logger';
import { noMetrics, type Metrics } from './metrics';
import { MODEL_PATH, MODELS_PATH, ModelsRoute } from './models-route';
import type { BreakerPhase, RateLimiter, ResponseCache, ResponseStore, TenantStore, UsageReader, UsageSink } from './ports';
import type { PriceBook } from './pricing/pricing';
import type { Provider, ProviderHealth } from './providers/provider';
import { requestIds } from './request-context';
import { TargetPlanner } from './routing';
import { responseIdFromPath, responseRoutes, RESPONSES_PATH } from './responses-routes';
import type { StoreStatus } from './store-guard';
import { TenantGate } from './tenant-gate';
import { usageRoute } from './usage-route';
import type { Span, Telemetry } from './ports/telemetry';
import { NO_SPAN } from './telemetry';

const HEALTH_CACHE_MS = 5000;
/** Routes besides the chat ingresses' whose every answer the accountant records and logs (see Accountant.record). */
const ACCOUNTED_ROUTES = new Set(['/v1/embeddings']);
/** /health answers within this, whatever a provider probe or a store is doing. */
const HEALTH_DEADLINE_MS = 1000;

export interface GatewayDeps {
  /** The pipelines' settings, the body limit, the version /health reports and how long stored responses live. */
  config: ProviderSettings & RoutingSettings & Pick<ServerSettings, 'maxBodyBytes' | 'version'> & Pick<StoreSettings, 'responses'> & Partial<TelemetrySettings>;
  providers: ReadonlyMap<string, Provider>;
  tenants: TenantStore;
  limiter: RateLimiter;
  cache: ResponseCache;
  /** Stored responses of the Responses API; absent where nothing serves that API. */
  responses?: ResponseStore;
  breaker: CircuitBreaker;
  cooldowns: Cooldowns;
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
  /** The client chat APIs served, each on its own route; OpenAI chat completions and Responses, and Anthropic Messages, when absent. */
  ingresses?: readonly ChatIngress[];
  /** The models OpenAI-compatible named backends list themselves, for /v1/models. */
  backendModels?: BackendModels;
  /** Where each request's SERVER span and each provider attempt's CLIENT span go; none are made when absent. */
  telemetry?: Telemetry;
}

export class Gateway {
  private readonly gate: TenantGate;
  private readonly routes: Record<string, Record<string, RouteHandler>>;
  /** Every route inside the API shell (ids, 404/405/413, error shape, access lines). */
  readonly handle: ApiHandler;
  /** Each chat route's ingress adapter, by path. */
  private readonly ingresses = new Map<string, ChatIngress>();
  /** Where each client-API route (the chat ingresses', count_tokens) reads the key, and the shape of its errors. */
  private readonly clientApis = new Map<string, Pick<ChatIngress, 'apiKey' | 'errorBody' | 'errorStatus'>>();
  private healthCache: { atMs: number; providers: Promise<Record<string, ProviderHealth>> } | undefined;
  private readonly budget: BudgetGuard;
  /** Stored responses of the Responses API, written off the client's path. */
  private readonly keptResponses: ResponseKeeper | undefined;
  /**
   * Requests in `handle` that the accountant has not logged yet: when `handle` ends, those still
   * here get their access line from the shell (refusals before any provider, routes that reach none).
   */
  private readonly unaccounted = new Set<string>();

  constructor(private readonly deps: GatewayDeps) {
    const metrics = deps.metrics ?? noMetrics;
    this.gate = new TenantGate(deps.tenants, deps.limiter, metrics, deps.now);
    this.budget = new BudgetGuard(deps.budgetLedger, deps.logger, deps.now, metrics);
    const accountant = new Accountant(
      deps.prices,
      deps.usage,
      metrics,
      deps.logger,
      deps.now,
      (ctx, tokens, cacheHit) => {
        if (!cacheHit) this.gate.spendTokens(ctx.tenant, tokens);
        this.unaccounted.delete(ctx.requestId); // its access line is the accountant's
      },
      freeProviders(deps.config.routing),
    );
    const shared = { ...deps, metrics, gate: this.gate, accountant, budget: this.budget };
    const chat = new ChatPipeline(shared);
    const embeddings = new EmbeddingsPipeline(shared);
    const models = new ModelsRoute({ ...deps, routing: deps.config.routing, authenticate: (req) => this.gate.authenticate(req) });
    this.routes = {
      '/health': { GET: (req) => this.health(req) },
      [MODELS_PATH]: { GET: (req) => models.list(req) },
      [MODEL_PATH]: { GET: (req) => models.retrieve(req) },
      '/v1/embeddings': { POST: (req, ids) => embeddings.handle(req, ids) },
      '/v1/usage': { GET: usageRoute({ authenticate: (req) => this.gate.authenticate(req), usageReader: deps.usageReader, now: deps.now }) },
    };
    const kept = deps.responses && new ResponseKeeper(deps.responses, deps.config.responses.ttlSeconds, deps.now, deps.logger);
    this.keptResponses = kept;
    for (const ingress of deps.ingresses ?? [openAiChat, openAiResponsesIngress(kept), anthropicMessages]) {
      this.ingresses.set(ingress.path, ingress);
      this.clientApis.set(ingress.path, ingress);
      this.routes[ingress.path] = { [ingress.method]: (req, ids) => chat.handle(ingress, req, ids) };
    }
    if (kept) {
      const stored = responseRoutes({ authenticate: (req) => this.gate.authenticate(req), responses: kept, now: deps.now });
      /** The id in the path; a deeper path (`/v1/responses/{id}/input_items`) is not served. */
      const idOf = (req: ApiRequest): string => {
        const id = responseIdFromPath(req.path);
        if (id === null) throw notFound(`Unknown path: ${req.method} ${req.path}.`);
        return id;
      };
      this.routes[`${RESPONSES_PATH}/*`] = { GET: (req) => stored.retrieve(req, idOf(req)), DELETE: (req) => stored.remove(req, idOf(req)) };
    }
    const configured = [...deps.providers.values()].filter((p) => p.configured).map((p) => p.name);
    const planner = new TargetPlanner(deps.config.routing, deps.prices, deps.config.defaultProvider, configured, deps.now);
    const countTokens = new CountTokensRoute({
      authenticate: (req, keys) => this.gate.authenticate(req, keys),
      checkModel: (tenant, model) => this.gate.checkModel(tenant, model),
      plan: (input) => planner.plan(input),
      providers: deps.providers,
      breaker: deps.breaker,
      now: deps.now,
      upstreamTimeoutMs: deps.config.upstreamTimeoutMs,
      logger: deps.logger,
      telemetry: deps.telemetry,
      directory: deps.config.routing,
    });
    this.routes[COUNT_TOKENS_PATH] = { POST: (req, ids) => countTokens.handle(req, ids) };
    this.clientApis.set(COUNT_TOKENS_PATH, countTokens);
    const render = deps.renderMetrics;
    if (render) {
      this.routes['/metrics'] = { GET: async () => ({ status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: render() }) };
    }
    this.handle = serveRoutes(this.routes, {
      logger: deps.logger,
      now: deps.now,
      maxBodyBytes: deps.config.maxBodyBytes,
      telemetry: deps.telemetry,
      access: {
        begin: (ids) => {
          this.unaccounted.add(ids.requestId);
        },
        // A pipeline's success is the accountant's to log (a stream's, once it ends).
        shellLogs: (path, ids, failed) => this.unaccounted.delete(ids.requestId) && (failed || (!ACCOUNTED_ROUTES.has(path) && !this.ingresses.has(path))),
      },
      errorBody: (path, error) => this.errorAnswer(path, error).body,
      errorStatus: (path, error) => this.errorAnswer(path, error).status,
    });
  }

  /**
   * An error's status and JSON body on `path`, in the shape of the client API served there (OpenAI's
   * elsewhere): for the shell, and for a server's own refusals (a body over the limit) made before
   * a request reaches `handle`.
   */
  errorAnswer(path: string, error: GatewayError): { status: number; body: unknown } {
    const api = this.clientApis.get(routedPath(path));
    if (!api) return { status: error.status, body: error.toBody() };
    return { status: api.errorStatus?.(error) ?? error.status, body: api.errorBody(error) };
  }

  /**
   * Resolves once the work requests left behind (budget settlements, usage events, stored
   * responses) is handed over: a Lambda calls it before returning, since its environment freezes
   * after that.
   */
  async flush(): Promise<void> {
    await Promise.all([this.budget.settled(), this.deps.usage.flush(), this.keptResponses?.flush(), this.deps.telemetry?.flush?.()]);
  }

  /**
   * The SERVER span of a request a server refuses before `handle` sees it (a body over the limit,
   * a request that is not valid HTTP), begun at `startMs` (epoch ms); NO_SPAN when telemetry is
   * off. The server ends it with `endRefusalSpan`.
   */
  refusalSpan(req: Omit<ApiRequest, 'body'>, startMs: number): Span {
    const { telemetry } = this.deps;
    return telemetry?.enabled ? serverSpan(telemetry, req, routeKeyFor(this.routes, routedPath(req.path)), startMs) : NO_SPAN;
  }

  /**
   * For servers that read the body themselves: the answer to a tenant route (/v1/*) whose key,
   * judged from the headers alone, is missing, unknown or disabled, so the body need not be read
   * (an unauthenticated client cannot make the process buffer it). Undefined: read the body and
   * call `handle`, which checks everything again (a store fault is left for it to answer).
   */
  async refuseBeforeBody(req: Omit<ApiRequest, 'body'>): Promise<ApiResponse | undefined> {
    const path = routedPath(req.path);
    if (!path.startsWith('/v1/') || !routeFor(this.routes, path)?.[req.method]) return undefined;
    const head: ApiRequest = { ...req, body: Buffer.alloc(0) };
    const ingress = this.clientApis.get(path);
    const startedMs = this.deps.now();
    const { telemetry } = this.deps;
    const wallStartMs = telemetry?.enabled ? Date.now() : 0;
    try {
      await this.gate.authenticate(head, ingress?.apiKey);
      return undefined;
    } catch (err) {
      if (!(err instanceof GatewayError) || (err.status !== 401 && err.status !== 403)) return undefined;
      // The refusal is the request's whole answer: its SERVER span is made now, from when it began.
      const span = telemetry?.enabled ? serverSpan(telemetry, req, routeKeyFor(this.routes, path), wallStartMs) : NO_SPAN;
      const ids = requestIds(head, span);
      logAccess(this.deps.logger, req, {
        requestId: ids.requestId,
        correlationId: ids.correlationId,
        status: err.status,
        code: err.code,
        latencyMs: this.deps.now() - startedMs,
      });
      const { status, body } = this.errorAnswer(path, err);
      if (span !== NO_SPAN) endSpan(span, status, err.code);
      return withApiHeaders(jsonResponse(status, body, { 'x-request-id': ids.requestId, ...err.headers }), ids.requestId);
    }
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
    const entries = await Promise.all(
      [...this.deps.providers].map(async ([name, provider]): Promise<[string, ProviderHealth]> => {
        if (!provider.configured) return [name, 'unconfigured'];
        return [name, await provider.health().catch((): ProviderHealth => 'error')];
      }),
    );
    return Object.fromEntries(entries);
  }
}

/** The value, or the fallback's if it takes longer than HEALTH_DEADLINE_MS. */
function withDeadline<T>(value: Promise<T>, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback()), HEALTH_DEADLINE_MS);
  });
  return Promise.race([value.catch(fallback), late]).finally(() => clearTimeout(timer));
}
