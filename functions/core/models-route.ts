// GET /v1/models and GET /v1/models/{id}: the route aliases, then every configured provider's
// models, each with its provider and price under `x_gateway`, as far as the tenant's
// `allowed_models` lets it see them. A model id may hold `/` and `:` (`ollama/llama3.2`,
// `anthropic.claude-3-haiku-20240307-v1:0`), so the id is the whole rest of the path.
import { routedPath } from './api-shell';
import { jsonResponse, type ApiRequest, type ApiResponse } from './api-types';
import { GatewayError } from './errors';
import type { Logger } from './logger';
import type { ModelObject } from './openai-types';
import type { Tenant } from './ports';
import type { PriceBook } from './pricing/pricing';
import type { Provider } from './providers/provider';
import type { RoutingSettings } from '../config';
import type { BackendModels } from './backend-models';
import { isBuiltInProvider, providerType } from './provider-names';

export const MODELS_PATH = '/v1/models';
/** The retrieve route, a prefix route of the API shell. */
export const MODEL_PATH = `${MODELS_PATH}/*`;

export interface ModelsRouteDeps {
  /** The request's tenant by its key; throws 401/403 (see `authenticateTenant`). */
  authenticate: (req: ApiRequest) => Promise<Tenant>;
  routing: RoutingSettings['routing'];
  providers: ReadonlyMap<string, Provider>;
  prices: PriceBook;
  logger: Logger;
  /** What OpenAI-compatible named backends list themselves; absent: none is asked. */
  backendModels?: BackendModels;
}

/** One listed model and the names a client may retrieve it by. */
interface ListedModel {
  object: ModelObject;
  /** The provider serving it; absent for a route alias. */
  provider?: string;
}

export class ModelsRoute {
  constructor(private readonly deps: ModelsRouteDeps) {}

  async list(req: ApiRequest): Promise<ApiResponse> {
    const tenant = await this.deps.authenticate(req);
    const models = await this.visible(tenant);
    return jsonResponse(200, { object: 'list', data: models.map((m) => m.object) });
  }

  /** A listed model by its id, or by `provider/id` for a provider's model; 404 for any other. */
  async retrieve(req: ApiRequest): Promise<ApiResponse> {
    const tenant = await this.deps.authenticate(req);
    const id = modelIdOf(req.path);
    const models = await this.visible(tenant);
    const found = models.find((m) => m.object.id === id) ?? models.find((m) => m.provider !== undefined && `${m.provider}/${m.object.id}` === id);
    if (!found) {
      throw new GatewayError(404, `The model '${id}' does not exist or you do not have access to it.`, {
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      });
    }
    return jsonResponse(200, { ...found.object, id });
  }

  /** Every model the tenant may use: with `allowed_models` set, those whose id, `provider/id` or alias is on it. */
  private async visible(tenant: Tenant): Promise<ListedModel[]> {
    const models = await this.all();
    const allowed = tenant.allowed_models;
    if (allowed.length === 0) return models;
    return models.filter((m) => allowed.includes(m.object.id) || (m.provider !== undefined && allowed.includes(`${m.provider}/${m.object.id}`)));
  }

  private async all(): Promise<ListedModel[]> {
    const aliases = Object.entries(this.deps.routing.routes).map(
      ([alias, route]): ListedModel => ({ object: { id: alias, object: 'model', created: 0, owned_by: 'gateway', x_gateway: { route: route.targets } } }),
    );
    const lists = await Promise.all(
      [...this.deps.providers.values()]
        .filter((p) => p.configured)
        .map(async (p): Promise<ListedModel[]> => {
          try {
            const [own, served] = await Promise.all([p.listModels(), this.deps.backendModels?.of(p.name) ?? []]);
            const listed = withConfigured(own, [...this.configuredModels(p.name), ...served], p.name);
            return listed.map((m) => ({ object: { ...m, x_gateway: this.modelInfo(p.name, m.id) }, provider: p.name }));
          } catch (err) {
            this.deps.logger.warn('could not list models', { provider: p.name, error: (err as Error).message });
            return [];
          }
        }),
    );
    return aliases.concat(...lists);
  }

  /**
   * The models the routing document sends to a named provider (its default_model, route targets);
   * none for a built-in one, whose list is the catalog's (or its server's).
   */
  private configuredModels(provider: string): string[] {
    if (isBuiltInProvider(provider)) return [];
    const { routing } = this.deps;
    const models = new Set<string>();
    const fallbackModel = routing.providers[provider]?.default_model;
    if (fallbackModel) models.add(fallbackModel);
    for (const route of Object.values(routing.routes)) for (const t of route.targets) if (t.provider === provider) models.add(t.model);
    return [...models];
  }

  private modelInfo(provider: string, model: string): Record<string, unknown> {
    if (providerType(provider, this.deps.routing) === 'ollama') return { provider, input_per_mtok: 0, output_per_mtok: 0 };
    const price = this.deps.prices.lookup(model);
    return price
      ? { provider, input_per_mtok: price.input_per_mtok, output_per_mtok: price.output_per_mtok, cache_read_per_mtok: price.cache_read_per_mtok ?? null }
      : { provider };
  }
}

/** A provider's own list with the configured (and backend-listed) models it lacks added, owned by the provider. */
function withConfigured(listed: ModelObject[], configured: readonly string[], provider: string): ModelObject[] {
  const ids = new Set(listed.map((m) => m.id));
  const added = configured.filter((id) => !ids.has(id)).map((id): ModelObject => ({ id, object: 'model', created: 0, owned_by: provider }));
  return listed.concat(added);
}

/** The id in a retrieve path, percent-decoded (SDKs encode the `/` in `ollama/llama3.2`). */
function modelIdOf(path: string): string {
  const raw = routedPath(path).slice(MODELS_PATH.length + 1);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // not percent-encoding after all: the id as it came
  }
}
