// resolveTargets: which provider (and model name there) serves a requested model.
import { parseRoutingJson, type RouteTarget, type RoutingFile } from '../../functions/core/config';
import { GatewayError } from '../../functions/core/errors';
import type { Tenant } from '../../functions/core/ports';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { resolveTargets } from '../../functions/core/routing';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { thrownBy } from './fixture-files';

const smartTargets: RouteTarget[] = [
  { provider: 'openai', model: 'gpt-4o' },
  { provider: 'ollama', model: 'llama3.2' },
];
const routing: RoutingFile = parseRoutingJson({ routes: { smart: { targets: smartTargets } } }, 'test');
const prices = new PriceBook();
const tenant: Tenant = { ...DEFAULT_TENANT };

function resolve(model: string, opts: { forced?: string; tenant?: Tenant; defaultProvider?: string } = {}): RouteTarget[] {
  return resolveTargets({ model, forcedProvider: opts.forced, tenant: opts.tenant ?? tenant }, routing, prices, opts.defaultProvider ?? 'ollama');
}

describe('resolveTargets', () => {
  it('expands a route alias to its targets, in order', () => {
    expect(resolve('smart')).toEqual(smartTargets);
  });

  it('routes "openai/gpt-4o" to openai with the bare model name', () => {
    expect(resolve('openai/gpt-4o')).toEqual([{ provider: 'openai', model: 'gpt-4o' }]);
  });

  it('routes "ollama/llama3.2" to ollama with the bare model name', () => {
    expect(resolve('ollama/llama3.2', { defaultProvider: 'openai' })).toEqual([{ provider: 'ollama', model: 'llama3.2' }]);
  });

  it('sends a name with an unknown prefix ("meta/llama") to the default provider under its full name', () => {
    expect(resolve('meta/llama', { defaultProvider: 'openai' })).toEqual([{ provider: 'openai', model: 'meta/llama' }]);
    expect(resolve('meta/llama', { defaultProvider: 'ollama' })).toEqual([{ provider: 'ollama', model: 'meta/llama' }]);
  });

  it('lets X-Provider force the provider, even for a model the catalog places elsewhere', () => {
    expect(resolve('gpt-4o', { forced: 'ollama' })).toEqual([{ provider: 'ollama', model: 'gpt-4o' }]);
    expect(resolve('llama3.2', { forced: 'OpenAI' })).toEqual([{ provider: 'openai', model: 'llama3.2' }]);
  });

  it('rejects an unknown X-Provider with a 400 naming the header', () => {
    const err = thrownBy(() => resolve('gpt-4o', { forced: 'mistral' }));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).param).toBe('X-Provider');
    expect((err as GatewayError).message).toContain('mistral');
  });

  it.each(['gpt-4o', 'gpt-4o-mini', 'o3-mini', 'text-embedding-3-small'])('routes %s to openai by default', (model) => {
    expect(resolve(model, { defaultProvider: 'ollama' })).toEqual([{ provider: 'openai', model }]);
  });

  it.each(['claude-x', 'claude-haiku-4-5'])('routes %s to anthropic', (model) => {
    expect(resolve(model, { defaultProvider: 'ollama' })).toEqual([{ provider: 'anthropic', model }]);
  });

  it('uses the tenant\'s default_provider before DEFAULT_PROVIDER for an unknown model', () => {
    const t: Tenant = { ...DEFAULT_TENANT, default_provider: 'openai' };
    expect(resolve('llama3.2', { tenant: t, defaultProvider: 'ollama' })).toEqual([{ provider: 'openai', model: 'llama3.2' }]);
  });

  it('sends an unknown model to DEFAULT_PROVIDER', () => {
    expect(resolve('llama3.2', { defaultProvider: 'ollama' })).toEqual([{ provider: 'ollama', model: 'llama3.2' }]);
    expect(resolve('mistral-small', { defaultProvider: 'openai' })).toEqual([{ provider: 'openai', model: 'mistral-small' }]);
  });

  // Model names are client input; names that happen to be Object.prototype members are not routes.
  it('treats model names that are Object.prototype members ("constructor", "toString") as ordinary unknown models', () => {
    for (const model of ['constructor', 'toString', 'hasOwnProperty']) {
      expect(resolve(model, { defaultProvider: 'ollama' })).toEqual([{ provider: 'ollama', model }]);
    }
  });
});
