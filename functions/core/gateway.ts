// The gateway's public HTTP contract, independent of any server: routes an ApiRequest to the
// chat pipeline, the models list or the health report, and shapes every error the OpenAI way.
import { jsonResponse, type ApiRequest, type ApiResponse } from './api-types';
import { ChatPipeline, type ChatDeps, type RequestIds } from './chat-pipeline';
import { PROVIDER_NAMES } from './config';
import { GatewayError, notFound, toGatewayError } from './errors';
import type { ModelObject } from './openai-types';
import type { ProviderHealth } from './providers/provider';

const HEALTH_CACHE_MS = 5000;

type Handler = (req: ApiRequest, ids: RequestIds) => Promise<ApiResponse>;

export class Gateway {
  private readonly chat: ChatPipeline;
  private readonly routes: Record<string, Record<string, Handler>>;
  private healthCache: { atMs: number; providers: Promise<Record<string, ProviderHealth>> } | undefined;

  constructor(private readonly deps: ChatDeps) {
    this.chat = new ChatPipeline(deps);
    this.routes = {
      '/health': { GET: () => this.health() },
      '/v1/models': { GET: (req) => this.models(req) },
      '/v1/chat/completions': { POST: (req, ids) => this.chat.handle(req, ids) },
    };
  }

  /** Never throws: every failure becomes an OpenAI-shaped error response. */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    const ids = ChatPipeline.requestIds(req);
    try {
      const route = this.routes[req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path];
      if (!route) throw notFound(`Unknown path: ${req.method} ${req.path}.`);
      const handler = route[req.method];
      if (!handler) {
        throw new GatewayError(405, `Method ${req.method} is not allowed on ${req.path}; use ${Object.keys(route).join(', ')}.`, {
          code: 'method_not_allowed', headers: { allow: Object.keys(route).join(', ') },
        });
      }
      if (req.body.length > this.deps.config.maxBodyBytes) throw bodyTooLarge(this.deps.config.maxBodyBytes);
      return await handler(req, ids);
    } catch (err) {
      const error = toGatewayError(err);
      if (error.status >= 500 && !(err instanceof GatewayError)) {
        this.deps.logger.error('unhandled error', { request_id: ids.requestId, error: err instanceof Error ? err.stack : String(err) });
      }
      const idHeaders: Record<string, string> = { 'x-request-id': ids.requestId };
      if (ids.correlationId) idHeaders['x-correlation-id'] = ids.correlationId;
      return jsonResponse(error.status, error.toBody(), { ...idHeaders, ...error.headers });
    }
  }

  private async health(): Promise<ApiResponse> {
    const now = this.deps.now();
    if (!this.healthCache || now - this.healthCache.atMs > HEALTH_CACHE_MS) {
      this.healthCache = { atMs: now, providers: this.probeProviders() };
    }
    const providers = await this.healthCache.providers;
    const phases = await this.deps.breaker.phases();
    const breakers = Object.fromEntries(
      [...this.deps.providers.values()].filter((p) => p.configured).map((p) => [p.name, phases[p.name] ?? 'closed']),
    );
    const healthy = Object.values(providers).some((h) => h === 'ok');
    return jsonResponse(200, { status: healthy ? 'healthy' : 'degraded', version: this.deps.config.version, providers, circuit_breakers: breakers });
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
    await this.chat.authenticate(req);
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

  private modelInfo(provider: string, model: string): Record<string, unknown> {
    if (provider === 'ollama') return { provider, input_per_mtok: 0, output_per_mtok: 0 };
    const price = this.deps.prices.lookup(model);
    return price
      ? { provider, input_per_mtok: price.input_per_mtok, output_per_mtok: price.output_per_mtok, cache_read_per_mtok: price.cache_read_per_mtok ?? null }
      : { provider };
  }
}

export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError(413, `The request body exceeds the ${limit}-byte limit (MAX_BODY_BYTES).`, { code: 'request_too_large' });
}
