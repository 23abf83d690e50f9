// The chat gateway's composition (the chat Lambda and the local server): the core wired to the
// stores on the backends selectBackends chose (../backends.ts), the configured providers, the
// usage pipeline and metrics.
import { selectBackends, type Backends } from '../backends';
import { MetricsRegistry } from '../memory/metrics-registry';
import { createStateStores, type StateStores } from '../state';
import type { OpenDatabase } from '../database';
import { createStores, type Stores } from '../stores';
import { createUsagePipeline, createUsageStores, type UsagePipeline } from '../usage/backends';
import { backendModelSources, configuredProviders } from './providers';
import { BackendModels } from '../../core/backend-models';
import { tenantLookup } from './tenant-lookup';
import { guardedUsageReader } from './usage-reader';
import { CircuitBreaker } from '../../core/breaker';
import { Cooldowns, sleep, type Sleep } from '../../core/cooldowns';
import type { Telemetry } from '../../core/ports/telemetry';
import { budgetLedgerStack } from '../../core/budget-stack';
import { BREAKER_STATE_VALUE, METRIC, type Metrics } from '../../core/metrics';
import type { GatewayConfig } from '../../config';
import { Gateway } from '../../core/gateway';
import type { Logger } from '../../core/logger';
import { PriceBook } from '../../core/pricing/pricing';
import type { ChatIngress } from '../../core/ingress/ingress';
import type { Provider } from '../../core/providers/provider';
import { StoreGuards } from '../../core/store-guard';
import type { CachedTenantStore } from '../../core/tenant-cache';

export interface ComposedGateway {
  metrics: MetricsRegistry;
  gateway: Gateway;
  stores: Stores;
  state: StateStores;
  usage: UsagePipeline;
  /** The guards of the shared stores (their status is on /health). */
  guards: StoreGuards;
  /** Which backend serves each family of stores, for the start-up log. */
  backends: Backends;
  /** The tenant cache in front of a shared tenant store (absent for memory). */
  tenantCache?: CachedTenantStore;
  /** The names of the providers that are configured (what the admin API's provider list shows). */
  configuredProviders: string[];
  /** Closes the connections this composition opened (Redis, PostgreSQL). */
  close(): Promise<void>;
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
  /** The client chat APIs served (the Gateway's default, OpenAI chat completions, when absent). */
  ingresses?: readonly ChatIngress[];
  /** The tenant, admin-user and audit stores to use instead of those the configuration selects. */
  stores?: Stores;
  /** How a request waits out a cooldown (COOLDOWN_RETRY); tests pass one that moves their clock. */
  sleep?: Sleep;
  /** Where the gateway's spans go (none are made when absent). */
  telemetry?: Telemetry;
  /** Opens PostgreSQL when DATABASE_URL selects it (the local server passes it; see ../database.ts). */
  openDatabase?: OpenDatabase;
}

export async function composeGateway(config: GatewayConfig, logger: Logger, opts: ComposeOptions = {}): Promise<ComposedGateway> {
  return assembleGateway(config, logger, await composeFoundation(config, logger, opts), opts);
}

/**
 * What a gateway stands on that the provider keys do not change: the stores, the usage pipeline,
 * the metrics and the store guards. The chat Lambda composes it while it reads the keys, and
 * keeps it when new keys recompose the gateway.
 */
export interface GatewayFoundation {
  stores: Stores;
  state: StateStores;
  usage: UsagePipeline;
  usageReader: ReturnType<typeof guardedUsageReader>;
  tenants: ReturnType<typeof tenantLookup>['tenants'];
  tenantCache?: CachedTenantStore;
  guards: StoreGuards;
  backends: Backends;
  metrics: MetricsRegistry;
  recorder: Metrics;
  /** A database this foundation opened, closed with the gateway (one passed in stays its owner's). */
  ownDatabase?: Stores['database'];
}

export async function composeFoundation(config: GatewayConfig, logger: Logger, opts: ComposeOptions = {}): Promise<GatewayFoundation> {
  const now = opts.now ?? Date.now;
  const metrics = new MetricsRegistry();
  const recorder: Metrics = opts.metrics ?? metrics;
  const guards = new StoreGuards({ now, logger, metrics: recorder });
  const backends = selectBackends(config);
  const stores = opts.stores ?? (await createStores(config, now, { open: opts.openDatabase, logger }));
  const ownDatabase = opts.stores ? undefined : stores.database;
  const state = await createStateStores(config, backends, now, guards, logger, { dynamo: stores.requestPathDynamo, database: stores.database });
  const { tenants, cache: tenantCache } = tenantLookup(config, stores, guards, now);
  // Applying usage is not on the request path: it gets the patient DynamoDB client (retries, longer
  // deadlines), so a slow store delays it instead of failing it.
  const usageStores = await createUsageStores(
    config,
    { dynamo: stores.dynamo, requestPathDynamo: stores.requestPathDynamo, redis: state.redis, database: stores.database },
    now,
    backends,
  );
  const usage = await createUsagePipeline(config, usageStores, logger);
  const usageReader = guardedUsageReader(usageStores, guards);
  return { stores, state, usage, usageReader, tenants, tenantCache, guards, backends, metrics, recorder, ownDatabase };
}

/** The gateway over a foundation, with the providers of `config` (whose keys it holds). */
export function assembleGateway(config: GatewayConfig, logger: Logger, foundation: GatewayFoundation, opts: ComposeOptions = {}): ComposedGateway {
  const now = opts.now ?? Date.now;
  const { stores, state, usage, usageReader, tenants, tenantCache, guards, backends, metrics, recorder, ownDatabase } = foundation;
  const prices = new PriceBook(config.routing.prices);
  const byName = new Map<string, Provider>();
  for (const p of [...configuredProviders(config, prices), ...(opts.providers ?? [])]) {
    byName.set(p.name, opts.wrapProvider ? opts.wrapProvider(p) : p);
  }
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
    responses: state.responses,
    breaker: new CircuitBreaker(state.breakerStore, config.routing.circuit_breaker, onPhase),
    cooldowns: new Cooldowns(state.cooldownStore, config.cooldowns, now, opts.sleep ?? sleep),
    usage: usage.sink,
    usageReader,
    budgetLedger: budgetLedgerStack(state.budgetLedger, {
      guard: state.budgetGuard,
      leases: opts.budgetLeases !== false,
      failureMode: config.stores.failureMode,
      logger,
    }),
    prices,
    logger,
    now,
    metrics: recorder,
    renderMetrics: opts.metrics ? undefined : () => metrics.render(),
    storeStatus: () => guards.statuses(),
    ingresses: opts.ingresses,
    telemetry: opts.telemetry,
    backendModels: new BackendModels(backendModelSources(config), now, logger),
  });
  const close = async (): Promise<void> => {
    await state.close();
    await ownDatabase?.close();
  };
  const configured = [...byName.values()].filter((p) => p.configured).map((p) => p.name);
  return { gateway, stores, state, usage, metrics, guards, backends, tenantCache, configuredProviders: configured, close };
}
