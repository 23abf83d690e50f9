// Wires the core to its adapters and the configured providers: the stores config.storage selects
// (stores.ts), the limiter, cache, budget and breaker state (state.ts), the usage pipeline
// (usage/backends.ts), and metrics.
import { createStateStores, type StateStores } from './state';
import { createStores, type Stores } from './stores';
import { CachedTenantStore } from '../core/tenant-cache';
import { createUsagePipeline, createUsageStores, type UsagePipeline } from './usage/backends';
import { LazyBedrockProvider } from './bedrock/lazy';
import { MetricsRegistry } from './memory/metrics-registry';
import { CircuitBreaker } from '../core/breaker';
import { LeasedBudgetLedger } from '../core/budget-lease';
import { BREAKER_STATE_VALUE, METRIC, type Metrics } from '../core/metrics';
import type { GatewayConfig } from '../core/config';
import { Gateway } from '../core/gateway';
import type { Logger } from '../core/logger';
import { PriceBook } from '../core/pricing/pricing';
import { AnthropicProvider } from '../core/providers/anthropic';
import { OllamaProvider } from '../core/providers/ollama';
import { OpenAIProvider } from '../core/providers/openai';
import type { Provider } from '../core/providers/provider';

export interface ComposedGateway {
  metrics: MetricsRegistry;
  gateway: Gateway;
  stores: Stores;
  state: StateStores;
  usage: UsagePipeline;
}

export interface ComposeOptions {
  now?: () => number;
  /** Replaces the built-in provider of the same name (tests inject instrumented ones). */
  providers?: Provider[];
  /**
   * Lease budget headroom from a shared ledger and settle it once a second (default true): right
   * for long-running processes. A Lambda sets false: its environment can be frozen and recycled
   * holding a lease, so there each request reserves and settles in the shared ledger itself.
   */
  budgetLeases?: boolean;
  /** Wraps every provider (the Lambda entries add a trace subsegment per call). */
  wrapProvider?: (provider: Provider) => Provider;
  /** Receives the core's metrics instead of the in-process registry, and /metrics is not served (CloudWatch EMF in Lambda). */
  metrics?: Metrics;
}

export async function composeGateway(config: GatewayConfig, logger: Logger, opts: ComposeOptions = {}): Promise<ComposedGateway> {
  const now = opts.now ?? Date.now;
  const prices = new PriceBook(config.routing.prices);
  const byName = new Map<string, Provider>();
  const builtIn: Provider[] = [
    new OpenAIProvider({ ...config.openai, prices }),
    new AnthropicProvider({ ...config.anthropic, prices }),
    new LazyBedrockProvider({ region: config.bedrock.region, prices }),
    new OllamaProvider(config.ollama.baseUrl),
  ];
  for (const p of [...builtIn, ...(opts.providers ?? [])]) {
    byName.set(p.name, opts.wrapProvider ? opts.wrapProvider(p) : p);
  }
  const stores = await createStores(config, now);
  const state = await createStateStores(config, now, { dynamo: stores.dynamo });
  // A shared store is read through a short in-process cache (TENANT_CACHE_TTL); memory needs none.
  const tenants = stores.kind === 'memory'
    ? stores.tenants
    : new CachedTenantStore(stores.tenants, { ttlMs: config.tenantCacheTtlMs, negativeTtlMs: Math.min(1000, config.tenantCacheTtlMs), maxEntries: 10_000, now });
  const usage = await createUsagePipeline(config, await createUsageStores(config, state, now), logger);
  const metrics = new MetricsRegistry();
  const recorder: Metrics = opts.metrics ?? metrics;
  const onPhase = (provider: string, phase: keyof typeof BREAKER_STATE_VALUE): void => {
    recorder.gauge(METRIC.breakerState, { provider }, BREAKER_STATE_VALUE[phase]);
    logger.warn('circuit breaker changed state', { provider, state: phase });
  };
  for (const p of byName.values()) if (p.configured) recorder.gauge(METRIC.breakerState, { provider: p.name }, BREAKER_STATE_VALUE.closed);
  const gateway = new Gateway({
    config,
    providers: byName,
    tenants,
    limiter: state.limiter,
    cache: state.cache,
    breaker: new CircuitBreaker(state.breakerStore, config.routing.circuit_breaker, onPhase),
    usage: usage.sink,
    usageReader: usage.stores.store,
    budgetLedger: state.backends.budget !== 'memory' && opts.budgetLeases !== false ? new LeasedBudgetLedger(state.budgetLedger, logger) : state.budgetLedger,
    prices,
    logger,
    now,
    metrics: recorder,
    renderMetrics: opts.metrics ? undefined : () => metrics.render(),
  });
  return { gateway, stores, state, usage, metrics };
}
