// resolveTargets: which provider (and model name there) serves a requested model.
import { parseRoutingJson, type RouteTarget, type RoutingFile } from '../../functions/config';
import { GatewayError } from '../../functions/core/errors';
import type { Tenant } from '../../functions/core/ports';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { planTargets, resolveTargets } from '../../functions/core/routing';
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

  it("uses the tenant's default_provider before DEFAULT_PROVIDER for an unknown model", () => {
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

describe('planTargets: the resolved target plus provider-level fallbacks', () => {
  const all = ['openai', 'anthropic', 'bedrock', 'ollama'];
  const plan = (model: string, opts: { forced?: string; tenant?: Tenant; configured?: string[]; file?: Record<string, unknown> } = {}): string[] =>
    planTargets(
      { model, forcedProvider: opts.forced, tenant: opts.tenant ?? tenant },
      opts.file ? parseRoutingJson(opts.file, 'test') : routing,
      prices,
      'ollama',
      opts.configured ?? all,
    ).map((t) => `${t.via}:${t.provider}/${t.model}`);

  it('follows a known model with every other configured provider in the order openai, anthropic, bedrock, ollama, each on its default model', () => {
    expect(plan('gpt-4o')).toEqual([
      'primary:openai/gpt-4o',
      'fallback:anthropic/claude-haiku-4-5',
      'fallback:bedrock/anthropic.claude-3-haiku-20240307-v1:0',
      'fallback:ollama/llama3.2',
    ]);
  });

  it('leaves out providers that are not configured', () => {
    expect(plan('gpt-4o', { configured: ['openai', 'ollama'] })).toEqual(['primary:openai/gpt-4o', 'fallback:ollama/llama3.2']);
  });

  it("uses a route alias's own targets only", () => {
    expect(plan('smart')).toEqual(['route:openai/gpt-4o', 'route:ollama/llama3.2']);
  });

  it('gives a forced provider and an unconfigured primary no fallback', () => {
    expect(plan('gpt-4o', { forced: 'openai' })).toEqual(['primary:openai/gpt-4o']);
    expect(plan('claude-haiku-4-5', { configured: ['openai', 'ollama'] })).toEqual(['primary:anthropic/claude-haiku-4-5']);
  });

  it('keeps the requested model on a fallback provider the catalog says serves it', () => {
    const file = { fallback: { explicit: true } };
    expect(plan('ollama/gpt-4o', { configured: ['openai', 'ollama'], file })).toEqual(['primary:ollama/gpt-4o', 'fallback:openai/gpt-4o']);
  });

  it('gives a model named with its provider no fallback unless the config allows it or the tenant lists its own', () => {
    expect(plan('ollama/llama3.2', { configured: ['openai', 'ollama'] })).toEqual(['primary:ollama/llama3.2']);
    expect(plan('llama3.2', { configured: ['openai', 'ollama'], forced: 'ollama' })).toEqual(['primary:ollama/llama3.2']);
    expect(plan('llama3.2', { configured: ['openai', 'ollama'], forced: 'ollama', file: { fallback: { explicit: true } } })).toEqual([
      'primary:ollama/llama3.2',
      'fallback:openai/gpt-4o-mini',
    ]);
    expect(plan('ollama/llama3.2', { configured: ['openai', 'ollama'], tenant: { ...tenant, fallback_providers: ['anthropic', 'openai'] } })).toEqual([
      'primary:ollama/llama3.2',
      'fallback:openai/gpt-4o-mini',
    ]);
    // A bare name follows the configured fallback as before.
    expect(plan('gpt-4o-mini', { configured: ['openai', 'ollama'] })).toEqual(['primary:openai/gpt-4o-mini', 'fallback:ollama/llama3.2']);
  });

  it('routes to named providers by prefix, X-Provider and fallback list; a named one falls back only to its default_model', () => {
    const file = {
      providers: {
        groq: { type: 'openai', base_url: 'http://127.0.0.1:1/v1', default_model: 'llama-3.1-8b-instant' },
        'vllm-b': { type: 'openai', base_url: 'http://127.0.0.1:2/v1' },
      },
      fallback_providers: ['vllm-b', 'groq'],
    };
    const configured = ['openai', 'groq', 'vllm-b'];
    expect(plan('groq/llama-3.3-70b', { configured, file })).toEqual(['primary:groq/llama-3.3-70b']);
    expect(plan('llama-3.3-70b', { configured, file, forced: 'GROQ' })).toEqual(['primary:groq/llama-3.3-70b']);
    // A bare name: vllm-b has no default_model, so only groq takes over.
    expect(plan('gpt-4o', { configured, file })).toEqual(['primary:openai/gpt-4o', 'fallback:groq/llama-3.1-8b-instant']);
    expect(thrownBy(() => plan('m', { configured, file, forced: 'mistral' }))).toMatchObject({ status: 400, message: expect.stringContaining('groq, vllm-b') });
  });

  it("takes providers.<name>.default_model, the config's fallback_providers, and the tenant's list over both", () => {
    expect(plan('gpt-4o', { file: { providers: { ollama: { default_model: 'qwen3' } }, fallback_providers: ['ollama'] } })).toEqual([
      'primary:openai/gpt-4o',
      'fallback:ollama/qwen3',
    ]);
    expect(plan('gpt-4o', { file: { fallback_providers: [] } })).toEqual(['primary:openai/gpt-4o']);
    expect(plan('gpt-4o', { file: { fallback_providers: [] }, tenant: { ...tenant, fallback_providers: ['anthropic'] } })).toEqual([
      'primary:openai/gpt-4o',
      'fallback:anthropic/claude-haiku-4-5',
    ]);
  });

  it('places Bedrock model ids, with or without an inference-profile prefix, on bedrock', () => {
    expect(plan('us.anthropic.claude-sonnet-4-5-20250929-v1:0', { configured: ['bedrock'] })).toEqual([
      'primary:bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]);
    expect(plan('mistral.mistral-large-2407-v1:0', { configured: ['bedrock'] })).toEqual(['primary:bedrock/mistral.mistral-large-2407-v1:0']);
  });
});
