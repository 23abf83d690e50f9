// Wires the core to its in-memory adapters and the configured providers: the local embedded default.
import { MemoryBreakerStore } from '../adapters/memory/breaker-store';
import { MemoryRateLimiter } from '../adapters/memory/rate-limiter';
import { MemoryResponseCache } from '../adapters/memory/response-cache';
import { MemoryTenantStore } from '../adapters/memory/tenant-store';
import { MemoryUsagePipeline } from '../adapters/memory/usage';
import { CircuitBreaker } from '../core/breaker';
import type { GatewayConfig } from '../core/config';
import { Gateway } from '../core/gateway';
import type { Logger } from '../core/logger';
import { PriceBook } from '../core/pricing/pricing';
import { OllamaProvider } from '../core/providers/ollama';
import { OpenAIProvider } from '../core/providers/openai';
import type { Provider } from '../core/providers/provider';

export interface LocalGateway {
  gateway: Gateway;
  tenants: MemoryTenantStore;
  usage: MemoryUsagePipeline;
}

export function composeLocalGateway(config: GatewayConfig, logger: Logger, now: () => number = Date.now): LocalGateway {
  const prices = new PriceBook(config.routing.prices);
  const providers: Provider[] = [
    new OpenAIProvider({ ...config.openai, prices }),
    new OllamaProvider(config.ollama.baseUrl),
  ];
  const tenants = new MemoryTenantStore();
  const usage = new MemoryUsagePipeline();
  const gateway = new Gateway({
    config,
    providers: new Map(providers.map((p) => [p.name, p])),
    tenants,
    limiter: new MemoryRateLimiter(),
    cache: new MemoryResponseCache(config.routing.cache.max_bytes),
    breaker: new CircuitBreaker(new MemoryBreakerStore(), config.routing.circuit_breaker),
    usage,
    prices,
    logger,
    now,
  });
  return { gateway, tenants, usage };
}
