// Model resolution: which provider (and which model name there) serves a requested model, and in
// which order a request tries its targets (a balanced route's order: balancer.ts).
import type { Route, RouteTarget, RoutingFile } from '../config';
import { LatencyBoard, LeastLatencyBalancer, strategyOf, WeightedBalancer, type RouteBalancer } from './balancer';
import { BUILT_IN_PROVIDERS, isBuiltInProvider, providerNames, providerType } from './provider-names';
import { GatewayError } from './errors';
import type { Tenant } from './ports';
import type { PriceBook } from './pricing/pricing';
import type { Attempt } from './request-context';

const OPENAI_MODEL = /^(gpt-|chatgpt-|text-embedding-|o\d+(-|$)|dall-e-|whisper-|tts-|omni-moderation)/;
const ANTHROPIC_MODEL = /^claude-/;
/** Bedrock model ids: `vendor.model…`, optionally behind a cross-region inference-profile prefix. */
const BEDROCK_MODEL = /^((us|eu|apac|au|jp|global)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|qwen|openai|writer)\.[\w.:-]+$/;

/** Each provider's model for provider-level fallback when config names none (`providers.<p>.default_model`). */
const BUILT_IN_DEFAULT_MODELS: Readonly<Record<string, string>> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
  bedrock: 'anthropic.claude-3-haiku-20240307-v1:0',
  ollama: 'llama3.2',
};

export interface RoutingInput {
  model: string;
  /** Value of the X-Provider header, if any. */
  forcedProvider?: string;
  tenant: Tenant;
}

/**
 * Resolves the ordered targets for a request, in DESIGN order: route alias, `provider/model`
 * prefix, X-Provider, the catalog's provider for a known model, the tenant's default provider,
 * then DEFAULT_PROVIDER.
 */
export function resolveTargets(input: RoutingInput, routing: RoutingFile, prices: PriceBook, defaultProvider: string): RouteTarget[] {
  // Own properties only: a model called "constructor" is a model, not Object.prototype's.
  if (Object.hasOwn(routing.routes, input.model)) return routeTargets(routing.routes[input.model] as Route, input.forcedProvider);

  const slash = input.model.indexOf('/');
  if (slash > 0) {
    const prefix = input.model.slice(0, slash).toLowerCase();
    if (isProviderName(prefix, routing)) return [{ provider: prefix, model: input.model.slice(slash + 1) }];
  }
  if (input.forcedProvider !== undefined) {
    const forced = input.forcedProvider.toLowerCase();
    if (!isProviderName(forced, routing)) {
      throw new GatewayError(400, `Unknown provider "${input.forcedProvider}" in X-Provider; expected one of ${providerNames(routing).join(', ')}.`, {
        param: 'X-Provider',
        code: 'invalid_provider',
      });
    }
    return [{ provider: forced, model: input.model }];
  }
  const known = catalogProvider(input.model, prices);
  if (known) return [{ provider: known, model: input.model }];
  return [{ provider: input.tenant.default_provider ?? defaultProvider, model: input.model }];
}

/** The provider that the catalog (or a well-known name pattern) says serves this model. */
function catalogProvider(model: string, prices: PriceBook): string | undefined {
  const listed = prices.lookup(model)?.provider;
  if (listed) return listed;
  if (OPENAI_MODEL.test(model)) return 'openai';
  if (ANTHROPIC_MODEL.test(model)) return 'anthropic';
  if (BEDROCK_MODEL.test(model)) return 'bedrock';
  return undefined;
}

export interface PlannedTarget extends RouteTarget {
  /** Why this target is in the plan: the resolved one, or a provider-level fallback. */
  via: 'route' | 'primary' | 'fallback';
}

/**
 * The whole ordered plan for a request: a route alias's own targets, or the resolved target
 * followed by provider-level fallbacks. Fallback providers come from the tenant, else the config,
 * else every configured built-in provider in the order openai, anthropic, bedrock, ollama; each
 * serves the requested model if the catalog says it does, otherwise its default model (a named
 * provider only its `default_model`). A request that names its provider (`provider/model`,
 * X-Provider) gets no fallback unless `fallback.explicit` is set or the tenant lists its own
 * fallback providers: nothing the client did not choose is spent on its behalf. Nor does a model
 * whose provider is not configured (a 404 tells the client more than another model would).
 */
export function planTargets(
  input: RoutingInput,
  routing: RoutingFile,
  prices: PriceBook,
  defaultProvider: string,
  configured: readonly string[],
): PlannedTarget[] {
  if (Object.hasOwn(routing.routes, input.model)) {
    return routeTargets(routing.routes[input.model] as Route, input.forcedProvider).map((t) => ({ ...t, via: 'route' as const }));
  }
  const primary = resolveTargets(input, routing, prices, defaultProvider).map((t) => ({ ...t, via: 'primary' as const }));
  // A provider that is not configured at all (the client's mistake) gets no fallback.
  if (!configured.includes(primary[0]?.provider ?? '')) return primary;
  const explicit = input.forcedProvider !== undefined || namesProvider(input.model, routing);
  if (explicit && !routing.fallback.explicit && input.tenant.fallback_providers === undefined) return primary;
  const order = input.tenant.fallback_providers ?? routing.fallback_providers ?? BUILT_IN_PROVIDERS.filter((p) => configured.includes(p));
  const first = primary[0];
  const plan: PlannedTarget[] = [...primary];
  const allowed = input.tenant.allowed_models;
  for (const provider of order) {
    if (provider === first?.provider || !configured.includes(provider)) continue;
    const model =
      first && catalogProvider(first.model, prices) === provider
        ? first.model
        : (routing.providers[provider]?.default_model ?? (isBuiltInProvider(provider) ? BUILT_IN_DEFAULT_MODELS[provider] : undefined));
    // A tenant limited to some models never falls back to one outside its list.
    if (!model || (allowed.length > 0 && !allowed.includes(model) && !allowed.includes(`${provider}/${model}`))) continue;
    plan.push({ provider, model, via: 'fallback' });
  }
  return plan;
}

/**
 * A route's targets, in the order given. With X-Provider, those at that provider (it names one
 * deployment, which is not balanced); a route with none there keeps all of them.
 */
function routeTargets(route: Route, forcedProvider: string | undefined): RouteTarget[] {
  if (forcedProvider === undefined) return route.targets;
  const forced = forcedProvider.toLowerCase();
  const there = route.targets.filter((t) => t.provider === forced);
  return there.length > 0 ? there : route.targets;
}

function isProviderName(name: string, routing: RoutingFile): boolean {
  return providerType(name, routing) !== undefined;
}

/** True for a `provider/model` name whose prefix is a provider. */
function namesProvider(model: string, routing: RoutingFile): boolean {
  const slash = model.indexOf('/');
  return slash > 0 && isProviderName(model.slice(0, slash).toLowerCase(), routing);
}

const MAX_PLANS_PER_TENANT = 1000;

/**
 * planTargets with a per-tenant memo: a plan depends only on the config, the tenant record and
 * the request's model and X-Provider, so it is computed once per combination. Keyed by the tenant
 * object, a tenant record reloaded from its store starts with a fresh memo. A balanced route
 * (see balancer.ts) is planned by its balancer instead: one of its memoised orders per request.
 */
export class TargetPlanner {
  private readonly memo = new WeakMap<Tenant, Map<string, PlannedTarget[]>>();
  private readonly balancers = new Map<string, RouteBalancer>();
  /** Only when a route balances by latency: then `observe` feeds it. */
  private readonly latency: LatencyBoard | undefined;

  constructor(
    private readonly routing: RoutingFile,
    private readonly prices: PriceBook,
    private readonly defaultProvider: string,
    private readonly configured: readonly string[],
    private readonly now: () => number,
  ) {
    let latency: LatencyBoard | undefined;
    for (const [name, route] of Object.entries(routing.routes)) {
      const strategy = strategyOf(route);
      if (strategy === 'ordered') continue;
      const targets = route.targets.map((t): PlannedTarget => ({ ...t, via: 'route' }));
      // Balanced among the deployments this pipeline can call; the others stay last, where fallback skips them.
      const deployments = targets.filter((t) => configured.includes(t.provider));
      const tail = targets.filter((t) => !configured.includes(t.provider));
      if (deployments.length < 2) continue;
      const balancer =
        strategy === 'weighted' ? new WeightedBalancer(deployments, tail) : new LeastLatencyBalancer(deployments, tail, (latency ??= new LatencyBoard()));
      this.balancers.set(name, balancer);
    }
    this.latency = latency;
  }

  plan(input: RoutingInput): readonly PlannedTarget[] {
    if (input.forcedProvider === undefined && this.balancers.size > 0) {
      const balancer = this.balancers.get(input.model);
      if (balancer) return balancer.next(this.now());
    }
    let plans = this.memo.get(input.tenant);
    if (!plans) this.memo.set(input.tenant, (plans = new Map()));
    const key = input.forcedProvider === undefined ? input.model : `${input.model}\u0000${input.forcedProvider}`;
    let plan = plans.get(key);
    if (!plan) {
      plan = planTargets(input, this.routing, this.prices, this.defaultProvider, this.configured);
      if (plans.size >= MAX_PLANS_PER_TENANT) plans.clear();
      plans.set(key, plan);
    }
    return plan;
  }

  /** A request's attempts (the answered one included), for least-latency routes. */
  observe(attempts: readonly Attempt[]): void {
    this.latency?.observe(attempts, this.now());
  }
}
