// Model resolution: which provider (and which model name there) serves a requested model.
import { PROVIDER_NAMES, type RouteTarget, type RoutingFile } from './config';
import { GatewayError } from './errors';
import type { Tenant } from './ports';
import type { PriceBook } from './pricing/pricing';

const OPENAI_MODEL = /^(gpt-|chatgpt-|text-embedding-|o\d+(-|$)|dall-e-|whisper-|tts-|omni-moderation)/;
const ANTHROPIC_MODEL = /^claude-/;

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
  if (Object.hasOwn(routing.routes, input.model)) return (routing.routes[input.model] as { targets: RouteTarget[] }).targets;

  const slash = input.model.indexOf('/');
  if (slash > 0) {
    const prefix = input.model.slice(0, slash).toLowerCase();
    if (isProviderName(prefix)) return [{ provider: prefix, model: input.model.slice(slash + 1) }];
  }
  if (input.forcedProvider !== undefined) {
    const forced = input.forcedProvider.toLowerCase();
    if (!isProviderName(forced)) {
      throw new GatewayError(400, `Unknown provider "${input.forcedProvider}" in X-Provider; expected one of ${PROVIDER_NAMES.join(', ')}.`, {
        param: 'X-Provider', code: 'invalid_provider',
      });
    }
    return [{ provider: forced, model: input.model }];
  }
  const known = catalogProvider(input.model, prices);
  if (known) return [{ provider: known, model: input.model }];
  return [{ provider: input.tenant.default_provider ?? defaultProvider, model: input.model }];
}

/** The provider that the catalog (or a well-known name pattern) says serves this model. */
export function catalogProvider(model: string, prices: PriceBook): string | undefined {
  const listed = prices.lookup(model)?.provider;
  if (listed) return listed;
  if (OPENAI_MODEL.test(model)) return 'openai';
  if (ANTHROPIC_MODEL.test(model)) return 'anthropic';
  return undefined;
}

function isProviderName(name: string): boolean {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}
