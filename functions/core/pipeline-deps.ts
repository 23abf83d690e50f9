// What every request pipeline (chat, embeddings) is built from.
import type { Accountant } from './accounting';
import type { CircuitBreaker } from './breaker';
import type { Cooldowns } from './cooldowns';
import type { BudgetGuard } from './budget';
import type { ProviderSettings, RoutingSettings, TelemetrySettings } from '../config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { PriceBook } from './pricing/pricing';
import type { Provider } from './providers/provider';
import type { TenantGate } from './tenant-gate';
import type { Telemetry } from './ports/telemetry';

export interface PipelineDeps {
  /** The default provider, the routing document, and the bounds on an upstream call. */
  config: ProviderSettings & RoutingSettings & Partial<TelemetrySettings>;
  providers: ReadonlyMap<string, Provider>;
  gate: TenantGate;
  breaker: CircuitBreaker;
  /** Deployments cooling down after an upstream's retry hint: skipped, or waited out once. */
  cooldowns: Cooldowns;
  accountant: Accountant;
  budget: BudgetGuard;
  prices: PriceBook;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** Where a provider attempt's CLIENT span goes; none are made when absent (NO_TELEMETRY). */
  telemetry?: Telemetry;
}
